package jobs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/locks"
	"github.com/fanin-dev/fanin/workoutput"
)

// The model test: seeded random sequences of operations on a few jobs, run
// against real Redis (the Store and two Coordinators) and against the
// reference model of model_ref_test.go side by side. Every answer must be
// the model's, and after every step the invariants must hold:
//
//   - each job's state and counts are the model's: every event counted at
//     most once, no unregistered event counted;
//   - at most one commit per claim (the coordinators' OnCommit sees each
//     job and token once);
//   - every key has a TTL (the index excepted);
//   - every job that is not finished is in the sweeper's index, due when
//     the model says;
//   - every job is finished by its deadline plus a grace: a drain moves
//     the clock past every due time and sweeps, and then no job may be
//     left unfinished.
//
// The clock is the Store's (workoutput.Config.Now), so deadlines and leases
// pass at once. FANIN_MODEL_SEED=<n> runs one seed; FANIN_FULL=1 runs the
// long version (make test-full). A failure prints its seed and the last
// operations.

const (
	modelMaxEvents = 10
	modelKind      = "k"      // reduced by Count
	modelOrphan    = "orphan" // no coordinator reduces it
)

// modelSize returns the seeds and steps per seed to run.
func modelSize(cluster bool) (seeds []uint64, steps int) {
	if s := os.Getenv("FANIN_MODEL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err == nil {
			return []uint64{n}, 300
		}
	}
	count, steps := 40, 150
	switch {
	case os.Getenv("FANIN_FULL") != "":
		count, steps = 500, 300
	case cluster:
		count = 12
	}
	base := uint64(time.Now().UnixNano())
	for i := range count {
		seeds = append(seeds, base+uint64(i))
	}
	return seeds, steps
}

func TestModelLifecycle(t *testing.T) {
	t.Parallel()
	runModelSuite(t, false)
}

func TestModelLifecycleCluster(t *testing.T) {
	t.Parallel()
	runModelSuite(t, true)
}

func runModelSuite(t *testing.T, cluster bool) {
	seeds, steps := modelSize(cluster)
	for _, seed := range seeds {
		ok := t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			var r *redistest.Redis
			if cluster {
				r = redistest.NewCluster(t)
			} else {
				r = redistest.New(t)
			}
			newModelRun(t, r, seed).run(steps)
		})
		if !ok {
			t.Logf("reproduce with: FANIN_MODEL_SEED=%d go test -run '%s' ./jobs/", seed, t.Name())
			return
		}
	}
}

// fakeClock is the clock of a model run, in whole milliseconds.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d.Truncate(time.Millisecond))
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t.Truncate(time.Millisecond)
	}
}

// modelRun is one seeded run.
type modelRun struct {
	t      *testing.T
	ctx    context.Context
	rng    *rand.Rand
	r      *redistest.Redis
	clock  *fakeClock
	store  *workoutput.Store
	coords [2]*Coordinator
	locks  *locks.Provider
	model  *model
	ids    []string // job IDs, opened or to be
	ghosts map[string]int64
	log    []string
	recs   map[string]workoutput.Record // last write per job, for retries
	adds   map[string]workoutput.Batch  // last Add per job, for retries
	seq    int

	mu        sync.Mutex
	committed map[string]int // "<job>/<token>" -> commits seen by OnCommit
}

func newModelRun(t *testing.T, r *redistest.Redis, seed uint64) *modelRun {
	clock := &fakeClock{now: time.Now().Truncate(time.Millisecond)}
	store := newStore(t, r.Client, workoutput.Config{Namespace: r.Prefix, Now: clock.Now, MaxEvents: modelMaxEvents})
	// The coordinators' lock settings, so the tokens are theirs.
	lp, err := locks.New(locks.Config{Redis: r.Client, KeyPrefix: r.Prefix, TokenTTL: DefaultTokenTTL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lp.Close() })
	m := &modelRun{
		t: t, ctx: context.Background(), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), r: r, clock: clock,
		store: store, locks: lp, model: newModel(modelMaxEvents), ghosts: map[string]int64{},
		recs: map[string]workoutput.Record{}, adds: map[string]workoutput.Batch{}, committed: map[string]int{},
	}
	for i := range m.coords {
		c := newCoordinator(t, r.Client, store, CoordinatorConfig{OnCommit: func(_ context.Context, out Outcome) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.committed[fmt.Sprint(out.JobID, "/", out.Token)]++
		}})
		if err := c.Handle(modelKind, Count()); err != nil {
			t.Fatal(err)
		}
		m.coords[i] = c
	}
	for range 1 + m.rng.IntN(3) {
		m.ids = append(m.ids, m.newID())
	}
	return m
}

// newID returns a job ID drawn from the run's seed.
func (m *modelRun) newID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(m.rng.Uint32())
	}
	return uuid.Must(uuid.FromBytes(b[:])).String()
}

func reducible(kind string) bool { return kind == modelKind }

// claimLease is the lease of a coordinator's claim: LockTTL + SweepInterval.
const claimLease = DefaultLockTTL + DefaultSweepInterval

// fail reports a divergence with the seed's recent operations.
func (m *modelRun) fail(format string, args ...any) {
	m.t.Helper()
	from := max(0, len(m.log)-40)
	m.t.Fatalf("%s\nlast operations (of %d):\n  %s", fmt.Sprintf(format, args...), len(m.log), strings.Join(m.log[from:], "\n  "))
}

func (m *modelRun) note(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf("%4d %s ", len(m.log), m.clock.Now().Format("15:04:05.000"))+fmt.Sprintf(format, args...))
}

// classOf names the sentinel err wraps.
func classOf(err error) errClass {
	switch {
	case err == nil:
		return okClass
	case errors.Is(err, workoutput.ErrNotRetained):
		return notRetainedClass
	case errors.Is(err, workoutput.ErrJobNotFound):
		return notFoundClass
	case errors.Is(err, workoutput.ErrJobExists):
		return existsClass
	case errors.Is(err, workoutput.ErrSealed):
		return sealedClass
	case errors.Is(err, workoutput.ErrDuplicateEvent):
		return dupClass
	case errors.Is(err, workoutput.ErrTooLarge):
		return tooLargeClass
	case errors.Is(err, workoutput.ErrUnknownEvent):
		return unknownClass
	case errors.Is(err, locks.ErrFenced):
		return fencedClass
	case errors.Is(err, ErrNoReducer):
		return noReducerClass
	case errors.Is(err, workoutput.ErrState):
		return stateClass
	case errors.Is(err, workoutput.ErrInvalid):
		return invalidClass
	case errors.Is(err, workoutput.ErrNotRetriable):
		return notRetriable
	}
	return errClass("unexpected: " + err.Error())
}

func (m *modelRun) expect(op string, got error, want errClass) {
	m.t.Helper()
	if c := classOf(got); c != want {
		m.fail("%s: error %q (class %q); the model says %q", op, got, c, want)
	}
}

func (m *modelRun) pick() string { return m.ids[m.rng.IntN(len(m.ids))] }

func (m *modelRun) run(steps int) {
	for step := range steps {
		m.step()
		m.check()
		if step%50 == 49 {
			m.drain()
		}
	}
	m.drain()
}

// step runs one random operation on Redis and on the model.
func (m *modelRun) step() {
	id := m.pick()
	if mj := m.model.jobs[id]; mj != nil && (mj.state == workoutput.StateFailed || mj.state == workoutput.StatePartial) && m.rng.IntN(4) == 0 {
		m.retry(id) // retries are refused in most other states
		return
	}
	switch n := m.rng.IntN(100); {
	case n < 10:
		m.open(id)
	case n < 13:
		m.retryOpen(id)
	case n < 20:
		m.add(id)
	case n < 26:
		m.seal(id)
	case n < 50:
		m.write(id)
	case n < 57:
		m.claim(id)
	case n < 63:
		m.commit(id)
	case n < 66:
		m.cancel(id)
	case n < 74:
		m.sweep()
	case n < 77:
		m.collect(id, false)
	case n < 80:
		m.collect(id, true)
	case n < 82:
		m.ghostOpen()
	case n < 84:
		m.markDue(id)
	case n < 90:
		m.retry(id)
	case n < 93:
		m.noteAttempts(id)
	default:
		m.advance(id)
	}
}

// open opens job id, or another request for it if it exists.
func (m *modelRun) open(id string) {
	kind := modelKind
	if m.rng.IntN(5) == 0 {
		kind = modelOrphan
	}
	spec := workoutput.Spec{
		ID: id, Kind: kind, Deadline: time.Duration(5+m.rng.IntN(55)) * time.Second,
		Retention: time.Minute, FailurePolicy: workoutput.PolicyFail, ChunkSize: 1, MaxRetry: 1,
	}
	if m.rng.IntN(3) == 0 {
		spec.Retention = workoutput.NoRetention
	}
	if m.rng.IntN(2) == 0 {
		spec.FailurePolicy = workoutput.PolicyContinue
	}
	req := openRequest{spec: spec, batch: m.batch(id, false), seal: m.rng.IntN(2) == 0}
	m.doOpen(id, req)
}

// retryOpen repeats the request that opened id (a lost reply).
func (m *modelRun) retryOpen(id string) {
	mj := m.model.jobs[id]
	if mj == nil {
		m.open(id)
		return
	}
	m.doOpen(id, mj.openReq)
}

func (m *modelRun) doOpen(id string, req openRequest) {
	m.note("open %s kind %s seal %v ids %v generated %d policy %s retention %v deadline %v", id, req.spec.Kind, req.seal,
		req.batch.IDs, req.batch.Generated, req.spec.FailurePolicy, req.spec.Retention, req.spec.Deadline)
	job, err := m.store.Open(m.ctx, req.spec, req.batch, req.seal)
	completed, want := m.model.open(req, m.clock.Now())
	m.expect("Open", err, want)
	if err == nil && job.Completed != completed {
		m.fail("Open: Completed %v; the model says %v", job.Completed, completed)
	}
}

// batch returns events to register: caller-given IDs from a small pool
// (some already registered, to meet duplicates) and generated ones.
func (m *modelRun) batch(id string, key bool) workoutput.Batch {
	var b workoutput.Batch
	for _, e := range m.rng.Perm(6)[:m.rng.IntN(4)] {
		b.IDs = append(b.IDs, fmt.Sprint("e", e))
	}
	b.Generated = m.rng.IntN(4)
	if m.rng.IntN(15) == 0 {
		b.Generated = modelMaxEvents + 1 // too many
	}
	if key {
		m.seq++
		b.Key = fmt.Sprint("add-", m.seq)
	}
	return b
}

func (m *modelRun) add(id string) {
	b := m.batch(id, true)
	if last, ok := m.adds[id]; ok && m.rng.IntN(3) == 0 {
		b = last // a retry after a lost reply
	}
	m.adds[id] = b
	m.note("add %s ids %v generated %d key %s", id, b.IDs, b.Generated, b.Key)
	first, err := m.store.Add(m.ctx, id, b)
	want, cls := m.model.add(id, b)
	m.expect("Add", err, cls)
	if err == nil && first != want {
		m.fail("Add: first %d; the model says %d", first, want)
	}
}

func (m *modelRun) seal(id string) {
	m.note("seal %s", id)
	completed, err := m.store.Seal(m.ctx, id)
	want, cls := m.model.seal(id)
	m.expect("Seal", err, cls)
	if err == nil && completed != want {
		m.fail("Seal: completed %v; the model says %v", completed, want)
	}
}

// write writes outputs and failures of some events: registered, already
// finished (a redelivery), or never registered; or retries the last write.
func (m *modelRun) write(id string) {
	rec, retry := m.recs[id]
	if !retry || m.rng.IntN(4) != 0 {
		m.seq++
		rec = workoutput.Record{ID: fmt.Sprint("rec-", m.seq)}
		var pool []string
		if mj := m.model.jobs[id]; mj != nil {
			for e := range mj.given {
				pool = append(pool, e)
			}
			for i := range mj.seq {
				pool = append(pool, workoutput.GeneratedID(i))
			}
		}
		slices.Sort(pool)
		if mj := m.model.jobs[id]; mj != nil && m.rng.IntN(6) == 0 && len(pool) > 0 {
			// A worker that fails every event left, for good, keeping
			// their payloads: a job a retry can complete.
			for _, e := range pool {
				if !mj.outputs[e] && !mj.failures[e] {
					rec.Failures = append(rec.Failures, workoutput.Failure{EventID: e, Reason: "down", Attempts: 2, Time: m.clock.Now(), Payload: []byte(`"` + e + `"`)})
				}
			}
		}
		for range 1 + m.rng.IntN(3) {
			e := "e9"
			if len(pool) > 0 && m.rng.IntN(8) != 0 {
				e = pool[m.rng.IntN(len(pool))]
			} else if m.rng.IntN(2) == 0 {
				e = workoutput.GeneratedID(int64(5 + m.rng.IntN(5)))
			}
			if m.rng.IntN(3) == 0 {
				f := workoutput.Failure{EventID: e, Reason: "boom", Attempts: 1, Time: m.clock.Now()}
				if m.rng.IntN(8) != 0 {
					f.Payload = []byte(`{"event":"` + e + `"}`) // kept for a retry
				}
				rec.Failures = append(rec.Failures, f)
			} else {
				rec.Outputs = append(rec.Outputs, workoutput.Output{EventID: e, Value: []byte(`"` + e + `"`)})
			}
		}
		m.recs[id] = rec
	}
	m.note("write %s record %s outputs %v failures %d", id, rec.ID, len(rec.Outputs), len(rec.Failures))
	res, err := m.store.Write(m.ctx, id, rec)
	want, cls := m.model.write(id, rec)
	m.expect("Write", err, cls)
	if err == nil && res != want {
		m.fail("Write: %+v; the model says %+v", res, want)
	}
}

// token returns a token of the job's lock: a fresh one (a coordinator that
// locked the job, then stalled past its lock), or one issued before.
func (m *modelRun) token(id string) int64 {
	mj := m.model.jobs[id]
	if mj != nil && mj.issued > 0 && m.rng.IntN(3) == 0 {
		return 1 + m.rng.Int64N(mj.issued)
	}
	l, err := m.locks.TryAcquire(m.ctx, workoutput.LockResource(id), nil)
	if err != nil {
		m.fail("lock job %s: %v", id, err)
	}
	if err := l.Release(m.ctx); err != nil {
		m.fail("release job %s: %v", id, err)
	}
	if mj != nil {
		mj.issued++
		if l.Token() != mj.issued {
			m.fail("lock of job %s issued token %d; the model counts %d", id, l.Token(), mj.issued)
		}
	}
	return l.Token()
}

func (m *modelRun) claim(id string) {
	if mj := m.model.jobs[id]; mj == nil || !mj.exists {
		return // a claim of a job never opened indexes it: out of the model
	}
	token := m.token(id)
	mode := workoutput.ClaimCollect
	if m.rng.IntN(3) == 0 {
		mode = workoutput.ClaimReplay
	}
	m.note("claim %s token %d mode %s", id, token, mode)
	from, err := m.store.Claim(m.ctx, workoutput.Claim{JobID: id, Token: token, Mode: mode})
	want, cls := m.model.claim(id, token, mode, m.clock.Now(), workoutput.DefaultClaimLease)
	m.expect("Claim", err, cls)
	if err == nil && from != want {
		m.fail("Claim: from %s; the model says %s", from, want)
	}
}

// commit commits with the claim's token (first or retried), an older one,
// or one that never claimed, and a final state true to the events or not.
func (m *modelRun) commit(id string) {
	mj := m.model.jobs[id]
	if mj == nil || !mj.exists {
		return
	}
	token := mj.token
	switch m.rng.IntN(4) {
	case 0:
		token = m.token(id) // never claimed
	case 1:
		if mj.issued > 0 {
			token = 1 + m.rng.Int64N(mj.issued)
		}
	}
	if token == 0 {
		token = m.token(id)
	}
	states := []workoutput.State{workoutput.StateDone, workoutput.StatePartial, workoutput.StateFailed}
	c := workoutput.Commit{JobID: id, Token: token, State: states[m.rng.IntN(3)], Result: []byte("r"), Retention: mj.spec.Retention}
	if c.Retention == workoutput.NoRetention {
		c.Retention = 0
	}
	if c.State == workoutput.StateFailed {
		c.Result = nil
	}
	m.note("commit %s token %d state %s", id, token, c.State)
	n, err := m.store.Commit(m.ctx, c)
	want, cls := m.model.commit(c)
	m.expect("Commit", err, cls)
	if err == nil && n != want {
		m.fail("Commit: %d outputs; the model says %d", n, want)
	}
}

// retry retries a job (Store.Retry), with a new key or that of any retry
// before (a repeated call after a lost reply, maybe after later retries).
func (m *modelRun) retry(id string) {
	mj := m.model.jobs[id]
	key := ""
	if mj != nil && len(mj.retries) > 0 && m.rng.IntN(3) == 0 {
		keys := slices.Sorted(maps.Keys(mj.retries))
		key = keys[m.rng.IntN(len(keys))]
	} else {
		m.seq++
		key = fmt.Sprint("retry-", m.seq)
	}
	m.note("retry %s key %s", id, key)
	got, err := m.store.Retry(m.ctx, id, key)
	want, cls := m.model.retry(id, key, m.clock.Now())
	m.expect("Retry", err, cls)
	if err == nil && (got.Events != want.Events || got.Again != want.Again || !got.Deadline.Equal(want.Deadline)) {
		m.fail("Retry: %+v; the model says %+v", got, want)
	}
}

// noteAttempts notes failed attempts of some events: registered or not,
// finished (an output or a failure: a late note of another delivery) or
// not.
func (m *modelRun) noteAttempts(id string) {
	var finished []string
	if mj := m.model.jobs[id]; mj != nil {
		finished = slices.Sorted(maps.Keys(mj.outputs))
		finished = append(finished, slices.Sorted(maps.Keys(mj.failures))...)
	}
	var errs []workoutput.Failure
	var ids []string
	for range 1 + m.rng.IntN(3) {
		var e string
		switch n := m.rng.IntN(8); {
		case n < 2 && len(finished) > 0:
			e = finished[m.rng.IntN(len(finished))]
		case n == 2:
			e = "e9" // never registered
		case n < 5:
			e = fmt.Sprint("e", m.rng.IntN(6))
		default:
			e = workoutput.GeneratedID(int64(m.rng.IntN(6)))
		}
		errs = append(errs, workoutput.Failure{EventID: e, Reason: "flaky", Attempts: 1, Time: m.clock.Now()})
		ids = append(ids, e)
	}
	m.note("note %s failed attempts of %v", id, ids)
	err := m.store.Note(m.ctx, id, errs)
	m.expect("Note", err, m.model.note(id, ids))
}

func (m *modelRun) cancel(id string) {
	m.note("cancel %s", id)
	m.expect("Cancel", m.store.Cancel(m.ctx, id), m.model.cancel(id))
}

// collect collects (or replays) a job with one of the coordinators.
func (m *modelRun) collect(id string, replay bool) {
	if mj := m.model.jobs[id]; mj == nil || !mj.exists {
		return // a claim of a job never opened indexes it: out of the model
	}
	c := m.coords[m.rng.IntN(2)]
	m.note("collect %s replay %v", id, replay)
	var out Outcome
	var err error
	if replay {
		out, err = c.Replay(m.ctx, id)
	} else {
		out, err = c.Collect(m.ctx, id)
	}
	state, result, cls := m.model.collect(id, replay, reducible, m.clock.Now(), claimLease)
	m.expect("Collect", err, cls)
	if err == nil && (out.State != state || string(out.Result) != result) {
		m.fail("Collect: %s %s; the model says %s %s", out.State, out.Result, state, result)
	}
}

// sweep runs one coordinator's sweep, or both at once.
func (m *modelRun) sweep() {
	now := m.clock.Now()
	both := m.rng.IntN(3) == 0
	m.note("sweep (both coordinators: %v)", both)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		if i == 1 && !both {
			break
		}
		wg.Go(func() { errs[i] = m.coords[i].Sweep(m.ctx, now) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			m.fail("Sweep: %v", err)
		}
	}
	m.model.sweep(now, reducible, claimLease)
	for id, score := range m.ghosts {
		if score != 0 && score <= now.UnixMilli() {
			m.ghosts[id] = 0 // dropped: no job behind a due entry
		}
	}
}

// ghostOpen is an Open that died between indexing a job and creating it.
func (m *modelRun) ghostOpen() {
	id := m.newID()
	score := m.clock.Now().Add(time.Duration(5+m.rng.IntN(55))*time.Second + workoutput.DefaultSweepDelay).UnixMilli()
	m.note("open %s dies after indexing it", id)
	if err := m.r.Client.ZAdd(m.ctx, m.r.Prefix+"jobs", redis.Z{Score: float64(score), Member: id}).Err(); err != nil {
		m.fail("index a ghost: %v", err)
	}
	m.ghosts[id] = score
}

func (m *modelRun) markDue(id string) {
	m.note("mark %s due", id)
	if err := m.store.MarkDue(m.ctx, id); err != nil {
		m.fail("MarkDue: %v", err)
	}
	if mj := m.model.jobs[id]; mj != nil && mj.score != 0 {
		mj.score = min(mj.score, m.clock.Now().Add(workoutput.DefaultSweepDelay).UnixMilli())
	}
}

// advance moves the clock a little, or to around a job's deadline.
func (m *modelRun) advance(id string) {
	switch mj := m.model.jobs[id]; {
	case mj != nil && m.rng.IntN(2) == 0:
		m.clock.set(mj.deadline.Add(time.Duration(m.rng.IntN(3)-1) * time.Millisecond))
	default:
		m.clock.advance(time.Duration(1+m.rng.IntN(3000)) * time.Millisecond)
	}
	m.note("clock is now %s", m.clock.Now().Format("15:04:05.000"))
}

// drain moves the clock past every due time and sweeps until nothing is
// due: every job must then be finished (the liveness invariant: terminal by
// its deadline plus a grace of SweepDelay and the leases).
func (m *modelRun) drain() {
	for round := range 4 {
		var next int64
		for _, mj := range m.model.jobs {
			if mj.score != 0 {
				next = max(next, mj.score)
			}
		}
		for _, s := range m.ghosts {
			next = max(next, s)
		}
		if next == 0 {
			break
		}
		m.clock.set(time.UnixMilli(next + 1))
		m.note("drain round %d", round)
		m.sweep()
		m.check()
	}
	for _, id := range m.ids {
		if mj := m.model.jobs[id]; mj != nil && mj.exists && !mj.state.Terminal() {
			m.fail("job %s is %s after a drain past every due time; want it finished", id, mj.state)
		}
	}
}

// check compares Redis with the model and checks the invariants.
func (m *modelRun) check() {
	m.t.Helper()
	idx := m.r.Prefix + "jobs"
	for _, id := range m.ids {
		mj := m.model.jobs[id]
		st, err := m.store.Status(m.ctx, id)
		if mj == nil || !mj.exists {
			if !errors.Is(err, workoutput.ErrJobNotFound) {
				m.fail("Status of the job never opened %s = %+v, %v; want not found", id, st, err)
			}
			continue
		}
		if err != nil {
			m.fail("Status %s: %v", id, err)
		}
		got := fmt.Sprintf("state %s sealed %v total %d done %d failed %d retrying %d last error %q", st.State, st.Sealed, st.Total, st.Done, st.Failed, st.Retrying, st.LastError.EventID)
		if want := mj.status(); got != want {
			m.fail("job %s: %s; the model says %s", id, got, want)
		}
		// Each event counted once, registered events only.
		outs := m.r.Client.HKeys(m.ctx, m.r.Prefix+"job:{"+id+"}:outputs").Val()
		fails := m.r.Client.HKeys(m.ctx, m.r.Prefix+"job:{"+id+"}:failures").Val()
		for _, e := range append(slices.Clone(outs), fails...) {
			if !mj.registered(e) {
				m.fail("job %s counts the unregistered event %q", id, e)
			}
		}
		for _, e := range fails {
			if slices.Contains(outs, e) {
				m.fail("job %s counts event %q twice: an output and a failure", id, e)
			}
		}
		// The payloads kept are those of failed events without an output.
		kept := m.r.Client.HKeys(m.ctx, m.r.Prefix+"job:{"+id+"}:payloads").Val()
		slices.Sort(kept)
		if want := slices.Sorted(maps.Keys(mj.payloads)); !slices.Equal(kept, want) {
			m.fail("job %s keeps the payloads of %q; the model says %q", id, kept, want)
		}
		// Indexed when not finished, due when the model says.
		score, err := m.r.Client.ZScore(m.ctx, idx, id).Result()
		switch {
		case errors.Is(err, redis.Nil) && mj.score != 0, err == nil && int64(score) != mj.score:
			m.fail("job %s (%s): index score %v (%v); the model says %d", id, mj.state, int64(score), err, mj.score)
		case errors.Is(err, redis.Nil) && !mj.state.Terminal():
			m.fail("job %s is %s and not in the index", id, mj.state)
		}
	}
	// An entry with no job behind it (an Open that died) stays until it is
	// due, and goes then.
	for id, want := range m.ghosts {
		score, err := m.r.Client.ZScore(m.ctx, idx, id).Result()
		if (want == 0) != errors.Is(err, redis.Nil) || (want != 0 && int64(score) != want) {
			m.fail("index entry of the job %s that was never created: %v, %v; the model says %d", id, score, err, want)
		}
	}
	// One commit per claim.
	m.mu.Lock()
	for k, n := range m.committed {
		if n > 1 {
			m.mu.Unlock()
			m.fail("job/token %s committed %d times", k, n)
		}
	}
	m.mu.Unlock()
	// Every key has a TTL.
	for _, k := range m.keys() {
		if k == idx {
			continue
		}
		if ttl := m.r.Client.PTTL(m.ctx, k).Val(); ttl <= 0 {
			m.fail("key %s has no TTL (%v)", k, ttl)
		}
	}
}

// keys lists the run's keys, on every master.
func (m *modelRun) keys() []string {
	var out []string
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, m.r.Prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			out = append(out, it.Val())
		}
		return it.Err()
	}
	var err error
	if cc, ok := m.r.Client.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		err = cc.ForEachMaster(m.ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, c)
		})
	} else {
		err = scan(m.ctx, m.r.Client)
	}
	if err != nil {
		m.fail("scan keys: %v", err)
	}
	return out
}
