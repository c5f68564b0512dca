package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/locks"
	"github.com/fanin-dev/fanin/workoutput"
)

// coordEnv is a Store and a Coordinator on an isolated view of a shared
// test Redis (the store's namespace is the view's prefix). Without Run, a
// coordinator needs no Asynq keys, so the shared servers do.
type coordEnv struct {
	r     *redistest.Redis
	store *workoutput.Store
}

func newCoordEnv(t *testing.T, cluster bool) coordEnv {
	t.Helper()
	var r *redistest.Redis
	if cluster {
		r = redistest.NewCluster(t)
	} else {
		r = redistest.New(t)
	}
	return coordEnv{r: r, store: newStore(t, r.Client, workoutput.Config{Namespace: r.Prefix})}
}

func (e coordEnv) coordinator(t *testing.T, cfg CoordinatorConfig) *Coordinator {
	t.Helper()
	return newCoordinator(t, e.r.Client, e.store, cfg)
}

// counting returns a coordinator of e whose reducer of kind "k" is Count.
func (e coordEnv) counting(t *testing.T, cfg CoordinatorConfig) *Coordinator {
	t.Helper()
	c := e.coordinator(t, cfg)
	if err := c.Handle("k", Count()); err != nil {
		t.Fatal(err)
	}
	return c
}

func newCoordinator(t testing.TB, client redis.UniversalClient, store *workoutput.Store, cfg CoordinatorConfig) *Coordinator {
	t.Helper()
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = time.Millisecond
	}
	c, err := NewCoordinator(client, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sharedModes runs f on the shared single server and the shared cluster.
func sharedModes(t *testing.T, f func(t *testing.T, e coordEnv)) {
	for _, cluster := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "cluster"}[cluster], func(t *testing.T) {
			t.Parallel()
			f(t, newCoordEnv(t, cluster))
		})
	}
}

// sealedJob opens a sealed job of kind with caller-given event IDs.
func sealedJob(t *testing.T, store *workoutput.Store, spec workoutput.Spec, ids ...string) string {
	t.Helper()
	job, err := store.Open(context.Background(), spec, workoutput.Batch{IDs: ids}, true)
	if err != nil {
		t.Fatal(err)
	}
	return job.ID
}

// write records JSON outputs "out-<id>" for ids and failures for failed.
func write(t *testing.T, store *workoutput.Store, jobID string, ids []string, failed ...string) workoutput.WriteResult {
	t.Helper()
	outs := make([]workoutput.Output, len(ids))
	for i, id := range ids {
		outs[i] = workoutput.Output{EventID: id, Value: []byte(`"out-` + id + `"`)}
	}
	var fails []workoutput.Failure
	for _, id := range failed {
		fails = append(fails, workoutput.Failure{EventID: id, Reason: "boom", Attempts: 1, Time: time.Now()})
	}
	res, err := store.Write(context.Background(), jobID, workoutput.Record{Outputs: outs, Failures: fails})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// jobKeys lists the keys of job id that exist (job keys, fence, lock, token
// counter), per the layout of workoutput/keys.go and locks.
func existingJobKeys(t *testing.T, c redis.UniversalClient, ns, id string) []string {
	t.Helper()
	var out []string
	for _, k := range []string{"meta", "outputs", "failures", "events", "result", "adds"} {
		out = append(out, ns+"job:{"+id+"}:"+k)
	}
	out = append(out, locks.ResourceKeys(ns, workoutput.LockResource(id))...)
	return slices.DeleteFunc(out, func(k string) bool { return c.Exists(context.Background(), k).Val() == 0 })
}

// TestCollectCommitsOnce collects a complete job with JSONLines: the result
// is committed once, written to the sinks, the keys get the retention, and
// a second Collect finds nothing to do.
func TestCollectCommitsOnce(t *testing.T) {
	t.Parallel()
	sharedModes(t, func(t *testing.T, e coordEnv) {
		ctx := context.Background()
		var sunk bytes.Buffer
		dir := t.TempDir()
		c := e.coordinator(t, CoordinatorConfig{Sinks: []Sink{WriterSink(&sunk), FileSink(dir)}})
		if err := c.Handle("k", JSONLines()); err != nil {
			t.Fatal(err)
		}
		id := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Retention: time.Minute}, "a", "b", "c")
		if _, err := c.Collect(ctx, id); !errors.Is(err, workoutput.ErrState) {
			t.Fatalf("Collect of an open job = %v; want ErrState", err)
		}
		if res := write(t, e.store, id, []string{"a", "b", "c"}); !res.Completed {
			t.Fatal("job not complete")
		}
		out, err := c.Collect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if out.State != workoutput.StateDone || out.Outputs != 3 || out.Attempts != 1 || out.Token < 1 {
			t.Fatalf("Outcome = %+v; want done, 3 outputs, 1 attempt", out)
		}
		lines := strings.Split(strings.TrimSpace(string(out.Result)), "\n")
		slices.Sort(lines)
		want := []string{`{"id":"a","output":"out-a"}`, `{"id":"b","output":"out-b"}`, `{"id":"c","output":"out-c"}`}
		if !slices.Equal(lines, want) {
			t.Fatalf("result lines = %q, want %q", lines, want)
		}
		stored, err := e.store.Result(ctx, id)
		if err != nil || !bytes.Equal(stored, out.Result) {
			t.Fatalf("stored result = %q, %v; want the outcome's", stored, err)
		}
		if !bytes.Equal(sunk.Bytes(), out.Result) {
			t.Fatalf("writer sink got %q", sunk.Bytes())
		}
		if file := readFile(t, dir+"/"+id+".result"); !bytes.Equal(file, out.Result) {
			t.Fatalf("file sink got %q", file)
		}
		for _, k := range existingJobKeys(t, e.r.Client, e.r.Prefix, id) {
			if k == locks.LockKey(e.r.Prefix, workoutput.LockResource(id)) {
				t.Fatalf("lock %s still held after the commit", k)
			}
			ttl := e.r.Client.PTTL(ctx, k).Val()
			if ttl <= 50*time.Second || ttl > time.Minute {
				t.Fatalf("PTTL(%s) = %v; want the job's 1m retention", k, ttl)
			}
		}
		if _, err := c.Collect(ctx, id); !errors.Is(err, workoutput.ErrState) {
			t.Fatalf("second Collect = %v; want ErrState (already collected)", err)
		}
		if n := strings.Count(sunk.String(), "\n"); n != 3 {
			t.Fatalf("sink written %d lines after a second Collect; want the 3 of one commit", n)
		}
	})
}

// TestDeadlinePartialReplay collects a job past its deadline: the reducer
// is told which event failed and which are missing, the job is partial
// (policy continue); a replay commits a new result under a new token; the
// retention applies; a job deleted at once leaves no key and cannot be
// replayed.
func TestDeadlinePartialReplay(t *testing.T) {
	t.Parallel()
	sharedModes(t, func(t *testing.T, e coordEnv) {
		ctx := context.Background()
		var runs atomic.Int64
		c := e.coordinator(t, CoordinatorConfig{})
		err := c.Handle("k", ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
			var r struct {
				Run                      int64
				Outputs, Failed, Missing []string
				NOutputs, NFailed, NMiss int64
			}
			r.Run = runs.Add(1)
			r.NOutputs, r.NFailed, r.NMiss = job.Outputs, job.Failed, job.Missing
			for o, err := range Outputs[string](in) {
				if err != nil {
					return nil, err
				}
				r.Outputs = append(r.Outputs, o.Value)
			}
			for f, err := range in.Failures() {
				if err != nil {
					return nil, err
				}
				r.Failed = append(r.Failed, f.EventID+":"+f.Reason)
			}
			for id, err := range in.Missing() {
				if err != nil {
					return nil, err
				}
				r.Missing = append(r.Missing, id)
			}
			slices.Sort(r.Outputs)
			slices.Sort(r.Missing)
			return json.Marshal(r)
		}))
		if err != nil {
			t.Fatal(err)
		}
		spec := workoutput.Spec{Kind: "k", Deadline: 300 * time.Millisecond, Retention: time.Minute, FailurePolicy: workoutput.PolicyContinue}
		id := sealedJob(t, e.store, spec, "a", "b", "c", "d")
		write(t, e.store, id, []string{"a"}, "b")
		if _, err := c.Collect(ctx, id); !errors.Is(err, workoutput.ErrState) {
			t.Fatalf("Collect before the deadline = %v; want ErrState", err)
		}
		time.Sleep(400 * time.Millisecond)
		// The sweep finds the overdue job, due SweepDelay after its
		// deadline, and collects it.
		if err := c.Sweep(ctx, time.Now().Add(workoutput.DefaultSweepDelay)); err != nil {
			t.Fatal(err)
		}
		st, err := e.store.Status(ctx, id)
		if err != nil || st.State != workoutput.StatePartial {
			t.Fatalf("Status after the sweep = %+v, %v; want partial", st, err)
		}
		first, err := e.store.Result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"Run":1,"Outputs":["out-a"],"Failed":["b:boom"],"Missing":["c","d"],"NOutputs":1,"NFailed":1,"NMiss":2}`
		if string(first) != want {
			t.Fatalf("result = %s\nwant     %s", first, want)
		}
		// Late outputs are ignored once the job is collected.
		if res := write(t, e.store, id, []string{"c"}); !res.Skipped {
			t.Fatalf("late write = %+v; want skipped", res)
		}

		out, err := c.Replay(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if out.State != workoutput.StatePartial || !out.Replay || out.Token <= st.Token || !strings.Contains(string(out.Result), `"Run":2`) {
			t.Fatalf("Replay = %+v (first token %d); want partial, a higher token, run 2", out, st.Token)
		}
		if got, _ := e.store.Result(ctx, id); !bytes.Equal(got, out.Result) {
			t.Fatalf("result after replay = %s; want %s", got, out.Result)
		}
		keys := existingJobKeys(t, e.r.Client, e.r.Prefix, id)
		if len(keys) != 7 { // all but the lock
			t.Fatalf("keys after replay = %v", keys)
		}
		for _, k := range keys {
			if ttl := e.r.Client.PTTL(ctx, k).Val(); ttl <= 50*time.Second || ttl > time.Minute {
				t.Fatalf("PTTL(%s) = %v; want the 1m retention", k, ttl)
			}
		}

		// Delete at once: only a tombstone (meta, result, token counter,
		// fence) is left, and no replay is possible.
		spec.Retention = workoutput.NoRetention
		gone := sealedJob(t, e.store, spec, "x")
		write(t, e.store, gone, []string{"x"})
		out, err = c.Collect(ctx, gone)
		if err != nil || out.State != workoutput.StateDone {
			t.Fatalf("Collect = %+v, %v", out, err)
		}
		tomb := []string{e.r.Prefix + "job:{" + gone + "}:meta", e.r.Prefix + "job:{" + gone + "}:result", e.r.Prefix + "lock:job:{" + gone + "}:token", e.r.Prefix + "fence:job:{" + gone + "}"}
		if keys := existingJobKeys(t, e.r.Client, e.r.Prefix, gone); !slices.Equal(keys, tomb) {
			t.Fatalf("keys left by a job with no retention: %v; want the tombstone %v", keys, tomb)
		}
		if _, err := c.Replay(ctx, gone); !errors.Is(err, workoutput.ErrNotRetained) {
			t.Fatalf("Replay of a deleted job = %v; want ErrNotRetained", err)
		}
	})
}

// TestFailurePolicyFail fails a job with a failed event under policy fail:
// no reducer runs, no result, the reason is recorded; OnCommit sees the
// failed commit, which no sink receives.
func TestFailurePolicyFail(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	var (
		mu        sync.Mutex
		committed []Outcome
		sunk      atomic.Int64
	)
	c := e.coordinator(t, CoordinatorConfig{
		OnCommit: func(_ context.Context, out Outcome) { mu.Lock(); committed = append(committed, out); mu.Unlock() },
		Sinks:    []Sink{SinkFunc(func(context.Context, Outcome) error { sunk.Add(1); return nil })},
	})
	var runs atomic.Int64
	if err := c.Handle("k", ReducerFunc(func(context.Context, JobInfo, *Input) ([]byte, error) { runs.Add(1); return []byte("x"), nil })); err != nil {
		t.Fatal(err)
	}
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k"}, "a", "b")
	write(t, e.store, id, []string{"a"}, "b")
	out, err := c.Collect(ctx, id)
	if err != nil || out.State != workoutput.StateFailed || out.Result != nil || runs.Load() != 0 || !strings.Contains(out.Error, "1 events failed") {
		t.Fatalf("Collect = %+v, %v (%d reducer runs); want failed by policy, no reducer run", out, err, runs.Load())
	}
	st, err := e.store.Status(ctx, id)
	if err != nil || st.State != workoutput.StateFailed || st.Error != out.Error {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if _, err := e.store.Result(ctx, id); !errors.Is(err, workoutput.ErrNoResult) {
		t.Fatalf("Result of a failed job = %v; want ErrNoResult", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(committed) != 1 || committed[0].JobID != id || committed[0].State != workoutput.StateFailed || committed[0].Error != out.Error {
		t.Fatalf("OnCommit saw %+v; want the one failed commit of %s", committed, id)
	}
	if sunk.Load() != 0 {
		t.Fatalf("a sink received the failed job %d times; want none", sunk.Load())
	}
}

// TestReducerErrorsThenReplay retries a failing reducer, fails the job with
// the error recorded and the outputs kept (even with no retention), and
// recovers it with a replay once the reducer is fixed.
func TestReducerErrorsThenReplay(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	c := e.coordinator(t, CoordinatorConfig{ReduceAttempts: 3})
	var fixed atomic.Bool
	var runs atomic.Int64
	err := c.Handle("k", ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		runs.Add(1)
		if !fixed.Load() {
			if job.Attempt == 2 {
				panic("reducer bug")
			}
			return nil, errors.New("reducer bug")
		}
		return Count().Reduce(ctx, job, in)
	}))
	if err != nil {
		t.Fatal(err)
	}
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Retention: workoutput.NoRetention}, "a", "b")
	write(t, e.store, id, []string{"a", "b"})
	out, err := c.Collect(ctx, id)
	if err != nil || out.State != workoutput.StateFailed || out.Attempts != 3 || runs.Load() != 3 || !strings.Contains(out.Error, "reducer bug") {
		t.Fatalf("Collect = %+v, %v (%d runs); want failed after 3 attempts", out, err, runs.Load())
	}
	st, err := e.store.Status(ctx, id)
	if err != nil || st.State != workoutput.StateFailed || st.Done != 2 || !strings.Contains(st.Error, "reducer bug") {
		t.Fatalf("Status = %+v, %v; want failed with outputs kept and the error recorded", st, err)
	}
	fixed.Store(true)
	out, err = c.Replay(ctx, id)
	if err != nil || out.State != workoutput.StateDone || string(out.Result) != `{"outputs":2,"failed":0,"missing":0}` {
		t.Fatalf("Replay = %+v (%s), %v; want done with the count", out, out.Result, err)
	}
	// The job's own retention (none) applies to the successful replay: its
	// data is gone, its meta, result, fence and token counter stay as a
	// tombstone.
	want := []string{e.r.Prefix + "job:{" + id + "}:meta", e.r.Prefix + "job:{" + id + "}:result", e.r.Prefix + "lock:job:{" + id + "}:token", e.r.Prefix + "fence:job:{" + id + "}"}
	if keys := existingJobKeys(t, e.r.Client, e.r.Prefix, id); !slices.Equal(keys, want) {
		t.Fatalf("keys left after the replay: %v; want the tombstone %v", keys, want)
	}
}

// TestEmptyResultIsCommitted: a reducer that returns nothing (nil, or the
// JSONLines reducer of a job without events) commits an empty result,
// which Store.Result returns, instead of a done job without a result.
func TestEmptyResultIsCommitted(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	c := e.coordinator(t, CoordinatorConfig{})
	if err := c.Handle("nil", ReducerFunc(func(context.Context, JobInfo, *Input) ([]byte, error) { return nil, nil })); err != nil {
		t.Fatal(err)
	}
	if err := c.Handle("lines", JSONLines()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind string
		ids  []string
	}{{"nil", []string{"a"}}, {"lines", nil}} {
		id := sealedJob(t, e.store, workoutput.Spec{Kind: tc.kind}, tc.ids...)
		write(t, e.store, id, tc.ids)
		out, err := c.Collect(ctx, id)
		if err != nil || out.State != workoutput.StateDone || out.Result == nil || len(out.Result) != 0 {
			t.Fatalf("%s: Collect = %+v, %v; want done with an empty result", tc.kind, out, err)
		}
		if res, err := e.store.Result(ctx, id); err != nil || len(res) != 0 {
			t.Fatalf("%s: Result = %q, %v; want an empty result", tc.kind, res, err)
		}
	}
}

// TestCollectErrors covers the errors of Collect that change nothing.
func TestCollectErrors(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	c := e.counting(t, CoordinatorConfig{})
	if err := c.Handle("k", Count()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second Handle = %v; want ErrInvalid", err)
	}
	if _, err := NewCoordinator(e.r.Client, e.store, CoordinatorConfig{LockTTL: -time.Second}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewCoordinator with a negative LockTTL = %v; want ErrInvalid", err)
	}
	// Periods that would poll Redis in a loop are refused, the shortest
	// allowed accepted.
	for _, tc := range []struct {
		cfg  CoordinatorConfig
		want string
	}{
		{CoordinatorConfig{SweepInterval: time.Nanosecond}, "SweepInterval is 1ns (want at least 10ms"},
		{CoordinatorConfig{SweepInterval: MinSweepInterval - 1}, "SweepInterval"},
		{CoordinatorConfig{TaskCheckInterval: time.Microsecond}, "TaskCheckInterval is 1µs (want at least 1ms"},
		{CoordinatorConfig{LockTTL: MinLockTTL - 1}, "LockTTL"},
		{CoordinatorConfig{SweepInterval: MinSweepInterval, TaskCheckInterval: MinTaskCheckInterval, LockTTL: MinLockTTL}, ""},
	} {
		_, err := NewCoordinator(e.r.Client, e.store, tc.cfg)
		if tc.want == "" && err != nil || tc.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)) {
			t.Fatalf("NewCoordinator(%+v) = %v; want %q", tc.cfg, err, tc.want)
		}
	}
	other := sealedJob(t, e.store, workoutput.Spec{Kind: "other"}, "a")
	write(t, e.store, other, []string{"a"})
	if _, err := c.Collect(ctx, other); !errors.Is(err, ErrNoReducer) {
		t.Fatalf("Collect without reducer = %v; want ErrNoReducer", err)
	}
	if _, err := c.Collect(ctx, workoutput.NewJobID()); !errors.Is(err, workoutput.ErrJobNotFound) {
		t.Fatalf("Collect of an unknown job = %v; want ErrJobNotFound", err)
	}
	if _, err := c.Collect(ctx, "nope"); !errors.Is(err, workoutput.ErrInvalid) {
		t.Fatalf("Collect of a bad ID = %v; want ErrInvalid", err)
	}
	// A held lock: another coordinator is collecting.
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k"}, "a")
	write(t, e.store, id, []string{"a"})
	lp, err := locks.New(locks.Config{Redis: e.r.Client, KeyPrefix: e.r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	l, err := lp.TryAcquire(ctx, workoutput.LockResource(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Collect(ctx, id); !errors.Is(err, ErrBusy) {
		t.Fatalf("Collect of a locked job = %v; want ErrBusy", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// A result over the cap fails the job without retrying.
	small := e.coordinator(t, CoordinatorConfig{MaxResultSize: 10})
	if err := small.Handle("k", JSONLines()); err != nil {
		t.Fatal(err)
	}
	out, err := small.Collect(ctx, id)
	if err != nil || out.State != workoutput.StateFailed || out.Attempts != 1 || !strings.Contains(out.Error, ErrResultTooLarge.Error()) {
		t.Fatalf("Collect over MaxResultSize = %+v, %v; want failed after 1 attempt", out, err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSinkErrorKeepsCommit fails a sink: the commit stands, Collect reports
// ErrSink with a valid outcome, and the collect task ends successfully
// without committing again.
func TestSinkErrorKeepsCommit(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	var sinkCalls, reported atomic.Int64
	failing := SinkFunc(func(context.Context, Outcome) error { sinkCalls.Add(1); return errors.New("disk full") })
	c := e.counting(t, CoordinatorConfig{Sinks: []Sink{failing}, OnSinkError: func(context.Context, string, error) { reported.Add(1) }})
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k"}, "a")
	write(t, e.store, id, []string{"a"})
	out, err := c.Collect(ctx, id)
	if !errors.Is(err, ErrSink) || out.State != workoutput.StateDone || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Collect = %+v, %v; want done with ErrSink", out, err)
	}
	if res, err := e.store.Result(ctx, id); err != nil || !bytes.Equal(res, out.Result) {
		t.Fatalf("stored result = %q, %v", res, err)
	}
	// The collect task of the committed job: nothing to do, no new sink write.
	if err := c.ProcessTask(ctx, asynq.NewTask(TypeCollect, []byte(id))); err != nil {
		t.Fatalf("ProcessTask of a committed job = %v; want nil", err)
	}
	if sinkCalls.Load() != 1 || reported.Load() != 0 {
		t.Fatalf("sink called %d times, OnSinkError %d; want 1 and 0", sinkCalls.Load(), reported.Load())
	}
	// Through the daemon path, a sink error goes to OnSinkError.
	id2 := sealedJob(t, e.store, workoutput.Spec{Kind: "k"}, "a")
	write(t, e.store, id2, []string{"a"})
	if err := c.ProcessTask(ctx, asynq.NewTask(TypeCollect, []byte(id2))); err != nil {
		t.Fatalf("ProcessTask = %v; want nil (committed; the sink error is reported)", err)
	}
	if reported.Load() != 1 {
		t.Fatalf("OnSinkError called %d times; want 1", reported.Load())
	}
	// A job of a kind without reducer here ends its collect task and is
	// left for a coordinator that has one (or for its deadline).
	other := sealedJob(t, e.store, workoutput.Spec{Kind: "other"}, "a")
	write(t, e.store, other, []string{"a"})
	if err := c.ProcessTask(ctx, asynq.NewTask(TypeCollect, []byte(other))); err != nil {
		t.Fatalf("ProcessTask without reducer = %v; want nil", err)
	}
	if st, err := e.store.Status(ctx, other); err != nil || st.State != workoutput.StateComplete {
		t.Fatalf("job without reducer = %+v, %v; want it left complete", st, err)
	}
}
