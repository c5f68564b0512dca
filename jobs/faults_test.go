package jobs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/asynqtest"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// The fault tests (issue 8) run in-process worker pools (asynq.Server on a
// Mux) and a Coordinator daemon (Run) against dedicated redis-server
// processes, break something in the middle of a job, and check that every
// job still ends with every output recorded once and one committed result
// equal to the fault-free one. They assert correctness only; the recovery
// times they log are observations (docs/RELIABILITY.md).
//
// Sizes: the default sizes fit the CI budget; FANIN_FULL=1 runs the full
// sizes of issue 8 with the same test bodies.

// fullEnv selects the full sizes.
const fullEnv = "FANIN_FULL"

// fullSize reports whether the full sizes were asked for.
func fullSize() bool { return os.Getenv(fullEnv) == "1" }

// bySize returns small, or big under FANIN_FULL=1.
func bySize(small, big int) int {
	if fullSize() {
		return big
	}
	return small
}

// faultKind is the kind of the fault tests' jobs: each event {"n": n} gives
// {"n": n, "sq": n*n}, a pure function of the input.
const faultKind = "fault.square"

// bigKind is the kind whose output is as large as its payload asks.
const bigKind = "fault.big"

type faultIn struct {
	N int `json:"n"`
}

type faultOut struct {
	N  int `json:"n"`
	Sq int `json:"sq"`
}

// registerFault registers the handler of faultKind on mux; each event takes
// delay, so that a fault lands in the middle of a job.
func registerFault(mux *Mux, delay time.Duration) error {
	// bigKind's output is as many bytes as its payload says.
	err := HandleRaw(mux, bigKind, func(_ context.Context, payload []byte) ([]byte, error) {
		n, err := strconv.Atoi(string(payload))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		return make([]byte, n), nil
	})
	if err != nil {
		return err
	}
	return Handle(mux, faultKind, func(ctx context.Context, in faultIn) (faultOut, error) {
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return faultOut{}, ctx.Err()
			case <-t.C:
			}
		}
		return faultOut{N: in.N, Sq: in.N * in.N}, nil
	})
}

// digest is the result of the fault tests' reducer: the number of outputs
// and a SHA-256 over the (event ID, output) pairs in event-ID order. Two
// runs of the same job agree on it exactly when they recorded the same
// outputs.
type digest struct {
	Outputs int    `json:"outputs"`
	SHA256  string `json:"sha256"`
}

func digestOf(outs []workoutput.Output) []byte {
	slices.SortFunc(outs, func(a, b workoutput.Output) int {
		switch {
		case a.EventID < b.EventID:
			return -1
		case a.EventID > b.EventID:
			return 1
		}
		return 0
	})
	h := sha256.New()
	for _, o := range outs {
		fmt.Fprintf(h, "%s\x00%s\n", o.EventID, o.Value)
	}
	b, _ := json.Marshal(digest{Outputs: len(outs), SHA256: hex.EncodeToString(h.Sum(nil))})
	return b
}

// digestReducer reduces a job to its digest.
func digestReducer() Reducer {
	return ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		var outs []workoutput.Output
		for o, err := range in.Outputs() {
			if err != nil {
				return nil, err
			}
			outs = append(outs, workoutput.Output{EventID: o.EventID, Value: slices.Clone(o.Value)})
		}
		return digestOf(outs), nil
	})
}

// faultEvents returns n events with generated IDs, whose payloads start at
// base, and the result a fault-free run of them commits.
func faultEvents(t testing.TB, n, base int) ([]Event, []byte) {
	t.Helper()
	events := make([]Event, n)
	outs := make([]workoutput.Output, n)
	for i := range events {
		e, err := JSONEvent("", faultIn{N: base + i})
		if err != nil {
			t.Fatal(err)
		}
		events[i] = e
		v, _ := json.Marshal(faultOut{N: base + i, Sq: (base + i) * (base + i)})
		outs[i] = workoutput.Output{EventID: workoutput.GeneratedID(int64(i)), Value: v}
	}
	return events, digestOf(outs)
}

// commitLog is a Sink that records every committed result it receives: one
// entry per commit of the coordinator that owns it.
type commitLog struct {
	mu      sync.Mutex
	commits map[string][]Outcome
}

func newCommitLog() *commitLog { return &commitLog{commits: map[string][]Outcome{}} }

func (l *commitLog) Write(_ context.Context, out Outcome) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.commits[out.JobID] = append(l.commits[out.JobID], out)
	return nil
}

func (l *commitLog) of(jobID string) []Outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.commits[jobID])
}

func (l *commitLog) jobs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for id := range l.commits {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// deployment is one fanin deployment in this process: a namespace, an
// events queue and a collect queue, worker pools and a coordinator daemon.
type deployment struct {
	name     string
	ns       string
	queue    string
	collect  string
	store    *workoutput.Store // the producer's and the observer's store
	producer *Producer
	commits  *commitLog
	coord    *Coordinator
	observer redis.UniversalClient // a client of the test's own
	addPool  func()                // starts one more worker pool
}

// deploymentOptions configures startDeployment.
type deploymentOptions struct {
	name        string        // namespace "<name>:", queues "<name>-events", "<name>-collect"
	pools       int           // worker pools (each with its own client), default 1
	concurrency int           // per pool, default 4
	delay       time.Duration // per event
	chunk       int           // events per task, default 100
	noWorkers   bool          // start the coordinator only
	replicaAcks int           // workoutput.Config.ReplicaAcks of every component
}

// startDeployment starts worker pools and a coordinator daemon, each
// component with its own client from newClient, as separate processes
// would have. Everything stops when the test ends.
func startDeployment(t *testing.T, newClient func() redis.UniversalClient, o deploymentOptions) *deployment {
	t.Helper()
	o.pools = max(o.pools, 1)
	if o.concurrency == 0 {
		o.concurrency = 4
	}
	d := &deployment{
		name: o.name, ns: o.name + ":", queue: o.name + "-events", collect: o.name + "-collect",
		commits: newCommitLog(),
	}
	cfg := workoutput.Config{Namespace: d.ns, ReplicaAcks: o.replicaAcks}
	pc := newClient()
	d.store = newStore(t, pc, cfg)
	p, err := NewProducer(pc, d.store, ProducerConfig{Queue: d.queue, CollectQueue: d.collect, ChunkSize: cmpOr(o.chunk, 100)})
	if err != nil {
		t.Fatal(err)
	}
	d.producer = p
	d.observer = pc
	d.addPool = func() {
		wc := newClient()
		mux, err := NewMux(wc, newStore(t, wc, cfg), MuxConfig{CollectQueue: d.collect})
		if err != nil {
			t.Fatal(err)
		}
		if err := registerFault(mux, o.delay); err != nil {
			t.Fatal(err)
		}
		startQueuePool(t, wc, d.queue, o.concurrency, mux)
	}
	if !o.noWorkers {
		for range o.pools {
			d.addPool()
		}
	}
	cc := newClient()
	d.coord = newCoordinator(t, cc, newStore(t, cc, cfg), CoordinatorConfig{
		Queue: d.collect, LockTTL: 2 * time.Second, SweepInterval: 500 * time.Millisecond,
		TaskCheckInterval: 100 * time.Millisecond, Sinks: []Sink{d.commits}, Logger: faultLogger(t, o.name),
	})
	for _, kind := range []string{faultKind, bigKind} {
		if err := d.coord.Handle(kind, digestReducer()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.coord.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: coordinator Run: %v", o.name, err)
		}
	})
	return d
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// faultLogger returns the coordinator's logger: discarded, or on stderr
// with FANIN_FAULT_LOG=1 (to watch a fault test recover).
func faultLogger(t *testing.T, name string) *slog.Logger {
	if os.Getenv("FANIN_FAULT_LOG") != "1" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name(), "deployment", name)
}

// startQueuePool starts an Asynq server serving handler on queue, shut down
// when the test ends. Its intervals are short so that retries and delayed
// tasks move quickly.
func startQueuePool(t testing.TB, client redis.UniversalClient, queue string, concurrency int, handler asynq.Handler) {
	t.Helper()
	srv := asynq.NewServerFromRedisClient(client, poolConfig(queue, concurrency))
	if err := srv.Start(handler); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// poolConfig is the Asynq configuration of the fault tests' worker pools,
// in this process or in worker processes.
func poolConfig(queue string, concurrency int) asynq.Config {
	return asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{queue: 1},
		TaskCheckInterval:        20 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 100 * time.Millisecond },
		ShutdownTimeout:          5 * time.Second,
		Logger:                   poolLogger(),
	}
}

// poolLogger returns the worker pools' Asynq logger: discarded, or on
// stderr with FANIN_FAULT_LOG=1.
func poolLogger() asynq.Logger {
	if os.Getenv("FANIN_FAULT_LOG") != "1" {
		return quietLogger{}
	}
	return asynqLogger{slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "pool")}
}

// submit submits n fault events (high MaxRetry: faults cost retries) and
// returns the job ID and its expected result.
func (d *deployment) submit(t *testing.T, n, base int, spec workoutput.Spec) (string, []byte) {
	t.Helper()
	events, want := faultEvents(t, n, base)
	spec.Kind = faultKind
	spec.MaxRetry = cmpOr(spec.MaxRetry, 25)
	id, err := d.producer.Submit(context.Background(), spec, events)
	if err != nil {
		t.Fatalf("%s: Submit: %v", d.name, err)
	}
	return id, want
}

// waitEnd polls the job until it reaches a terminal state, ignoring errors
// (Redis may be down), and fails the test after bound (a hang guard, not a
// speed assertion: bounds are minutes).
func (d *deployment) waitEnd(t *testing.T, id string, bound time.Duration) workoutput.Status {
	t.Helper()
	var (
		st      workoutput.Status
		lastErr error
	)
	var goneSince time.Time
	for end := time.Now().Add(bound); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := d.store.Status(ctx, id)
		cancel()
		switch {
		case errors.Is(err, workoutput.ErrJobNotFound) && goneSince.IsZero():
			goneSince = time.Now()
		case errors.Is(err, workoutput.ErrJobNotFound) && time.Since(goneSince) > 30*time.Second:
			d.diagnose(t, id)
			t.Fatalf("%s: job %s vanished: no data for 30 s (its meta was lost: with asynchronous replication, a failover loses what the replica had not received; see docs/RELIABILITY.md)", d.name, id)
		case err == nil:
			goneSince = time.Time{}
		}
		if err != nil {
			lastErr = err
			continue
		}
		st = s
		if st.State.Terminal() {
			return st
		}
	}
	d.diagnose(t, id)
	t.Fatalf("%s: job %s did not end within %v: %+v (last error: %v)", d.name, id, bound, st, lastErr)
	return st
}

// diagnose logs why a job may not have ended: its index entry, what a
// sweep and a collection return now, and the coordinator's goroutines.
func (d *deployment) diagnose(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	score, err := d.observer.ZScore(ctx, d.ns+"jobs", id).Result()
	t.Logf("diagnosis: job index entry: %v, %v", score, err)
	res, err := d.store.Sweep(ctx, time.Now(), time.Minute)
	t.Logf("diagnosis: Store.Sweep = %+v, %v", res, err)
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(g, "fanin/jobs.(*Coordinator)") {
			t.Logf("diagnosis: coordinator goroutine:\n%s", g)
		}
	}
	out, err := d.coord.Collect(ctx, id)
	t.Logf("diagnosis: Collect = %+v, %v", out, err)
}

// waitEndAfterFault waits for the end of job id after a Redis fault. A
// chunk Asynq dequeued at the instant of the fault (the worker never got
// the reply, or gave up on it while Redis was paused) is orphaned in the
// queue's active list; Asynq's recoverer gives it back only once its lease
// (30 s) is 30 s past, on its next run (every minute): 60 to 120 s. With
// FANIN_FULL=1 the test waits for that, real time. Otherwise, when the job
// has not ended after stallAfter, it fast-forwards Asynq's clock: it backdates
// every lease of the active list (orphans and live tasks alike: a live task
// is then delivered twice, which fanin absorbs) and starts one more pool,
// whose recoverer runs at start. It returns the job's final status.
func (d *deployment) waitEndAfterFault(t *testing.T, id string, stallAfter time.Duration) workoutput.Status {
	t.Helper()
	if fullSize() {
		return d.waitEnd(t, id, 10*time.Minute)
	}
	end := time.Now().Add(stallAfter)
	for time.Now().Before(end) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := d.store.Status(ctx, id)
		cancel()
		if err == nil && st.State.Terminal() {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	n := asynqtest.BackdateLeases(t, d.observer, d.queue)
	t.Logf("observation: job %s still running %v after the fault; %d tasks active: backdating their leases (Asynq's recoverer would redeliver orphans 60-120 s after the fault) and starting a pool",
		id, stallAfter, n)
	d.addPool()
	return d.waitEnd(t, id, 5*time.Minute)
}

// checkDoneOrFailedMissing checks the end of a job after a fault that may
// lose acknowledged writes: done with the fault-free result, or failed (at
// its deadline) with missing or failed events; committed once either way.
func (d *deployment) checkDoneOrFailedMissing(t *testing.T, id string, n int, want []byte, st workoutput.Status) {
	t.Helper()
	switch st.State {
	case workoutput.StateDone:
		d.checkDone(t, id, n, want)
	case workoutput.StateFailed:
		if st.Pending == 0 && st.Failed == 0 {
			t.Fatalf("job failed with nothing missing: %+v", st)
		}
		d.checkOneCommit(t, id, st)
	default:
		t.Fatalf("job ended %s; want done or failed: %+v", st.State, st)
	}
}

// checkDone checks that job id is done with n outputs, no failure, its
// result equal to want, and exactly one commit (one sink write, under the
// token recorded in the job).
func (d *deployment) checkDone(t *testing.T, id string, n int, want []byte) {
	t.Helper()
	ctx := context.Background()
	st, err := d.store.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != workoutput.StateDone || st.Done != int64(n) || st.Failed != 0 || st.Total != int64(n) {
		t.Fatalf("%s: job %s = %+v; want done with %d outputs and no failure", d.name, id, st, n)
	}
	res, err := d.store.Result(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(res) != string(want) {
		t.Fatalf("%s: result of job %s = %s; want the fault-free %s", d.name, id, res, want)
	}
	d.checkOneCommit(t, id, st)
}

// checkOneCommit checks that the coordinator committed job id exactly once,
// under the token recorded in the job.
func (d *deployment) checkOneCommit(t *testing.T, id string, st workoutput.Status) {
	t.Helper()
	// The sink is written right after the commit; give it a moment.
	var commits []Outcome
	for range 100 {
		if commits = d.commits.of(id); len(commits) > 0 || st.State == workoutput.StateFailed {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.State == workoutput.StateFailed {
		// A failed job has no result and reaches no sink.
		if len(commits) != 0 {
			t.Fatalf("%s: job %s failed but reached the sinks %d times", d.name, id, len(commits))
		}
		return
	}
	if len(commits) != 1 || commits[0].Token != st.Token || commits[0].State != st.State {
		t.Fatalf("%s: job %s: commits %+v; want exactly one, %s under token %d", d.name, id, commits, st.State, st.Token)
	}
}

// progress returns the number of finished events of job id (HLEN of its
// outputs and failures) or -1 when Redis does not answer.
func (d *deployment) progress(id string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	st, err := d.store.Status(ctx, id)
	if err != nil {
		return -1
	}
	return st.Done + st.Failed
}

// waitProgress waits until at least min events of job id are finished.
func (d *deployment) waitProgress(t *testing.T, id string, min int64) int64 {
	t.Helper()
	for end := time.Now().Add(2 * time.Minute); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if p := d.progress(id); p >= min {
			return p
		}
	}
	t.Fatalf("%s: job %s never reached %d finished events", d.name, id, min)
	return 0
}

// dedicated returns a constructor of clients on s.
func dedicated(t *testing.T, newClient func(testing.TB) redis.UniversalClient) func() redis.UniversalClient {
	return func() redis.UniversalClient { return newClient(t) }
}

// TestFaultRedisRestartAOFAlways kills Redis (SIGKILL) in the middle of a
// job and restarts it on the same data, with appendfsync always: the job
// completes, every output is recorded once, one result is committed, and
// it equals the fault-free result.
func TestFaultRedisRestartAOFAlways(t *testing.T) {
	t.Parallel()
	srv := redistestServer(t, "always")
	d := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "always", pools: 2, delay: 2 * time.Millisecond})
	n := bySize(2_000, 20_000)
	id, want := d.submit(t, n, 0, workoutput.Spec{})
	at := d.waitProgress(t, id, int64(n/4))
	killed := time.Now()
	srv.Kill(t)
	time.Sleep(500 * time.Millisecond) // down for a while: clients fail, pools back off
	srv.Restart(t)
	after := d.progress(id)
	st := d.waitEndAfterFault(t, id, 15*time.Second)
	t.Logf("observation: killed at %d/%d finished events, %d after the restart (appendfsync always: nothing acknowledged is lost); job %s %v after the kill",
		at, n, after, st.State, time.Since(killed).Round(time.Millisecond))
	if after >= 0 && after < at {
		t.Errorf("appendfsync always lost acknowledged outputs: %d finished before the kill, %d after the restart", at, after)
	}
	d.checkDone(t, id, n, want)
}

// TestFaultRedisRestartAOFEverysec kills Redis with appendfsync everysec:
// up to a second of acknowledged writes may be lost. It measures how many
// finished events were lost and checks what fanin guarantees even then:
// the job ends (never stuck) in exactly one committed state, either done
// with the fault-free result (the lost work was redone) or failed naming the
// missing events (collected at its deadline).
func TestFaultRedisRestartAOFEverysec(t *testing.T) {
	t.Parallel()
	srv := redistestServer(t, "everysec")
	d := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "everysec", pools: 2, delay: 10 * time.Millisecond})
	n := bySize(2_000, 20_000)
	// The deadline bounds a job that lost events; the fault-free job takes
	// ~2.5 s (CI) or ~25 s (full) on 2 cores.
	id, want := d.submit(t, n, 0, workoutput.Spec{Deadline: time.Duration(bySize(20, 300)) * time.Second})
	// Past the first fsyncs of the job's creation, and in the middle of it.
	time.Sleep(1500 * time.Millisecond)
	at := d.waitProgress(t, id, int64(n/3))
	killed := time.Now()
	srv.Kill(t)
	srv.Restart(t)
	after := d.progress(id)
	st := d.waitEndAfterFault(t, id, 15*time.Second)
	t.Logf("observation: appendfsync everysec: %d/%d finished events acknowledged before the kill, %d after the restart: %d lost; job %s %v after the kill (%d outputs, %d failed, %d missing; error %q)",
		at, n, after, max(at-after, 0), st.State, time.Since(killed).Round(time.Millisecond), st.Done, st.Failed, st.Pending, st.Error)
	d.checkDoneOrFailedMissing(t, id, n, want, st)
}

// TestFaultRedisPause stops Redis (SIGSTOP) for 5 s in the middle of a job:
// workers and the coordinator recover without help and the job completes.
func TestFaultRedisPause(t *testing.T) {
	t.Parallel()
	srv := redistestServer(t, "")
	d := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "pause", pools: 2, delay: 2 * time.Millisecond})
	n := bySize(2_000, 20_000)
	id, want := d.submit(t, n, 0, workoutput.Spec{})
	at := d.waitProgress(t, id, int64(n/4))
	srv.Pause(t)
	time.Sleep(5 * time.Second)
	srv.Resume(t)
	resumed := time.Now()
	st := d.waitEndAfterFault(t, id, 15*time.Second)
	t.Logf("observation: paused 5 s at %d/%d finished events; job %s %v after the resume", at, n, st.State, time.Since(resumed).Round(time.Millisecond))
	d.checkDone(t, id, n, want)
}

// TestFaultRedisDownAtStart starts the worker pools and the coordinator
// daemon while Redis is down, then starts Redis: they connect with no
// operator action and a job submitted then completes.
func TestFaultRedisDownAtStart(t *testing.T) {
	t.Parallel()
	srv := redistestServer(t, "")
	srv.Kill(t)
	d := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "down", pools: 2})
	time.Sleep(time.Second) // every component fails for a while
	srv.Restart(t)
	up := time.Now()
	n := bySize(500, 5_000)
	id, want := d.submit(t, n, 0, workoutput.Spec{})
	st := d.waitEnd(t, id, 2*time.Minute)
	t.Logf("observation: Redis up after 1 s down at start; job %s %v after Redis came up", st.State, time.Since(up).Round(time.Millisecond))
	d.checkDone(t, id, n, want)
}

// TestFaultClusterFailover kills the master that holds a job's slot on a
// cluster with one replica per master: the replica is promoted
// (cluster-node-timeout 2 s) and the job completes with every output.
//
// Every component runs with ReplicaAcks 1: a write counts as done only once
// the replica has it, so the promoted replica has every output a worker
// reported written (without it, Redis' asynchronous replication can lose
// the last ones; see docs/RELIABILITY.md). The promoted master has no
// replica of its own, so writes to its slots wait, unacknowledged and
// retried, until the killed node is restarted and rejoins as its replica,
// as an orchestrator would restart it.
func TestFaultClusterFailover(t *testing.T) {
	t.Parallel()
	cl := redistestCluster(t)
	d := startDeployment(t, func() redis.UniversalClient { return cl.Client(t) },
		deploymentOptions{name: "failover", pools: 2, delay: 2 * time.Millisecond, replicaAcks: 1})
	n := bySize(2_000, 20_000)
	id, want := d.submit(t, n, 0, workoutput.Spec{})
	master := cl.MasterOf(t, "{"+id+"}")
	replica := cl.ReplicasOf(master)[0]
	at := d.waitProgress(t, id, int64(n/4))
	killed := time.Now()
	master.Kill(t)
	replica.WaitPromoted(t, 2*time.Minute)
	promoted := time.Since(killed)
	master.Restart(t)
	st := d.waitEndAfterFault(t, id, 15*time.Second)
	t.Logf("observation: killed the job's master %s at %d/%d finished events; replica promoted after %v, killed node restarted; job %s %v after the kill",
		master.Addr(), at, n, promoted.Round(time.Millisecond), st.State, time.Since(killed).Round(time.Millisecond))
	d.checkDone(t, id, n, want)
}

// TestFaultClusterFailoverAsync is TestFaultClusterFailover with the
// default ReplicaAcks 0 and no restart of the killed node: writes go on as
// soon as the replica is promoted, and Redis' asynchronous replication may
// lose the last outputs the master acknowledged. The job still ends in
// exactly one committed state: done with the fault-free result, or failed
// at its deadline naming what is missing; never stuck.
func TestFaultClusterFailoverAsync(t *testing.T) {
	t.Parallel()
	cl := redistestCluster(t)
	d := startDeployment(t, func() redis.UniversalClient { return cl.Client(t) },
		deploymentOptions{name: "failover-async", pools: 2, delay: 2 * time.Millisecond})
	n := bySize(2_000, 20_000)
	// The deadline bounds a job that lost outputs; the fault-free job takes
	// ~10 s (CI) or ~40 s (full) with the failover.
	id, want := d.submit(t, n, 0, workoutput.Spec{Deadline: time.Duration(bySize(60, 300)) * time.Second})
	master := cl.MasterOf(t, "{"+id+"}")
	at := d.waitProgress(t, id, int64(n/4))
	killed := time.Now()
	master.Kill(t)
	st := d.waitEndAfterFault(t, id, 15*time.Second)
	t.Logf("observation: ReplicaAcks 0: killed the job's master %s at %d/%d finished events; job %s %v after the kill (%d outputs, %d failed, %d missing)",
		master.Addr(), at, n, st.State, time.Since(killed).Round(time.Millisecond), st.Done, st.Failed, st.Pending)
	d.checkDoneOrFailedMissing(t, id, n, want, st)
}

// TestNamespaceIsolation runs two deployments on one Redis, with their own
// namespace (workoutput.Config.Namespace, hence the lock keys) and their own
// Asynq queues (Asynq has no key prefix: its keys are named after the
// queue). Neither sees, sweeps nor collects the other's jobs.
func TestNamespaceIsolation(t *testing.T) {
	t.Parallel()
	srv := redistestServer(t, "")
	a := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "alpha"})
	b := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "beta"})
	ctx := context.Background()
	n := 300
	var ids [2][]string
	wants := map[string][]byte{}
	for i := range 3 {
		for k, d := range []*deployment{a, b} {
			id, want := d.submit(t, n, 1000*i+7*k, workoutput.Spec{})
			ids[k] = append(ids[k], id)
			wants[id] = want
		}
	}
	for k, d := range []*deployment{a, b} {
		other := []*deployment{b, a}[k]
		for _, id := range ids[k] {
			d.waitEnd(t, id, 2*time.Minute)
			d.checkDone(t, id, n, wants[id])
			// The other deployment does not see the job.
			if _, err := other.store.Status(ctx, id); !errors.Is(err, workoutput.ErrJobNotFound) {
				t.Errorf("%s sees %s's job %s: %v", other.name, d.name, id, err)
			}
			if _, err := other.coord.Collect(ctx, id); !errors.Is(err, workoutput.ErrJobNotFound) {
				t.Errorf("%s's Collect of %s's job %s = %v; want ErrJobNotFound", other.name, d.name, id, err)
			}
			if _, err := other.coord.Replay(ctx, id); !errors.Is(err, workoutput.ErrNotRetained) {
				t.Errorf("%s's Replay of %s's job %s = %v; want ErrNotRetained", other.name, d.name, id, err)
			}
		}
		// Its sinks got its own jobs only, each once.
		if got, want := d.commits.jobs(), slices.Sorted(slices.Values(ids[k])); !slices.Equal(got, want) {
			t.Errorf("%s committed %v; want its own jobs %v", d.name, got, want)
		}
	}
	// A job left open in one namespace is swept by that namespace only.
	open, err := a.producer.Open(ctx, workoutput.Spec{Kind: faultKind, Deadline: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	res, err := b.store.Sweep(ctx, time.Now().Add(workoutput.DefaultSweepDelay+time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.Overdue, open.ID()) {
		t.Errorf("%s's sweep reports %s's overdue job", b.name, a.name)
	}
	// Alpha's own sweep collects it: never sealed, so failed.
	st := a.waitEnd(t, open.ID(), time.Minute)
	if st.State != workoutput.StateFailed || !strings.HasPrefix(st.Error, "never sealed") || b.commits.of(open.ID()) != nil {
		t.Errorf("alpha's overdue unsealed job: %+v, beta's commits %v; want failed, never sealed, by alpha", st, b.commits.of(open.ID()))
	}
	// Every key of each namespace belongs to it: the job keys of one never
	// name a job of the other.
	for k, d := range []*deployment{a, b} {
		keys, err := srv.Client(t).Keys(ctx, d.ns+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			for _, id := range ids[1-k] {
				if strings.Contains(key, id) {
					t.Errorf("%s's key %s names the other deployment's job", d.name, key)
				}
			}
		}
	}
}

// redistestServer starts a dedicated server, with AOF when fsync is set.
func redistestServer(t *testing.T, fsync string) *redistest.Server {
	t.Helper()
	return redistest.StartServer(t, redistest.ServerOptions{AppendFsync: fsync})
}

// redistestCluster starts a dedicated cluster of 3 masters with one replica
// each.
func redistestCluster(t *testing.T) *redistest.Cluster {
	t.Helper()
	return redistest.StartCluster(t, redistest.ClusterOptions{ReplicasPerMaster: 1})
}

// TestLoadConcurrentJobs submits many jobs at once to a small pool: each
// completes exactly once with its fault-free result (issue 8: 100 jobs of
// 1,000 events; CI: 20 of 500).
func TestLoadConcurrentJobs(t *testing.T) {
	t.Parallel()
	srv := redistestServer(t, "")
	d := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "load", pools: 2, concurrency: 8})
	jobsN, n := bySize(20, 100), bySize(500, 1_000)
	ids := make([]string, jobsN)
	wants := make([][]byte, jobsN)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range jobsN {
		wg.Go(func() {
			events, want := faultEvents(t, n, i*n)
			id, err := d.producer.Submit(context.Background(), workoutput.Spec{Kind: faultKind, Name: "load " + strconv.Itoa(i)}, events)
			if err != nil {
				t.Errorf("Submit %d: %v", i, err)
				return
			}
			ids[i], wants[i] = id, want
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, id := range ids {
		d.waitEnd(t, id, 5*time.Minute)
		d.checkDone(t, id, n, wants[i])
	}
	t.Logf("observation: %d jobs of %d events, submitted at once, all committed in %v", jobsN, n, time.Since(start).Round(time.Millisecond))
	if got := d.commits.jobs(); len(got) != jobsN {
		t.Fatalf("%d jobs committed; want %d", len(got), jobsN)
	}
}

// Environment of a worker helper process (helperEnv=worker): this test
// binary re-executed as a worker pool of faultKind.
const (
	helperQueueEnv   = "FANIN_JOBS_QUEUE"
	helperCollectEnv = "FANIN_JOBS_COLLECT_QUEUE"
	helperDelayEnv   = "FANIN_JOBS_DELAY"
)

// runWorkerHelper serves the events queue named by the environment with a
// Mux of faultKind until its standard input closes (or it is killed).
func runWorkerHelper(client redis.UniversalClient) error {
	store, err := workoutput.New(client, workoutput.Config{Namespace: os.Getenv(helperNSEnv)})
	if err != nil {
		return err
	}
	mux, err := NewMux(client, store, MuxConfig{CollectQueue: os.Getenv(helperCollectEnv)})
	if err != nil {
		return err
	}
	delay, err := time.ParseDuration(os.Getenv(helperDelayEnv))
	if err != nil {
		return err
	}
	if err := registerFault(mux, delay); err != nil {
		return err
	}
	srv := asynq.NewServerFromRedisClient(client, poolConfig(os.Getenv(helperQueueEnv), 4))
	if err := srv.Start(mux); err != nil {
		return err
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Shutdown()
	return nil
}

// workerProc is a worker helper process.
type workerProc struct {
	cmd   *exec.Cmd
	stdin io.Closer
}

// startWorkerProc starts a worker process for d on the server at url and
// waits until it serves.
func startWorkerProc(t *testing.T, url string, d *deployment, delay time.Duration) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=worker", helperURLEnv+"="+url, helperClusterEnv+"=0",
		helperNSEnv+"="+d.ns, helperQueueEnv+"="+d.queue, helperCollectEnv+"="+d.collect,
		helperDelayEnv+"="+delay.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := redistest.StartProcess(cmd); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { w.kill() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("worker process said %q (%v); want ready", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return w
}

// kill kills the process with SIGKILL, as kill -9 does, and reaps it.
func (w *workerProc) kill() {
	if w.cmd.ProcessState != nil {
		return
	}
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
	_ = w.stdin.Close()
}

// TestFaultWorkersKilled runs consecutive jobs on worker processes and
// kills one of them (SIGKILL) at a random point of every job but the
// first, restarting it at once: every job is done, every output recorded
// once, and each result is identical to the fault-free first run (issue 8:
// 10 jobs of 20,000 events; CI: 3 jobs of 2,000).
//
// The chunks a killed worker held stay in Asynq's active list until their
// lease (30 s) is 30 s past and a recoverer runs (every minute, and when a
// server starts): with FANIN_FULL=1 the test waits for that in real time;
// otherwise it backdates the leases before restarting the worker, whose
// recoverer then gives them back at once (see backdateLeases).
func TestFaultWorkersKilled(t *testing.T) {
	t.Parallel()
	srv := redistestServer(t, "")
	d := startDeployment(t, dedicated(t, srv.Client), deploymentOptions{name: "killed", noWorkers: true})
	const delay = 2 * time.Millisecond
	workers := make([]*workerProc, 3)
	for i := range workers {
		workers[i] = startWorkerProc(t, srv.URL(), d, delay)
	}
	jobsN, n := bySize(3, 10), bySize(2_000, 20_000)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
	var reference []byte
	ids := make([]string, jobsN)
	kills := 0
	start := time.Now()
	for j := range jobsN {
		id, want := d.submit(t, n, 0, workoutput.Spec{})
		ids[j] = id
		if j == 0 {
			// The fault-free run.
			d.waitEnd(t, id, 5*time.Minute)
			d.checkDone(t, id, n, want)
			res, err := d.store.Result(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			reference = res
			continue
		}
		at := int64(float64(n) * (0.1 + 0.6*rng.Float64()))
		at = d.waitProgress(t, id, at)
		k := rng.IntN(len(workers))
		workers[k].kill()
		kills++
		if !fullSize() {
			asynqtest.BackdateLeases(t, d.observer, d.queue)
		}
		workers[k] = startWorkerProc(t, srv.URL(), d, delay)
		t.Logf("job %d: killed worker %d at %d/%d finished events", j, k, at, n)
		if !fullSize() {
			d.waitEnd(t, id, 5*time.Minute)
		}
	}
	for _, id := range ids {
		d.waitEnd(t, id, 5*time.Minute)
		d.checkDone(t, id, n, reference)
	}
	t.Logf("observation: %d jobs of %d events, %d workers killed, all done in %v", jobsN, n, kills, time.Since(start).Round(time.Millisecond))
}

// TestBadInput feeds malformed input to a running deployment, one case at
// a time, while another job (the bystander) is open and being processed:
// each case gets its exact error (a sentinel for errors.Is and a message
// naming the value), nothing is written for the calls that are rejected,
// and the bystander completes with its fault-free result.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistestServer(t, "")
	newClient := dedicated(t, srv.Client)
	d := startDeployment(t, newClient, deploymentOptions{name: "bad", pools: 1})
	observer := d.observer
	cfg := d.store.Config()

	// The bystander: open through every case, sealed at the end.
	events, want := faultEvents(t, 1000, 0)
	bystander, err := d.producer.Open(ctx, workoutput.Spec{Kind: faultKind, MaxRetry: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := bystander.Add(ctx, events[:500]...); err != nil {
		t.Fatal(err)
	}

	// keys returns the deployment's keys, to check that a rejected call
	// wrote nothing.
	keys := func() []string {
		k, err := observer.Keys(ctx, d.ns+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(k)
		return k
	}
	// expect checks err against the sentinels and the exact message.
	expect := func(t *testing.T, err error, msg string, sentinels ...error) {
		t.Helper()
		if err == nil {
			t.Fatalf("no error; want %q", msg)
		}
		for _, s := range sentinels {
			if !errors.Is(err, s) {
				t.Errorf("error %q does not wrap %q", err, s)
			}
		}
		if err.Error() != msg {
			t.Errorf("error:\n got %q\nwant %q", err, msg)
		}
	}
	// failures returns the recorded failure reasons of a job by event ID.
	failures := func(t *testing.T, id string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for f, err := range d.store.Failures(ctx, id) {
			if err != nil {
				t.Fatal(err)
			}
			out[f.EventID] = f.Reason
		}
		return out
	}
	submit := func(t *testing.T, kind string, events ...Event) string {
		t.Helper()
		id, err := d.producer.Submit(ctx, workoutput.Spec{Kind: kind, MaxRetry: 3}, events)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	const badUUID = "not-a-uuid"
	badUUIDMsg := `workoutput: invalid input: job ID "not-a-uuid" is not a UUID (want the canonical lower-case 36-character form, like "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")`

	t.Run("payload does not decode", func(t *testing.T) {
		id := submit(t, faultKind, Event{ID: "good", Payload: []byte(`{"n":2}`)}, Event{ID: "bad", Payload: []byte(`{not json`)})
		st := d.waitEnd(t, id, time.Minute)
		if st.State != workoutput.StateFailed || st.Done != 1 || st.Failed != 1 ||
			st.Error != `1 events failed and 0 are missing (failure policy "fail")` {
			t.Fatalf("job = %+v; want failed with 1 output and 1 failure", st)
		}
		got := failures(t, id)
		if w := "jobs: bad input: payload of event bad does not decode into jobs.faultIn: invalid character 'n' looking for beginning of object key string"; got["bad"] != w {
			t.Errorf("failure of bad = %q; want %q", got["bad"], w)
		}
	})
	t.Run("unknown kind", func(t *testing.T) {
		id := submit(t, "no.such.kind", Event{ID: "a", Payload: []byte(`1`)}, Event{ID: "b", Payload: []byte(`2`)})
		// No worker has a handler: the events are handed back to their
		// queue and wait, nothing fails, and the job says why.
		var st workoutput.Status
		for range 600 {
			if st, err = d.store.Status(ctx, id); err != nil || st.Stalled != "" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if st.State != workoutput.StateRunning || st.Failed != 0 || !strings.Contains(st.Stalled, `no handler for kind "no.such.kind"`) {
			t.Fatalf("job = %+v, %v; want running, no failure, a stall reason", st, err)
		}
		_, err := d.coord.Collect(ctx, id)
		expect(t, err, fmt.Sprintf("workoutput: wrong job state: job %s is running until its deadline %s", id, st.Deadline.Format(time.RFC3339)), workoutput.ErrState)
		if err := d.store.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("malformed task payload", func(t *testing.T) {
		mux, err := NewMux(observer, d.store, MuxConfig{CollectQueue: d.collect})
		if err != nil {
			t.Fatal(err)
		}
		before := keys()
		err = mux.ProcessTask(ctx, asynq.NewTask(TypeEvents, []byte("junk")))
		expect(t, err, "skip retry for the task: jobs: malformed chunk: chunk payload of 4 bytes: shorter than its 18-byte header", ErrBadChunk, asynq.SkipRetry)
		// Through the queue: the worker archives it with that error.
		ac := asynq.NewClientFromRedisClient(observer)
		info, err := ac.EnqueueContext(ctx, asynq.NewTask(TypeEvents, []byte("junk")), asynq.Queue(d.queue))
		if err != nil {
			t.Fatal(err)
		}
		insp := asynq.NewInspectorFromRedisClient(observer)
		var ti *asynq.TaskInfo
		for range 600 {
			if ti, err = insp.GetTaskInfo(d.queue, info.ID); err == nil && ti.State == asynq.TaskStateArchived {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if ti == nil || ti.State != asynq.TaskStateArchived || ti.LastErr != "skip retry for the task: jobs: malformed chunk: chunk payload of 4 bytes: shorter than its 18-byte header" {
			t.Fatalf("task = %+v, %v; want archived with the malformed-chunk error", ti, err)
		}
		if after := keys(); !slices.Equal(before, after) {
			t.Errorf("keys changed: %v -> %v", before, after)
		}
	})
	t.Run("oversize event", func(t *testing.T) {
		before := keys()
		_, err := d.producer.Submit(ctx, workoutput.Spec{Kind: faultKind}, []Event{{ID: "big", Payload: make([]byte, cfg.MaxEventSize+1)}})
		expect(t, err, fmt.Sprintf(`workoutput: too large: event "big" is %d bytes (want at most %d, Config.MaxEventSize)`, cfg.MaxEventSize+1, cfg.MaxEventSize), workoutput.ErrTooLarge)
		err = bystander.Add(ctx, Event{ID: "big", Payload: make([]byte, cfg.MaxEventSize+1)})
		expect(t, err, fmt.Sprintf(`workoutput: too large: event "big" is %d bytes (want at most %d, Config.MaxEventSize)`, cfg.MaxEventSize+1, cfg.MaxEventSize), workoutput.ErrTooLarge)
		if after := keys(); !slices.Equal(before, after) {
			t.Errorf("keys changed: %v -> %v", before, after)
		}
	})
	t.Run("oversize output", func(t *testing.T) {
		id := submit(t, bigKind, Event{ID: "fits", Payload: []byte(strconv.Itoa(cfg.MaxOutputSize))}, Event{ID: "over", Payload: []byte(strconv.Itoa(cfg.MaxOutputSize + 1))})
		st := d.waitEnd(t, id, time.Minute)
		if st.State != workoutput.StateFailed || st.Done != 1 || st.Failed != 1 {
			t.Fatalf("job = %+v; want failed with 1 output and 1 failure", st)
		}
		if got, w := failures(t, id)["over"], fmt.Sprintf(`workoutput: too large: output of event "over" is %d bytes (want at most %d, Config.MaxOutputSize)`, cfg.MaxOutputSize+1, cfg.MaxOutputSize); got != w {
			t.Errorf("failure = %q; want %q", got, w)
		}
	})
	t.Run("invalid job ID", func(t *testing.T) {
		before := keys()
		_, err := d.producer.Submit(ctx, workoutput.Spec{ID: badUUID, Kind: faultKind}, nil)
		expect(t, err, badUUIDMsg, workoutput.ErrInvalid)
		_, err = d.store.Status(ctx, badUUID)
		expect(t, err, badUUIDMsg, workoutput.ErrInvalid)
		_, err = d.producer.Resume(ctx, badUUID)
		expect(t, err, badUUIDMsg, workoutput.ErrInvalid)
		expect(t, d.store.Cancel(ctx, badUUID), badUUIDMsg, workoutput.ErrInvalid)
		_, err = d.coord.Collect(ctx, badUUID)
		expect(t, err, badUUIDMsg, workoutput.ErrInvalid)
		_, err = d.coord.Replay(ctx, badUUID)
		expect(t, err, badUUIDMsg, workoutput.ErrInvalid)
		upper := strings.ToUpper(workoutput.NewJobID())
		_, err = d.store.Status(ctx, upper)
		expect(t, err, strings.Replace(badUUIDMsg, `"not-a-uuid"`, strconv.Quote(upper), 1), workoutput.ErrInvalid)
		// A collect task naming no job is archived.
		err = d.coord.ProcessTask(ctx, asynq.NewTask(TypeCollect, []byte(badUUID)))
		expect(t, err, "skip retry for the task: collect task: "+badUUIDMsg, asynq.SkipRetry, workoutput.ErrInvalid)
		if after := keys(); !slices.Equal(before, after) {
			t.Errorf("keys changed: %v -> %v", before, after)
		}
	})
	t.Run("duplicate event IDs", func(t *testing.T) {
		before := keys()
		_, err := d.producer.Submit(ctx, workoutput.Spec{Kind: faultKind}, []Event{{ID: "a", Payload: []byte(`{}`)}, {ID: "a", Payload: []byte(`{}`)}})
		expect(t, err, `workoutput: duplicate event ID: event ID "a" is given twice in one call (want IDs unique within the job)`, workoutput.ErrDuplicateEvent)
		if after := keys(); !slices.Equal(before, after) {
			t.Errorf("keys changed: %v -> %v", before, after)
		}
		job, err := d.producer.Open(ctx, workoutput.Spec{Kind: faultKind})
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Add(ctx, Event{ID: "a", Payload: []byte(`{"n":1}`)}); err != nil {
			t.Fatal(err)
		}
		err = job.Add(ctx, Event{ID: "b", Payload: []byte(`{"n":2}`)}, Event{ID: "a", Payload: []byte(`{"n":3}`)})
		expect(t, err, fmt.Sprintf(`workoutput: duplicate event ID: event ID "a" already exists in job %s (want IDs unique within the job)`, job.ID()), workoutput.ErrDuplicateEvent)
		// The whole call was rejected: "b" was not added.
		if err := job.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		st := d.waitEnd(t, job.ID(), time.Minute)
		if st.State != workoutput.StateDone || st.Total != 1 || st.Done != 1 {
			t.Fatalf("job = %+v; want done with its 1 event", st)
		}
	})
	t.Run("commands on a finished job", func(t *testing.T) {
		evs, want := faultEvents(t, 3, 0)
		id := submit(t, faultKind, evs...)
		d.waitEnd(t, id, time.Minute)
		d.checkDone(t, id, 3, want)
		st, err := d.store.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		job, err := d.producer.Resume(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, job.Add(ctx, evs[0]), fmt.Sprintf("workoutput: job is sealed: job %s is sealed, no event can be added (want Add before Seal)", id), workoutput.ErrSealed)
		if err := job.Seal(ctx); err != nil { // sealing a sealed job does nothing
			t.Fatalf("Seal of a done job = %v; want nil", err)
		}
		expect(t, d.store.Cancel(ctx, id), fmt.Sprintf("workoutput: wrong job state: job %s is done", id), workoutput.ErrState)
		_, err = d.coord.Collect(ctx, id)
		expect(t, err, fmt.Sprintf("workoutput: wrong job state: job %s is already collected (done; use Replay to reduce it again)", id), workoutput.ErrState)
		if res, err := d.store.Write(ctx, id, workoutput.Record{Outputs: []workoutput.Output{{EventID: "#0", Value: []byte(`"x"`)}}}); err != nil || !res.Skipped {
			t.Errorf("Write to a done job = %+v, %v; want skipped", res, err)
		}
		after, err := d.store.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if after.State != st.State || after.Token != st.Token || after.Done != st.Done || after.Finished != st.Finished {
			t.Errorf("status changed: %+v -> %+v", st, after)
		}
		// Replay is the one command a finished job takes: a new commit
		// under a higher token, with the same result.
		out, err := d.coord.Replay(ctx, id)
		if err != nil || out.State != workoutput.StateDone || out.Token <= st.Token || string(out.Result) != string(want) {
			t.Fatalf("Replay = %+v, %v; want done under a token above %d with the same result", out, err, st.Token)
		}
	})
	t.Run("commands on a cancelled job", func(t *testing.T) {
		job, err := d.producer.Open(ctx, workoutput.Spec{Kind: faultKind})
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Add(ctx, Event{ID: "x", Payload: []byte(`{"n":1}`)}); err != nil {
			t.Fatal(err)
		}
		id := job.ID()
		if err := d.store.Cancel(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := d.store.Cancel(ctx, id); err != nil {
			t.Errorf("second Cancel = %v; want nil", err)
		}
		cancelled := fmt.Sprintf("workoutput: wrong job state: job %s is cancelled", id)
		expect(t, job.Add(ctx, Event{ID: "y", Payload: []byte(`{}`)}), cancelled, workoutput.ErrState)
		expect(t, job.Seal(ctx), cancelled, workoutput.ErrState)
		_, err = d.coord.Collect(ctx, id)
		expect(t, err, cancelled, workoutput.ErrState)
		_, err = d.coord.Replay(ctx, id)
		expect(t, err, cancelled, workoutput.ErrState)
		if res, err := d.store.Write(ctx, id, workoutput.Record{Outputs: []workoutput.Output{{EventID: "x", Value: []byte(`"x"`)}}}); err != nil || !res.Skipped {
			t.Errorf("Write to a cancelled job = %+v, %v; want skipped", res, err)
		}
		if st, err := d.store.Status(ctx, id); err != nil || st.State != workoutput.StateCancelled || st.Total != 1 || st.Done+st.Failed != 0 {
			t.Errorf("cancelled job = %+v, %v; want cancelled with 1 event and no output", st, err)
		}
		if got := d.commits.of(id); got != nil {
			t.Errorf("cancelled job committed: %+v", got)
		}
	})

	// The bystander was open and processed throughout: it completes with
	// its fault-free result, committed once.
	if err := bystander.Add(ctx, events[500:]...); err != nil {
		t.Fatal(err)
	}
	if err := bystander.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	d.waitEnd(t, bystander.ID(), 2*time.Minute)
	d.checkDone(t, bystander.ID(), len(events), want)
}
