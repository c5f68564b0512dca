package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/locks"
	"github.com/fanin-dev/fanin/workoutput"
)

// One regression test per finding of issue 12 ("Exact by construction"),
// named after it. Each failed on the code before the lifecycle rewrite (see
// regressions_api_test.go); the model test (model_test.go) hunts for the
// ones nobody has thought of yet.

// commandHook lets a test watch and fail the commands of one client.
// before runs before a command is sent: an error replaces the command (it is
// not sent). after runs once the reply is in: an error replaces the reply
// (the command ran: a lost reply). Either may be nil.
type commandHook struct {
	before, after func(cmd redis.Cmder) error
}

func (h commandHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h commandHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.before != nil {
			if err := h.before(cmd); err != nil {
				cmd.SetErr(err)
				return err
			}
		}
		err := next(ctx, cmd)
		if h.after != nil {
			if aerr := h.after(cmd); aerr != nil {
				cmd.SetErr(aerr)
				return aerr
			}
		}
		return err
	}
}

func (h commandHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if h.before != nil {
				if err := h.before(cmd); err != nil {
					cmd.SetErr(err)
					return err
				}
			}
		}
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if h.after != nil {
				if aerr := h.after(cmd); aerr != nil {
					cmd.SetErr(aerr)
					err = aerr
				}
			}
		}
		return err
	}
}

// errInjected is what the hooks fail commands with: not a Redis reply, so
// the store takes it for a network error (an outage).
var errInjected = errors.New("injected: connection reset by the test")

// scriptKeys returns the KEYS of an EVAL or EVALSHA command, or nil.
func scriptKeys(cmd redis.Cmder) []string {
	args := cmd.Args()
	if name := strings.ToLower(fmt.Sprint(args[0])); (name != "evalsha" && name != "eval") || len(args) < 3 {
		return nil
	}
	var n int
	if _, err := fmt.Sscan(fmt.Sprint(args[2]), &n); err != nil || len(args) < 3+n {
		return nil
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(args[3+i])
	}
	return keys
}

// firstKey returns the first key argument of a plain command.
func firstKey(cmd redis.Cmder) string {
	if args := cmd.Args(); len(args) > 1 {
		return fmt.Sprint(args[1])
	}
	return ""
}

// hookedEnv is a Store and Coordinator on a client of their own, on the
// shared single server, with a hook the test sets.
func hookedEnv(t *testing.T, cfg workoutput.Config, hook commandHook) (*redistest.Redis, *workoutput.Store) {
	t.Helper()
	r := redistest.New(t)
	base := r.Client.(*redis.Client).Options()
	client := redis.NewClient(&redis.Options{Addr: base.Addr, Username: base.Username, Password: base.Password,
		TLSConfig: base.TLSConfig, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	client.AddHook(hook)
	cfg.Namespace = r.Prefix
	return &redistest.Redis{Client: client, Prefix: r.Prefix}, newStore(t, client, cfg)
}

// 1. A job that was never sealed is not committed done at its deadline: it
// fails (policy fail) or is partial (policy continue), saying so; an empty
// job opened and never sealed (an Open whose producer died) fails too.
func TestRegressUnsealedJobIsNotDoneAtItsDeadline(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	c := e.coordinator(t, CoordinatorConfig{})
	var infos sync.Map
	if err := c.Handle("k", ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		infos.Store(job.ID, job)
		return Count().Reduce(ctx, job, in)
	})); err != nil {
		t.Fatal(err)
	}
	open := func(policy workoutput.FailurePolicy, ids ...string) string {
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: 200 * time.Millisecond, FailurePolicy: policy}, workoutput.Batch{}, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 {
			if _, err := e.store.Add(ctx, job.ID, workoutput.Batch{IDs: ids}); err != nil {
				t.Fatal(err)
			}
			write(t, e.store, job.ID, ids)
		}
		return job.ID
	}
	failJob := open(workoutput.PolicyFail, "a", "b")
	partialJob := open(workoutput.PolicyContinue, "a", "b")
	emptyJob := open(workoutput.PolicyFail)
	time.Sleep(300 * time.Millisecond)
	if err := c.Sweep(ctx, time.Now().Add(sweepSlack)); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]workoutput.State{failJob: workoutput.StateFailed, partialJob: workoutput.StatePartial, emptyJob: workoutput.StateFailed} {
		st, err := e.store.Status(ctx, id)
		if err != nil || st.State != want || !strings.HasPrefix(st.Error, "never sealed") {
			t.Errorf("unsealed job past its deadline = %+v, %v; want %s, never sealed", st, err, want)
		}
	}
	if v, ok := infos.Load(partialJob); !ok || v.(JobInfo).Partial() != true {
		t.Errorf("the reducer of the unsealed partial job got %+v; want a partial JobInfo", v)
	}
}

// 2. Commit checks the claimant before anything and never writes the fence:
// a retry after a success gets the first answer and leaves every key with a
// TTL; a token that never claimed the job changes nothing, and the real
// claimant still commits.
func TestRegressCommitLeavesTheFenceAlone(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	fence := func(id string) string { return locks.FenceKey(e.r.Prefix, workoutput.LockResource(id)) }

	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Retention: time.Minute}, "a")
	write(t, e.store, id, []string{"a"})
	if _, err := claimWith(ctx, e.store, id, 5, workoutput.ClaimCollect); err != nil {
		t.Fatal(err)
	}
	commit := workoutput.Commit{JobID: id, Token: 5, State: workoutput.StateDone, Result: []byte("r"), Retention: time.Minute}
	if _, err := e.store.Commit(ctx, commit); err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.Commit(ctx, commit); err != nil || n != 1 {
		t.Errorf("retried Commit = %d, %v; want the first answer, 1 output", n, err)
	}
	if ttl, err := e.r.Client.PTTL(ctx, fence(id)).Result(); err != nil || ttl <= 0 {
		t.Errorf("TTL of the fence after a retried Commit = %v, %v; want the retention", ttl, err)
	}

	other := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Retention: time.Minute}, "a")
	write(t, e.store, other, []string{"a"})
	if _, err := claimWith(ctx, e.store, other, 7, workoutput.ClaimCollect); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: other, Token: 9, State: workoutput.StateDone, Retention: time.Minute}); !errors.Is(err, locks.ErrFenced) {
		t.Errorf("Commit with a token that never claimed = %v; want locks.ErrFenced", err)
	}
	if seen, _ := e.r.Client.Get(ctx, fence(other)).Int64(); seen != 7 {
		t.Errorf("fence after a Commit by a token that never claimed = %d; want 7, the claim's", seen)
	}
	if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: other, Token: 7, State: workoutput.StateDone, Retention: time.Minute}); err != nil {
		t.Errorf("Commit by the real claimant = %v; want nil", err)
	}
}

// 3. A replay that dies midway is taken over by a sweep: the replay's claim
// indexes the job again.
func TestRegressReplayThatDiesIsTakenOver(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	c := e.counting(t, CoordinatorConfig{LockTTL: time.Second})
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Retention: time.Minute}, "a")
	write(t, e.store, id, []string{"a"})
	if _, err := c.Collect(ctx, id); err != nil {
		t.Fatal(err)
	}
	// A sweep drops the finished job from the index.
	if _, err := storeSweep(ctx, e.store, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A replay locks and claims it, then its coordinator dies before
	// committing (its lock expires).
	lp, err := locks.New(locks.Config{Redis: e.r.Client, KeyPrefix: e.r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	lock, err := lp.TryAcquire(ctx, workoutput.LockResource(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	dead := lock.Token()
	if _, err := claimWith(ctx, e.store, id, dead, workoutput.ClaimReplay); err != nil {
		t.Fatal(err)
	}
	if err := lock.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Sweep(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st, err := e.store.Status(ctx, id); err != nil || st.State != workoutput.StateDone || st.Token <= dead {
		t.Errorf("replayed job whose coordinator died, after a sweep = %+v, %v; want done again under a token newer than %d", st, err, dead)
	}
}

// 4. Write accepts registered event IDs only: a made-up ID neither counts
// nor completes the job.
func TestRegressUnregisteredEventIsRejected(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 2}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"made-up", "#2", "#00", "#A"} {
		res, err := tryWrite(ctx, e.store, job.ID, []workoutput.Output{{EventID: "#0", Value: []byte("1")}, {EventID: bad, Value: []byte("2")}}, nil)
		if err == nil || res.Completed {
			t.Errorf("Write of #0 and the unregistered %q = %+v, %v; want an error", bad, res, err)
		}
	}
	if st, err := e.store.Status(ctx, job.ID); err != nil || st.State != stateRunning || st.Done != 0 {
		t.Errorf("job after writes of unregistered events = %+v, %v; want running, nothing done", st, err)
	}
}

// 5. A job whose kind has no reducer does not stay complete for ever: at its
// deadline a coordinator fails it, naming the kind.
func TestRegressNoReducerFailsTheJobAtItsDeadline(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	c := e.coordinator(t, CoordinatorConfig{})
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "nobody.reduces", Deadline: 200 * time.Millisecond, Retention: time.Minute}, "a")
	write(t, e.store, id, []string{"a"})
	if _, err := c.Collect(ctx, id); !errors.Is(err, ErrNoReducer) {
		t.Fatalf("Collect before the deadline = %v; want ErrNoReducer", err)
	}
	time.Sleep(300 * time.Millisecond)
	_ = c.Sweep(ctx, time.Now().Add(sweepSlack))
	if _, err := c.Collect(ctx, id); err != nil && !errors.Is(err, workoutput.ErrState) {
		t.Logf("Collect past the deadline = %v", err)
	}
	st, err := e.store.Status(ctx, id)
	if err != nil || st.State != workoutput.StateFailed || !strings.Contains(st.Error, `no reducer for kind "nobody.reduces"`) {
		t.Errorf("job without reducer past its deadline = %+v, %v; want failed, naming the kind", st, err)
	}
}

// 5b. Past the deadline, a coordinator without the kind's reducer leaves the
// job while another live coordinator announces one (the job is then
// reduced there), and fails it only when none does or when none took it
// within the grace.
func TestRegressNoReducerHereLeavesTheJobToAnother(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	short := CoordinatorConfig{LockTTL: 20 * time.Millisecond, SweepInterval: 10 * time.Millisecond} // grace 300ms
	without := e.coordinator(t, short)
	with := e.counting(t, short)
	reg, err := NewRegistry(e.r.Client, RegistryConfig{Namespace: e.r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	announce := func() {
		if err := reg.Beat(ctx, Member{ID: "other", Role: RoleCoordinator, Kinds: []string{"k"}}); err != nil {
			t.Fatal(err)
		}
	}
	announce()
	overdue := func() string {
		id := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Deadline: 50 * time.Millisecond, Retention: time.Minute}, "a", "b")
		write(t, e.store, id, []string{"a"})
		time.Sleep(80 * time.Millisecond)
		return id
	}

	// Another coordinator reduces the kind: left to it, and it reduces it.
	id := overdue()
	if _, err := without.Collect(ctx, id); !errors.Is(err, ErrNoReducer) {
		t.Fatalf("Collect without the reducer, another announcing one = %v; want ErrNoReducer", err)
	}
	out, err := with.Collect(ctx, id)
	if err != nil || out.State != workoutput.StateFailed || !strings.Contains(out.Error, "missing") {
		t.Fatalf("Collect by the coordinator with the reducer = %+v, %v; want failed by the policy for the missing event", out, err)
	}

	// None took it within the grace: failed, saying so.
	id = overdue()
	time.Sleep(400 * time.Millisecond)
	announce()
	out, err = without.Collect(ctx, id)
	if err != nil || out.State != workoutput.StateFailed || !strings.Contains(out.Error, "no coordinator that announces one collected the job within") {
		t.Fatalf("Collect past the grace = %+v, %v; want failed, naming the grace", out, err)
	}

	// Nobody announces a reducer: failed at once.
	if err := reg.Leave(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	id = overdue()
	out, err = without.Collect(ctx, id)
	if err != nil || out.State != workoutput.StateFailed || !strings.Contains(out.Error, `no reducer for kind "k": no coordinator registered one`) {
		t.Fatalf("Collect with no coordinator announcing a reducer = %+v, %v; want failed, naming the kind", out, err)
	}
}

// 6. A worker without a handler for the kind keeps the events retryable (a
// rolling deploy): nothing is failed or archived.
func TestRegressNoHandlerKeepsTheEvents(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	ctx := context.Background()
	mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		t.Fatal(err)
	}
	events := []Event{{ID: "a", Payload: []byte(`1`)}, {ID: "b", Payload: []byte(`2`)}}
	id := openJob(t, env, "new.kind", events)
	err = mux.ProcessTask(ctx, chunkTask(t, id, "new.kind", events))
	if errors.Is(err, asynq.SkipRetry) {
		t.Errorf("ProcessTask of a kind without handler = %v; want it not archived", err)
	}
	if st, err := env.store.Status(ctx, id); err != nil || st.Failed != 0 {
		t.Errorf("job = %+v, %v; want no failed event", st, err)
	}
}

// 7. A job failed by its policy keeps its reasons even with NoRetention:
// status tells why, and a replay is possible.
func TestRegressPolicyFailureIsKeptWithNoRetention(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	c := e.counting(t, CoordinatorConfig{})
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Retention: workoutput.NoRetention}, "a", "b")
	write(t, e.store, id, []string{"a"}, "b")
	if out, err := c.Collect(ctx, id); err != nil || out.State != workoutput.StateFailed {
		t.Fatalf("Collect = %+v, %v; want failed", out, err)
	}
	st, err := e.store.Status(ctx, id)
	if err != nil || st.State != workoutput.StateFailed || st.Error == "" || st.Failed != 1 {
		t.Errorf("Status of the failed job = %+v, %v; want failed with its reason and failure", st, err)
	}
	if _, err := c.Replay(ctx, id); err != nil {
		t.Errorf("Replay of the failed job = %v; want it possible", err)
	}
}

// 8. The hand-off's errors agree: Submit cancels a job whose Open failed
// ambiguously and says what became of it; Seal does not fail for a lost
// collect task (the job is complete and a sweep collects it).
func TestRegressHandOffErrors(t *testing.T) {
	t.Parallel()
	t.Run("Submit after an ambiguous Open", func(t *testing.T) {
		t.Parallel()
		var created atomic.Value
		r, store := hookedEnv(t, workoutput.Config{}, commandHook{after: func(cmd redis.Cmder) error {
			if keys := scriptKeys(cmd); len(keys) == 7 && strings.HasSuffix(keys[1], ":events") && strings.Contains(keys[5], ":staged:") && cmd.Err() == nil {
				created.Store(keys[0])
				return errInjected // the job was created; the reply is lost
			}
			return nil
		}})
		p := newProducer(t, r.Client, store, ProducerConfig{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := p.Submit(ctx, workoutput.Spec{Kind: "k"}, []Event{{Payload: []byte("1")}})
		if err == nil {
			t.Fatal("Submit with every reply of Open lost = nil; want an error")
		}
		meta, _ := created.Load().(string)
		id := strings.TrimSuffix(strings.TrimPrefix(meta, r.Prefix+"job:{"), "}:meta")
		st, serr := store.Status(context.Background(), id)
		if serr != nil || st.State != workoutput.StateCancelled || !strings.Contains(err.Error(), "cancelled") {
			t.Errorf("after Submit failed with %q: job = %+v, %v; want it cancelled, and the error saying so", err, st, serr)
		}
	})
	t.Run("Seal with the collect queue unavailable", func(t *testing.T) {
		t.Parallel()
		r, store := hookedEnv(t, workoutput.Config{}, commandHook{before: func(cmd redis.Cmder) error {
			for _, k := range append(scriptKeys(cmd), firstKey(cmd)) {
				if strings.Contains(k, "{"+collectQueue+"}") {
					return errInjected
				}
			}
			return nil
		}})
		p := newProducer(t, r.Client, store, ProducerConfig{})
		ctx := context.Background()
		job, err := p.Open(ctx, workoutput.Spec{Kind: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if err := job.Seal(ctx); err != nil {
			t.Errorf("Seal of an empty job whose collect task cannot be enqueued = %v; want nil (the job is complete, a sweep collects it)", err)
		}
		if st, err := store.Status(ctx, job.ID()); err != nil || st.State != workoutput.StateComplete {
			t.Errorf("job = %+v, %v; want complete", st, err)
		}
	})
}

// 9. Gather holds outputs within a byte budget: a job of large outputs is
// read in small pages, never in one HGETALL of hundreds of them.
func TestRegressGatherIsBoundedInBytes(t *testing.T) {
	t.Parallel()
	const (
		n      = 300
		size   = 64 << 10
		budget = 1 << 20
	)
	var (
		mu       sync.Mutex
		hgetall  int
		maxField int
	)
	r, store := hookedEnv(t, gatherBudget(budget), commandHook{before: func(cmd redis.Cmder) error {
		if !strings.HasSuffix(firstKey(cmd), ":outputs") {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		switch strings.ToLower(fmt.Sprint(cmd.Args()[0])) {
		case "hgetall":
			hgetall++
		case "hmget":
			maxField = max(maxField, len(cmd.Args())-2)
		}
		return nil
	}})
	ctx := context.Background()
	job, err := store.Open(ctx, workoutput.Spec{Kind: "k", Retention: time.Minute}, workoutput.Batch{Generated: n}, true)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", size)
	for i := range n {
		if _, err := tryWrite(ctx, store, job.ID, []workoutput.Output{{EventID: workoutput.GeneratedID(int64(i)), Value: []byte(big)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := newCoordinator(t, r.Client, store, CoordinatorConfig{})
	if err := c.Handle("k", Count()); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Collect(ctx, job.ID); err != nil || out.State != workoutput.StateDone {
		t.Fatalf("Collect = %+v, %v", out, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hgetall > 0 || maxField*size > budget {
		t.Errorf("gathering %d outputs of %d bytes with a %d-byte budget: %d HGETALL, HMGET of up to %d fields; want no HGETALL and pages within the budget",
			n, size, budget, hgetall, maxField)
	}
}

// 10. A Redis error while gathering is an outage, retried, not a reducer
// failure: the job is done, its reducer's attempts not spent. (The hook
// fails the first reads of the outputs.) A reducer that swallows the failed
// read (it stops at the error and returns what it has) gets no truncated
// result committed: the attempt is retried in the same way.
func TestRegressGatherOutageIsNotAReducerFailure(t *testing.T) {
	t.Parallel()
	swallow := ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		n := 0
		for _, err := range in.Outputs() {
			if err != nil {
				break // the bug this guards against: the error is dropped
			}
			n++
		}
		return fmt.Append(nil, n), nil
	})
	for _, tc := range []struct {
		name     string
		reducer  Reducer
		failures int64
		result   string
	}{
		{"reducer returns the error", Count(), 5, `{"outputs":2,"failed":0,"missing":0}`},
		{"reducer swallows the error", swallow, 1, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var fail atomic.Int64
			fail.Store(tc.failures)
			r, store := hookedEnv(t, workoutput.Config{}, commandHook{before: func(cmd redis.Cmder) error {
				read := strings.Contains(" hmget hgetall hscan hlen ", " "+strings.ToLower(fmt.Sprint(cmd.Args()[0]))+" ")
				if read && strings.HasSuffix(firstKey(cmd), ":outputs") && fail.Add(-1) >= 0 {
					return errInjected
				}
				return nil
			}})
			ctx := context.Background()
			id := sealedJob(t, store, workoutput.Spec{Kind: "k", Retention: time.Minute}, "a", "b")
			write(t, store, id, []string{"a", "b"})
			c := newCoordinator(t, r.Client, store, CoordinatorConfig{ReduceAttempts: 3})
			if err := c.Handle("k", tc.reducer); err != nil {
				t.Fatal(err)
			}
			out, err := c.Collect(ctx, id)
			if err != nil || out.State != workoutput.StateDone || out.Attempts != 1 {
				t.Errorf("Collect through %d failed reads = %+v, %v; want done in 1 counted attempt", tc.failures, out, err)
			}
			if res, err := store.Result(ctx, id); err != nil || string(res) != tc.result {
				t.Errorf("committed result = %q, %v; want %q (both outputs), not a result cut short by the failed read", res, err, tc.result)
			}
		})
	}
}

// 11. A sweep costs what is due: it reads the jobs that are due only, and
// two coordinators sweeping at once never take the same job.
func TestRegressSweepReadsOnlyWhatIsDue(t *testing.T) {
	t.Parallel()
	var metaReads atomic.Int64
	_, store := hookedEnv(t, workoutput.Config{}, commandHook{before: func(cmd redis.Cmder) error {
		if strings.HasSuffix(firstKey(cmd), ":meta") && strings.EqualFold(fmt.Sprint(cmd.Args()[0]), "hmget") {
			metaReads.Add(1)
		}
		return nil
	}})
	ctx := context.Background()
	for range 200 {
		sealedJob(t, store, workoutput.Spec{Kind: "k"}, "a")
	}
	var overdue []string
	for range 20 {
		// A deadline far enough ahead that Open, slowed by -race and a
		// loaded machine, arrives before it.
		overdue = append(overdue, sealedJob(t, store, workoutput.Spec{Kind: "k", Deadline: 200 * time.Millisecond}, "a"))
	}
	time.Sleep(250 * time.Millisecond)
	var (
		wg      sync.WaitGroup
		results [2]workoutput.SweepResult
		errs    [2]error
	)
	metaReads.Store(0)
	for i := range 2 {
		wg.Go(func() { results[i], errs[i] = storeSweep(ctx, store, time.Now().Add(sweepSlack)) })
	}
	wg.Wait()
	seen := map[string]int{}
	for i := range 2 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, id := range results[i].Overdue {
			seen[id]++
		}
	}
	for _, id := range overdue {
		if seen[id] != 1 {
			t.Errorf("overdue job %s taken by %d of 2 concurrent sweeps; want exactly 1", id, seen[id])
		}
	}
	if reads := metaReads.Load(); reads > int64(len(overdue)) {
		t.Errorf("2 sweeps read the meta of %d jobs; want at most the %d due", reads, len(overdue))
	}
}

// 12. Errors keep their class: a wrong type, a script error or a missing
// permission is not "unavailable" (which the worker would retry for 30 s).
func TestRegressErrorsKeepTheirClass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newCoordEnv(t, false)
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k"}, "a")
	meta := e.r.Prefix + "job:{" + id + "}:meta"
	if err := e.r.Client.HSet(ctx, meta, "total", "not a number").Err(); err != nil {
		t.Fatal(err)
	}
	_, err := tryWrite(ctx, e.store, id, []workoutput.Output{{EventID: "a", Value: []byte("1")}}, nil)
	if err == nil || errors.Is(err, cache.ErrUnavailable) || !isInternal(err) {
		t.Errorf("Write when the script fails = %v; want ErrInternal, not unavailable", err)
	}
	if err := e.r.Client.Set(ctx, meta, "a string", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Status(ctx, id); err == nil || errors.Is(err, cache.ErrUnavailable) || !isInternal(err) {
		t.Errorf("Status of a meta of the wrong type = %v; want ErrInternal, not unavailable", err)
	}

	srv := redistest.StartServer(t, redistest.ServerOptions{Users: []redistest.ACLUser{{Name: "noscripts", Password: "pw", Rules: "~* &* +@all -@scripting"}}})
	opts := srv.Options()
	opts.Username, opts.Password = "noscripts", "pw"
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	store := newStore(t, client, workoutput.Config{})
	_, err = store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 1}, true)
	if err == nil || errors.Is(err, cache.ErrUnavailable) || !isPermission(err) {
		t.Errorf("Open by a user without scripting = %v; want ErrPermission, not unavailable", err)
	}
}

// 13. Cancel applies the job's retention at once, not the safety TTL.
func TestRegressCancelAppliesTheRetention(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k", Retention: time.Minute}, "a", "b")
	write(t, e.store, id, []string{"a"})
	if err := e.store.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"meta", "outputs"} {
		key := e.r.Prefix + "job:{" + id + "}:" + k
		if ttl, err := e.r.Client.PTTL(ctx, key).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("TTL of %s after Cancel = %v, %v; want the 1m retention", key, ttl, err)
		}
	}
}

// 14. The lock is released before the sinks run (docs/ARCHITECTURE.md).
func TestRegressLockIsReleasedBeforeTheSinks(t *testing.T) {
	t.Parallel()
	e := newCoordEnv(t, false)
	ctx := context.Background()
	lp, err := locks.New(locks.Config{Redis: e.r.Client, KeyPrefix: e.r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	var lockedInSink atomic.Value
	sink := SinkFunc(func(ctx context.Context, out Outcome) error {
		locked, err := lp.IsLocked(ctx, workoutput.LockResource(out.JobID))
		lockedInSink.Store(fmt.Sprint(locked, err))
		return nil
	})
	c := e.counting(t, CoordinatorConfig{Sinks: []Sink{sink}})
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "k"}, "a")
	write(t, e.store, id, []string{"a"})
	if _, err := c.Collect(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := lockedInSink.Load(); got != "false <nil>" {
		t.Errorf("job's lock while the sink ran: %v; want released", got)
	}
}
