package test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/asynqtest"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// full reports FANIN_FULL=1: the fault, security and load tests run their
// full sizes (the same bodies run smaller otherwise).
func full() bool { return os.Getenv("FANIN_FULL") == "1" }

// bySize returns ci, or fullSize under FANIN_FULL=1.
func bySize(ci, fullSize int) int {
	if full() {
		return fullSize
	}
	return ci
}

// recoverGrace is how long a CI-size test waits for a job after a fault
// before it fast-forwards Asynq's recoverer (see fanin.waitEnd).
const recoverGrace = 15 * time.Second

// inputs caches generated sightings files and the embedded demo's results,
// shared by the tests of the package.
var inputs struct {
	mu      sync.Mutex
	dir     string
	files   map[string]string
	results map[string][]byte
}

// sightings returns a file of n sightings generated from seed, and the
// embedded demo's result for the same n and seed: the fault-free result.
func sightings(t *testing.T, n, seed int) (path string, want []byte) {
	t.Helper()
	inputs.mu.Lock()
	defer inputs.mu.Unlock()
	if inputs.files == nil {
		inputs.files, inputs.results = map[string]string{}, map[string][]byte{}
		inputs.dir = filepath.Join(bin, "inputs") // removed by TestMain
		if err := os.MkdirAll(inputs.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key := strconv.Itoa(n) + "-" + strconv.Itoa(seed)
	if p, ok := inputs.files[key]; ok {
		return p, inputs.results[key]
	}
	path = filepath.Join(inputs.dir, key+".jsonl")
	out := filepath.Join(inputs.dir, key+".json")
	mustRun(t, env(), "zombies", "generate", "-n", strconv.Itoa(n), "--seed", strconv.Itoa(seed), "--out", path)
	mustRun(t, env(), "zombies", "-n", strconv.Itoa(n), "--seed", strconv.Itoa(seed), "--workers", "2", "--out", out)
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	inputs.files[key], inputs.results[key] = path, want
	return path, want
}

// fanin is one deployment of the binaries on one Redis, seen by the test
// through its own client and store.
type fanin struct {
	env    []string
	client redis.UniversalClient
	store  *workoutput.Store
	ns     string
	queue  string // the events queue
}

// newFanin describes a deployment on the Redis of url, read by the test
// through client, with namespace ns ("" for the default) and the binaries'
// environment plus extra.
func newFanin(t *testing.T, url string, client redis.UniversalClient, ns string, extra ...string) *fanin {
	t.Helper()
	var d jobs.Deployment
	if ns != "" {
		var err error
		if d, err = jobs.ParseDeployment(ns); err != nil {
			t.Fatal(err)
		}
	}
	store, err := workoutput.New(client, workoutput.Config{Namespace: d.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	return &fanin{env: env(append([]string{"FANIN_REDIS_URL=" + url}, extra...)...), client: client, store: store, ns: ns, queue: d.EventsQueue()}
}

// submit submits the sightings of path and returns the job ID.
func (f *fanin) submit(t *testing.T, path string, args ...string) string {
	t.Helper()
	out := mustRun(t, f.env, "coordinator", append([]string{"submit", "--kind", "zombies.sighting", "--events", path}, args...)...)
	return strings.TrimSpace(out)
}

// worker starts a worker of the deployment; lost chunks come back 200 ms
// after Asynq's recoverer hands them back.
func (f *fanin) worker(t *testing.T, args ...string) *proc {
	t.Helper()
	return start(t, f.env, "worker", append([]string{"--concurrency", "2", "--retry-delay", "200ms"}, args...)...)
}

// coordinator starts a coordinator daemon of the deployment.
func (f *fanin) coordinator(t *testing.T, args ...string) *proc {
	t.Helper()
	return start(t, f.env, "coordinator", append([]string{"run", "--sweep-interval", "1s"}, args...)...)
}

// statusOf reads a job's status, retrying while Redis is unavailable.
func (f *fanin) statusOf(t *testing.T, job string) workoutput.Status {
	t.Helper()
	var err error
	for range 3000 {
		var st workoutput.Status
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err = f.store.Status(ctx, job)
		cancel()
		if err == nil {
			return st
		}
		if errors.Is(err, workoutput.ErrJobNotFound) || errors.Is(err, workoutput.ErrInvalid) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("status of job %s: %v", job, err)
	return workoutput.Status{}
}

// waitProgress waits until at least at events of job are finished (or the
// job ended) and returns the number finished.
func (f *fanin) waitProgress(t *testing.T, job string, at int64) int64 {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		st := f.statusOf(t, job)
		if st.Done+st.Failed >= at || st.State.Terminal() {
			return st.Done + st.Failed
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: %d of %d events finished after 3 minutes, want %d", job, st.Done+st.Failed, st.Total, at)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEnd waits for every job to end (at most 5 minutes) and returns the
// time it took. At CI size, when they have not ended recoverGrace after
// the fault, it moves the leases of the active tasks of the events queue 2
// minutes into the past and starts one more worker, whose recoverer runs at
// start: Asynq would hand a chunk of a killed worker back only 60-120 s
// after the fault (see docs/RELIABILITY.md, "Asynq's recoverer"). Under
// FANIN_FULL=1 it waits for Asynq in real time. The log says which.
func (f *fanin) waitEnd(t *testing.T, fault time.Time, jobs ...string) time.Duration {
	t.Helper()
	forwarded := false
	deadline := time.Now().Add(5 * time.Minute)
	for _, job := range jobs {
		for !f.statusOf(t, job).State.Terminal() {
			if time.Now().After(deadline) {
				t.Fatalf("job %s did not end within 5 minutes: %+v", job, f.statusOf(t, job))
			}
			if !full() && !forwarded && time.Since(fault) > recoverGrace {
				forwarded = true
				n := asynqtest.BackdateLeases(t, f.client, f.queue)
				f.worker(t)
				t.Logf("observation: jobs not ended %v after the fault: moved %d leases of queue %s into the past and started a worker (Asynq's recoverer fast-forwarded)", recoverGrace, n, f.queue)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return time.Since(fault)
}

// check checks that job is done with n outputs, none failed, one commit
// (token 1), and the result want.
func (f *fanin) check(t *testing.T, job string, n int, want []byte) {
	t.Helper()
	st := f.statusOf(t, job)
	if st.State != workoutput.StateDone || st.Done != int64(n) || st.Total != int64(n) || st.Failed != 0 || st.Token != 1 {
		t.Fatalf("job %s = %+v; want done with %d outputs, none failed, committed once (token 1)", job, st, n)
	}
	got, err := f.store.Result(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("job %s: result of %d bytes differs from the fault-free result of %d bytes", job, len(got), len(want))
	}
}

// TestNamespacesGetTheirOwnQueues runs two deployments (namespaces a: and
// b:, one by flag and one by environment) on one Redis with the default
// queue flags: each derives its own queues from its namespace, so neither
// lists, processes nor collects the other's jobs.
func TestNamespacesGetTheirOwnQueues(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	n := 500
	pathA, wantA := sightings(t, n, 21)
	pathB, wantB := sightings(t, n, 22)
	a := newFanin(t, srv.URL(), srv.Client(t), "a:", "FANIN_NAMESPACE=a:")
	b := newFanin(t, srv.URL(), srv.Client(t), "b:")
	jobA := a.submit(t, pathA)
	jobB := b.submit(t, pathB, "--namespace", "b:")

	// Asynq sees each deployment's chunks in its own queue.
	insp := asynq.NewInspectorFromRedisClient(srv.Client(t))
	for _, q := range []string{"a:default", "b:default"} {
		info, err := insp.GetQueueInfo(q)
		if err != nil || info.Pending != n/500 {
			t.Fatalf("queue %s: %+v, %v; want 1 pending chunk", q, info, err)
		}
	}
	if qs, _ := insp.Queues(); !slices.Equal(slices.Sorted(slices.Values(qs)), []string{"a:default", "b:default"}) {
		t.Fatalf("queues = %v, want a:default and b:default only", qs)
	}

	// Deployment a alone: its job ends, b's is untouched.
	wa := a.worker(t)
	a.coordinator(t)
	a.waitEnd(t, time.Now(), jobA)
	a.check(t, jobA, n, wantA)
	if st := b.statusOf(t, jobB); st.Done != 0 || st.State.Terminal() {
		t.Fatalf("deployment a touched b's job: %+v", st)
	}
	for _, c := range []struct {
		f        *fanin
		args     []string
		own, not string
	}{{a, nil, jobA, jobB}, {b, []string{"--namespace", "b:"}, jobB, jobA}} {
		list := mustRun(t, c.f.env, "coordinator", append([]string{"list"}, c.args...)...)
		if !strings.Contains(list, c.own) || strings.Contains(list, c.not) {
			t.Fatalf("list of %s =\n%s\nwant its job %s and not %s", c.f.ns, list, c.own, c.not)
		}
		if r := runBin(t, c.f.env, "coordinator", append([]string{"status", c.not}, c.args...)...); r.code != 1 || !strings.Contains(r.stderr, "job not found") {
			t.Fatalf("status of the other deployment's job in %s: exit %d %q; want 1, job not found", c.f.ns, r.code, r.stderr)
		}
	}
	// Then deployment b (namespace by flag).
	b.worker(t, "--namespace", "b:")
	b.coordinator(t, "--namespace", "b:")
	b.waitEnd(t, time.Now(), jobB)
	b.check(t, jobB, n, wantB)
	a.check(t, jobA, n, wantA)
	if log := wa.logText(); strings.Contains(log, "not found") || !strings.Contains(log, "queues=a:default") {
		t.Fatalf("worker of a: log =\n%s\nwant it serving a:default and no unknown job", log)
	}
}

// TestWorkersKilledDuringJobs runs consecutive jobs on three workers and
// kills one with SIGKILL at a random point of each job (started again at
// once): every job is done with every output once and the fault-free
// result. At CI size, Asynq's recoverer is fast-forwarded at each kill (a
// live task of another worker is then delivered twice, which fanin
// absorbs); under FANIN_FULL=1 it runs in real time.
func TestWorkersKilledDuringJobs(t *testing.T) {
	t.Parallel()
	jobs, n := bySize(3, 10), bySize(2_000, 20_000)
	path, want := sightings(t, n, 3)
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	f := newFanin(t, srv.URL(), srv.Client(t), "")
	f.coordinator(t)
	workers := []*proc{f.worker(t), f.worker(t), f.worker(t)}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))
	began := time.Now()
	var ids []string
	var lastKill time.Time
	for i := range jobs {
		job := f.submit(t, path, "--chunk", "50")
		ids = append(ids, job)
		at := f.waitProgress(t, job, int64(n/10+rng.IntN(n*7/10)))
		k := rng.IntN(len(workers))
		workers[k].signal(t, syscall.SIGKILL)
		if code := workers[k].wait(t); code != -int(syscall.SIGKILL) {
			t.Fatalf("worker exit = %d, want killed", code)
		}
		lastKill = time.Now()
		t.Logf("job %d: killed worker %d (pid %d) at %d/%d finished events", i+1, k, workers[k].cmd.Process.Pid, at, n)
		if !full() {
			// The replacement's recoverer runs at its start: with the
			// leases in the past, it hands the killed worker's chunks back
			// at once instead of 60-120 s later.
			t.Logf("observation: moved %d leases into the past before starting the replacement (Asynq's recoverer fast-forwarded)", asynqtest.BackdateLeases(t, f.client, f.queue))
		}
		workers[k] = f.worker(t)
	}
	after := f.waitEnd(t, lastKill, ids...)
	for _, job := range ids {
		f.check(t, job, n, want)
	}
	t.Logf("observation: %d jobs x %d events, %d workers killed: all done %v after the start, %v after the last kill",
		jobs, n, jobs, time.Since(began).Round(time.Millisecond), after.Round(time.Millisecond))
}

// runFaultJob starts a worker and a coordinator on f, submits a job of n
// sightings, runs fault once a quarter of it is finished, waits for its end
// and checks it. It returns the events finished before the fault and the
// time from the end of the fault to the end of the job.
func runFaultJob(t *testing.T, f *fanin, n int, fault func()) (int64, time.Duration) {
	t.Helper()
	path, want := sightings(t, n, 9)
	f.worker(t, "--concurrency", "4")
	f.coordinator(t)
	job := f.submit(t, path, "--chunk", "50")
	at := f.waitProgress(t, job, int64(n/4))
	fault()
	end := time.Now()
	d := f.waitEnd(t, end, job)
	f.check(t, job, n, want)
	return at, d
}

// TestRedisRestartWithAOFAlways kills Redis (AOF, appendfsync always) in
// the middle of a job and restarts it: the worker and the coordinator ride
// it out, nothing acknowledged is lost and the job ends with the
// fault-free result.
func TestRedisRestartWithAOFAlways(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{AppendFsync: "always"})
	f := newFanin(t, srv.URL(), srv.Client(t), "")
	at, d := runFaultJob(t, f, bySize(2_000, 20_000), func() {
		srv.Kill(t)
		time.Sleep(500 * time.Millisecond)
		srv.Restart(t)
	})
	t.Logf("observation: Redis killed at %d finished events and restarted 0.5 s later; job done %v after the restart", at, d.Round(time.Millisecond))
}

// TestRedisPaused pauses Redis (SIGSTOP) for 5 s in the middle of a job:
// the binaries recover without help and the job ends with the fault-free
// result.
func TestRedisPaused(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	f := newFanin(t, srv.URL(), srv.Client(t), "")
	at, d := runFaultJob(t, f, bySize(2_000, 20_000), func() {
		srv.Pause(t)
		time.Sleep(5 * time.Second)
		srv.Resume(t)
	})
	t.Logf("observation: Redis paused 5 s at %d finished events; job done %v after the resume", at, d.Round(time.Millisecond))
}

// health returns the status code of GET url, 0 when nothing answers.
func health(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRedisDownAtStart starts the worker and the coordinator while Redis is
// down: both wait for it, retrying with backoff and saying so in their
// logs, and their /healthz answers 503 until Redis is back, then 200; a job
// submitted then ends with the fault-free result.
func TestRedisDownAtStart(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{AppendFsync: "always"})
	srv.Kill(t)
	wAddr, cAddr := closedAddr(t), closedAddr(t)
	e := env("FANIN_REDIS_URL=" + srv.URL())
	w := start(t, e, "worker", "--concurrency", "2", "--metrics-addr", wAddr)
	c := start(t, e, "coordinator", "run", "--metrics-addr", cAddr, "--log-format", "json")
	for _, p := range []struct {
		p    *proc
		addr string
		want string
	}{{w, wAddr, `level=WARN msg="Redis unreachable, retrying" redis=` + srv.URL()}, {c, cAddr, `"msg":"Redis unreachable, retrying","redis":"` + srv.URL()}} {
		waitFor(t, "the retry log line", func() bool { return strings.Count(p.p.logText(), p.want) >= 2 })
		if code := health("http://" + p.addr + "/healthz"); code != http.StatusServiceUnavailable {
			t.Fatalf("/healthz while Redis is down = %d, want 503", code)
		}
		if !strings.Contains(p.p.logText(), "connection refused") {
			t.Fatalf("the retry log lacks the cause:\n%s", p.p.logText())
		}
	}
	time.Sleep(time.Second)
	srv.Restart(t)
	up := time.Now()
	for _, addr := range []string{wAddr, cAddr} {
		waitFor(t, "/healthz to answer 200", func() bool { return health("http://"+addr+"/healthz") == http.StatusOK })
	}
	ready := time.Since(up)
	for _, p := range []*proc{w, c} {
		waitFor(t, "the started log line", func() bool {
			l := p.logText()
			return strings.Contains(l, "Redis is reachable") && strings.Contains(l, "started")
		})
	}
	f := newFanin(t, srv.URL(), srv.Client(t), "")
	n := bySize(1_000, 5_000)
	path, want := sightings(t, n, 4)
	job := f.submit(t, path, "--chunk", "50")
	d := f.waitEnd(t, time.Now(), job)
	f.check(t, job, n, want)
	t.Logf("observation: Redis down 1 s at start; both /healthz 200 %v after the restart; a %d-event job then done in %v",
		ready.Round(time.Millisecond), n, d.Round(time.Millisecond))
	// With Redis gone again, SIGTERM still stops both daemons cleanly.
	srv.Kill(t)
	time.Sleep(200 * time.Millisecond)
	for _, p := range []*proc{w, c} {
		began := time.Now()
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit after SIGTERM while Redis is down = %d, want 0\n%s", code, p.logText())
		}
		t.Logf("observation: %s stopped %v after SIGTERM with Redis down", filepath.Base(p.cmd.Path), time.Since(began).Round(time.Millisecond))
	}
}

// TestClusterFailover runs the binaries on a Redis Cluster of 3 masters
// with one replica each, and kills the master holding the job's slot in the
// middle of the job: the replica is promoted and the job ends with the
// fault-free result. Every binary runs with FANIN_REPLICA_ACKS=1 (a write
// counts once the replica has it); the killed node is restarted and rejoins
// as the new master's replica, as an orchestrator would restart it.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ReplicasPerMaster: 1})
	f := newFanin(t, cl.URL(), cl.Client(t), "", "FANIN_REPLICA_ACKS=1")
	n := bySize(2_000, 20_000)
	path, want := sightings(t, n, 9)
	f.worker(t, "--concurrency", "4")
	f.coordinator(t)
	job := f.submit(t, path, "--chunk", "50")
	master := cl.MasterOf(t, "{"+job+"}")
	replica := cl.ReplicasOf(master)[0]
	at := f.waitProgress(t, job, int64(n/4))
	killed := time.Now()
	master.Kill(t)
	replica.WaitPromoted(t, 2*time.Minute)
	promoted := time.Since(killed)
	master.Restart(t)
	d := f.waitEnd(t, killed, job)
	f.check(t, job, n, want)
	t.Logf("observation: killed the job's master %s at %d/%d finished events; replica promoted after %v; job done %v after the kill",
		master.Addr(), at, n, promoted.Round(time.Millisecond), d.Round(time.Millisecond))
}
