package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/locks"
	"github.com/fanin-dev/fanin/workoutput"
)

// Defaults of CoordinatorConfig.
const (
	// DefaultCoordinatorConcurrency is how many jobs one coordinator
	// collects at once.
	DefaultCoordinatorConcurrency = 4
	// DefaultLockTTL is the TTL of a job's lock; the watchdog renews it
	// every third of it while the coordinator works.
	DefaultLockTTL = 30 * time.Second
	// MinLockTTL is the shortest CoordinatorConfig.LockTTL.
	MinLockTTL = 10 * time.Millisecond
	// DefaultTokenTTL is how long a job's fencing-token counter lives after
	// its last acquisition (locks.Config.TokenTTL).
	DefaultTokenTTL = 30 * 24 * time.Hour
	// DefaultSweepInterval is the period of the coordinator's sweep.
	DefaultSweepInterval = 5 * time.Second
	// MinSweepInterval is the shortest CoordinatorConfig.SweepInterval.
	MinSweepInterval = 10 * time.Millisecond
	// MinTaskCheckInterval is the shortest
	// CoordinatorConfig.TaskCheckInterval.
	MinTaskCheckInterval = time.Millisecond
	// DefaultReduceAttempts is how often a failing reducer is tried before
	// the job fails.
	DefaultReduceAttempts = 3
	// DefaultRetryBackoff is the pause before the second attempt of a
	// reducer; it doubles for each further attempt.
	DefaultRetryBackoff = 200 * time.Millisecond
	// DefaultMaxResultSize caps a committed result (16 MiB).
	DefaultMaxResultSize = 16 << 20
	// DefaultReduceTimeout bounds one attempt of a reducer.
	DefaultReduceTimeout = 10 * time.Minute
	// DefaultTaskCheckInterval is the TaskCheckInterval of the
	// coordinator's Asynq server (Asynq's own default). Completions
	// announced by pub/sub do not wait for it.
	DefaultTaskCheckInterval = time.Second
)

// CoordinatorConfig configures a Coordinator. Every zero field takes the
// default documented on it; a CoordinatorConfig is never modified.
type CoordinatorConfig struct {
	// Queue is the Asynq queue of collect tasks, the CollectQueue of the
	// producers and workers. Default DefaultCollectQueue.
	Queue string
	// EventsQueue is where an event chunk that reached the collect queue is
	// handed back (see Deployment.EventsQueue); it must differ from Queue.
	// Default DefaultQueue.
	EventsQueue string
	// Concurrency is how many jobs are collected at once. Default
	// DefaultCoordinatorConcurrency (4).
	Concurrency int
	// LockTTL is the TTL of a job's lock, renewed by the watchdog every
	// third of it. A coordinator that stops (crash, pause) loses the job to
	// another after at most LockTTL plus one SweepInterval. Default
	// DefaultLockTTL (30 s).
	LockTTL time.Duration
	// TokenTTL is how long a job's fencing-token counter lives after its
	// last acquisition, until the commit gives it the job's retention (it
	// then expires with the job's fence). It must exceed the lifetime of a
	// job that is never committed (deadline + retention + workoutput.
	// Config.SafetyMargin): a counter that expired while the job's fence
	// lives restarts low, and the next coordinator is fenced out (it fails
	// closed, with locks.ErrFenced). Default DefaultTokenTTL (30 days).
	TokenTTL time.Duration
	// SweepInterval is the period of the sweep Run does: it re-enqueues
	// lost collect tasks, collects jobs past their deadline and takes over
	// jobs whose coordinator died. Each sweep is a script call on Redis: at
	// least MinSweepInterval. Default DefaultSweepInterval (5 s).
	SweepInterval time.Duration
	// ReduceAttempts is how often a failing reducer is tried before the job
	// is committed as failed (its outputs are kept for a replay). An attempt
	// that ends because Redis was unavailable while it read the outputs is
	// not counted: it is retried as an outage. Default DefaultReduceAttempts
	// (3).
	ReduceAttempts int
	// ReduceTimeout bounds one attempt of a reducer: its context is
	// cancelled then, and a reducer that does not return within 5 s more is
	// abandoned (its goroutine is left to end on its own) and the attempt
	// counts as failed, so that no reducer holds a job forever. Default
	// DefaultReduceTimeout (10 min).
	ReduceTimeout time.Duration
	// RetryBackoff is the pause before the second attempt of a reducer,
	// doubled for each further one. Default DefaultRetryBackoff (200 ms).
	RetryBackoff time.Duration
	// MaxResultSize caps a result in bytes: it is committed to Redis in one
	// script call. A larger result fails the job with ErrResultTooLarge.
	// Default DefaultMaxResultSize (16 MiB).
	MaxResultSize int
	// TaskCheckInterval is the TaskCheckInterval of Run's Asynq server, the
	// delay of the collect-task path when the server is idle. Each check
	// is a script call on Redis: at least MinTaskCheckInterval. Default
	// DefaultTaskCheckInterval (1 s).
	TaskCheckInterval time.Duration
	// DisableNotify makes Run ignore the completion announcements
	// (workoutput.Store.Notify); jobs are then collected only through
	// collect tasks and sweeps.
	DisableNotify bool
	// Sinks receive each committed result (done and partial jobs), after
	// the commit: a sink error never undoes or repeats the commit.
	Sinks []Sink
	// OnCommit, when set, is called once for each commit this coordinator
	// makes, whatever the final state (done, partial or failed), after the
	// commit and before the sinks. Failed jobs reach no sink, so this is
	// where metrics count every job. It must not block.
	OnCommit func(ctx context.Context, out Outcome)
	// OnSinkError, when set, is called when a sink fails in a collection
	// started by the daemon (Run, Sweep, ProcessTask). Collect and Replay
	// return the error instead (wrapping ErrSink).
	OnSinkError func(ctx context.Context, jobID string, err error)
	// Logger receives the coordinator's logs. Default: none (discarded).
	Logger *slog.Logger
}

func (c CoordinatorConfig) withDefaults() (CoordinatorConfig, error) {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"LockTTL", c.LockTTL}, {"TokenTTL", c.TokenTTL}, {"SweepInterval", c.SweepInterval}, {"RetryBackoff", c.RetryBackoff}, {"ReduceTimeout", c.ReduceTimeout}, {"TaskCheckInterval", c.TaskCheckInterval}} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: CoordinatorConfig.%s is %v (want >= 0, 0 means the default)", ErrInvalid, f.name, f.v)
		}
	}
	if c.Concurrency < 0 || c.ReduceAttempts < 0 || c.MaxResultSize < 0 {
		return c, fmt.Errorf("%w: CoordinatorConfig has a negative Concurrency, ReduceAttempts or MaxResultSize (want >= 0, 0 means the default)", ErrInvalid)
	}
	if c.LockTTL > 0 && c.LockTTL < MinLockTTL {
		return c, fmt.Errorf("%w: CoordinatorConfig.LockTTL is %v (want at least %v)", ErrInvalid, c.LockTTL, MinLockTTL)
	}
	// Shorter periods poll Redis in a loop: a sweep every 1ns was 39,000
	// commands a second from one idle coordinator.
	if c.SweepInterval > 0 && c.SweepInterval < MinSweepInterval {
		return c, fmt.Errorf("%w: CoordinatorConfig.SweepInterval is %v (want at least %v: each sweep is a script call on Redis)", ErrInvalid, c.SweepInterval, MinSweepInterval)
	}
	if c.TaskCheckInterval > 0 && c.TaskCheckInterval < MinTaskCheckInterval {
		return c, fmt.Errorf("%w: CoordinatorConfig.TaskCheckInterval is %v (want at least %v: each check is a script call on Redis)", ErrInvalid, c.TaskCheckInterval, MinTaskCheckInterval)
	}
	for i, s := range c.Sinks {
		if s == nil {
			return c, fmt.Errorf("%w: CoordinatorConfig.Sinks[%d] is nil", ErrInvalid, i)
		}
	}
	if strings.TrimSpace(c.Queue) == "" {
		c.Queue = DefaultCollectQueue
	}
	if c.EventsQueue = cmp.Or(strings.TrimSpace(c.EventsQueue), DefaultQueue); c.EventsQueue == c.Queue {
		return c, fmt.Errorf("%w: CoordinatorConfig.EventsQueue and Queue are both %q (want distinct queues: event chunks handed back would return to the coordinator)", ErrInvalid, c.Queue)
	}
	c.Concurrency = cmp.Or(c.Concurrency, DefaultCoordinatorConcurrency)
	c.LockTTL = cmp.Or(c.LockTTL, DefaultLockTTL)
	c.TokenTTL = cmp.Or(c.TokenTTL, DefaultTokenTTL)
	c.SweepInterval = cmp.Or(c.SweepInterval, DefaultSweepInterval)
	c.ReduceAttempts = cmp.Or(c.ReduceAttempts, DefaultReduceAttempts)
	c.RetryBackoff = cmp.Or(c.RetryBackoff, DefaultRetryBackoff)
	c.MaxResultSize = cmp.Or(c.MaxResultSize, DefaultMaxResultSize)
	c.ReduceTimeout = cmp.Or(c.ReduceTimeout, DefaultReduceTimeout)
	c.TaskCheckInterval = cmp.Or(c.TaskCheckInterval, DefaultTaskCheckInterval)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Outcome is what a collection committed.
type Outcome struct {
	// JobID is the job.
	JobID string
	// State is the committed state: done, partial or failed.
	State workoutput.State
	// Token is the fencing token the job was committed with.
	Token int64
	// Result is the committed result (nil for a failed job).
	Result []byte
	// Error says why a failed job failed.
	Error string
	// Outputs, Failed and Missing count the job's events by outcome.
	Outputs, Failed, Missing int64
	// Replay reports a replay.
	Replay bool
	// Attempts is how often the reducer ran (0 when it did not).
	Attempts int
}

// Coordinator turns the outputs of a job into one result, exactly once,
// however many coordinators run: per job it takes the job's lock (kept
// alive by a watchdog) with a fencing token, claims the job, streams its
// outputs into the Reducer registered for its kind, and commits the result
// with one script call that checks the token, moves the job to its final
// state and applies the job's retention. A coordinator that lost its lock
// cannot commit (locks.ErrFenced).
//
// Collect and Replay work on one job; Run is the daemon: it consumes the
// collect queue, listens for completion announcements, and sweeps. A
// Coordinator is safe for concurrent use.
type Coordinator struct {
	client redis.UniversalClient
	store  *workoutput.Store
	locks  *locks.Provider
	served *Registry     // the deployment's heartbeats: who else reduces a kind
	tasks  *asynq.Client // hands back event chunks that reached the collect queue (misrouted)
	cfg    CoordinatorConfig
	log    *slog.Logger

	mu       sync.RWMutex
	reducers map[string]Reducer
	inflight map[string]struct{}
}

// NewCoordinator returns a Coordinator on client (which it does not close)
// and store. Close it when done.
func NewCoordinator(client redis.UniversalClient, store *workoutput.Store, cfg CoordinatorConfig) (*Coordinator, error) {
	if client == nil || store == nil {
		return nil, fmt.Errorf("%w: NewCoordinator needs a redis client and a store, got client %v, store %v", ErrInvalid, client != nil, store != nil)
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lp, err := locks.New(locks.Config{Redis: client, KeyPrefix: store.Config().Namespace, DefaultTTL: c.LockTTL, TokenTTL: c.TokenTTL})
	if err != nil {
		return nil, fmt.Errorf("%w: locks: %w", ErrInvalid, err)
	}
	served, err := NewRegistry(client, RegistryConfig{Namespace: store.Config().Namespace})
	if err != nil {
		return nil, err
	}
	return &Coordinator{
		client: client, store: store, locks: lp, served: served, tasks: asynq.NewClientFromRedisClient(client), cfg: c, log: c.Logger,
		reducers: map[string]Reducer{}, inflight: map[string]struct{}{},
	}, nil
}

// Close releases the coordinator's resources (its lock provider). It does
// not close the Redis client.
func (c *Coordinator) Close() error { return c.locks.Close() }

// Handle registers r as the reducer of jobs of kind. It returns an error
// wrapping ErrInvalid when kind is empty, r is nil or kind already has a
// reducer.
func (c *Coordinator) Handle(kind string, r Reducer) error {
	if r == nil || strings.TrimSpace(kind) == "" {
		return fmt.Errorf("%w: Handle needs a non-empty kind and a reducer (kind %q)", ErrInvalid, kind)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.reducers[kind]; dup {
		return fmt.Errorf("%w: kind %q already has a reducer (want one reducer per kind)", ErrInvalid, kind)
	}
	c.reducers[kind] = r
	return nil
}

// Kinds returns the kinds that have a reducer, sorted.
func (c *Coordinator) Kinds() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Sorted(maps.Keys(c.reducers))
}

func (c *Coordinator) reducer(kind string) Reducer {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.reducers[kind]
}

// Collect collects one job: a complete job, an open or running job past its
// deadline (its missing events are reported to the reducer, and its failure
// policy decides between partial and failed; a job never sealed is failed,
// or partial under PolicyContinue, with a reason that says so), or a job
// whose previous coordinator lost its lock. A job past its deadline whose
// kind has no reducer here is left (ErrNoReducer) while another live
// coordinator of the deployment announces a reducer for it (Registry), for
// at most noReducerGrace past the deadline; otherwise it is failed, with a
// reason naming the kind. It returns what it committed.
//
// Redis being unavailable is ridden out: every step is idempotent and is
// retried until ctx ends or, once the job is claimed, the job's lock is
// lost.
//
// Errors: ErrBusy (another coordinator holds the job's lock),
// workoutput.ErrState (nothing to collect: the job is open or running before
// its deadline, cancelled, or already collected), workoutput.ErrJobNotFound,
// ErrNoReducer (before the job's deadline, and past it while another live
// coordinator announces the kind's reducer, for up to ten sweep leases),
// locks.ErrFenced or locks.ErrLost
// (another coordinator took the job over; its result stands), ErrSink
// (committed, but a sink failed: the Outcome is valid). A reducer that keeps
// failing is not an error of Collect: the job is committed as failed
// (Outcome.State, Outcome.Error).
func (c *Coordinator) Collect(ctx context.Context, jobID string) (Outcome, error) {
	return c.collect(ctx, jobID, workoutput.ClaimCollect, nil)
}

// Replay reduces a collected job (done, partial or failed) again, under a
// new fencing token, and commits the new result, for example after fixing
// a reducer. It needs the job's data to be retained: otherwise it returns
// an error wrapping workoutput.ErrNotRetained. It also collects a job
// Collect would. A replay whose coordinator dies is taken over by a sweep,
// like any collection.
func (c *Coordinator) Replay(ctx context.Context, jobID string) (Outcome, error) {
	return c.collect(ctx, jobID, workoutput.ClaimReplay, nil)
}

// noReducerGrace is how long past a job's deadline a coordinator without
// its kind's reducer leaves the job to another live coordinator that
// announces one: ten leases of a sweep, so that with two coordinators
// sweeping, the right one almost surely takes the job first; after that
// the job is failed, so that it ends even if that coordinator never does.
func (c *Coordinator) noReducerGrace() time.Duration {
	return 10 * (c.cfg.LockTTL + c.cfg.SweepInterval)
}

// heartbeats reads the deployment's heartbeats (Registry.Members) at most
// once, however many jobs ask: a sweep shares one across its pass.
type heartbeats struct {
	served  *Registry
	once    sync.Once
	members []Member
	err     error
}

// read returns the heartbeats, reading them on the first call only.
func (h *heartbeats) read(ctx context.Context) ([]Member, error) {
	h.once.Do(func() { h.members, h.err = h.served.Members(ctx) })
	return h.members, h.err
}

// leftToAnother is the ErrNoReducer of a job that another live coordinator
// may reduce (one announces the kind's reducer, or the heartbeats could not
// be read): a sweep hands such a job back to the index at once instead of
// keeping its lease, so that the other coordinator need not wait for it.
type leftToAnother struct{ error }

func (e *leftToAnother) Unwrap() error { return e.error }

// leaveForAnother decides, for a job whose kind has no reducer here,
// whether to leave it to another coordinator (an error wrapping
// ErrNoReducer) or to fail it now (nil): before its deadline it is left;
// past it, it is left while a live coordinator of the deployment announces
// a reducer for the kind (or the heartbeats cannot be read), up to
// noReducerGrace. elsewhere reports that such a coordinator was seen.
//
// pass is the heartbeats of a sweep's pass, nil outside a sweep (they are
// then read here, and only past the deadline). In a sweep, a job left while
// another coordinator may reduce it gets a *leftToAnother error.
func (c *Coordinator) leaveForAnother(ctx context.Context, jobID string, st workoutput.Status, pass *heartbeats) (elsewhere bool, err error) {
	now := c.now()
	if !now.After(st.Deadline) {
		err := fmt.Errorf("%w: job %s is of kind %q (register one with Coordinator.Handle; at its deadline, %s, the job fails unless another coordinator reduces the kind)",
			ErrNoReducer, jobID, st.Kind, st.Deadline.UTC().Format(time.RFC3339))
		if pass == nil {
			return false, err
		}
		members, rerr := pass.read(ctx)
		if _, _, reduced := serving(members, st.Kind, ""); rerr != nil || reduced {
			if rerr != nil { // the heartbeats could not be read: assume another may
				err = fmt.Errorf("%w; handed back for another coordinator (the heartbeats could not be read: %v)", err, rerr)
			}
			return false, &leftToAnother{err}
		}
		return false, err
	}
	if pass == nil {
		pass = &heartbeats{served: c.served}
	}
	members, rerr := pass.read(ctx)
	_, _, reduced := serving(members, st.Kind, "")
	elsewhere = rerr != nil || reduced
	if until := st.Deadline.Add(c.noReducerGrace()); elsewhere && !now.After(until) {
		which := "a coordinator that reduces it"
		if rerr != nil { // the heartbeats could not be read: assume one may
			which = fmt.Sprintf("another coordinator (the heartbeats could not be read: %v)", rerr)
		}
		return true, &leftToAnother{fmt.Errorf("%w: job %s is of kind %q, past its deadline; left to %s (until %s, then the job fails)",
			ErrNoReducer, jobID, st.Kind, which, until.UTC().Format(time.RFC3339))}
	}
	return elsewhere, nil
}

// now reads the store's clock (workoutput.Config.Now).
func (c *Coordinator) now() time.Time { return c.store.Config().Now() }

// collect collects or replays jobID; pass is the heartbeats of a sweep's
// pass (nil outside a sweep), see leaveForAnother.
func (c *Coordinator) collect(ctx context.Context, jobID string, mode workoutput.ClaimMode, pass *heartbeats) (Outcome, error) {
	replay := mode == workoutput.ClaimReplay
	out := Outcome{JobID: jobID, Replay: replay}
	st, err := c.status(ctx, jobID)
	if err != nil {
		if replay && errors.Is(err, workoutput.ErrJobNotFound) {
			return out, fmt.Errorf("%w: %w", workoutput.ErrNotRetained, err)
		}
		return out, err
	}
	if err := c.collectable(st, replay); err != nil {
		return out, err
	}
	r := c.reducer(st.Kind)
	var elsewhere bool // another live coordinator reduces the kind
	if r == nil {
		var err error
		if elsewhere, err = c.leaveForAnother(ctx, jobID, st, pass); err != nil {
			return out, err
		}
	}
	lock, err := c.locks.TryAcquire(ctx, workoutput.LockResource(jobID), nil)
	if errors.Is(err, locks.ErrNotObtained) {
		return out, fmt.Errorf("%w: job %s", ErrBusy, jobID)
	}
	if err != nil {
		return out, fmt.Errorf("jobs: lock job %s: %w", jobID, err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			_ = lock.Release(context.WithoutCancel(ctx))
		}
	}
	defer release()
	w := lock.Watch(ctx)
	out.Token = lock.Token()
	claim := workoutput.Claim{JobID: jobID, Token: out.Token, Mode: mode, Lease: c.cfg.LockTTL + c.cfg.SweepInterval}
	if err := untilAvailable(w.Context(), 0, func() error { _, err := c.store.Claim(ctx, claim); return err }); err != nil {
		return out, err
	}
	// Claimed: the job's outputs and failures no longer change.
	if st, err = c.status(w.Context(), jobID); err != nil {
		return out, err
	}
	info := JobInfo{
		ID: jobID, Kind: st.Kind, Name: st.Name, Sealed: st.Sealed, Total: st.Total, Outputs: st.Done, Failed: st.Failed,
		Missing: st.Pending, Created: st.Created, Deadline: st.Deadline, Completed: st.Completed,
		Policy: st.FailurePolicy, Token: out.Token, Replay: replay,
	}
	out.Outputs, out.Failed, out.Missing = info.Outputs, info.Failed, info.Missing
	commit := workoutput.Commit{JobID: jobID, Token: out.Token, Retention: st.Retention}
	switch {
	case r == nil:
		commit.State = workoutput.StateFailed
		commit.Error = fmt.Sprintf("no reducer for kind %q: no coordinator registered one by the job's deadline", st.Kind)
		if elsewhere {
			commit.Error = fmt.Sprintf("no reducer for kind %q here, and no coordinator that announces one collected the job within %v of its deadline", st.Kind, c.noReducerGrace())
		}
		if info.Partial() {
			commit.Error += "; also " + partialReason(info)
		}
		commit.Error += waited(st)
		c.log.WarnContext(ctx, "fanin: no reducer for the job's kind at its deadline; failing the job", "job", jobID, "kind", st.Kind)
	case info.Partial() && info.Policy != workoutput.PolicyContinue:
		commit.State, commit.Error = workoutput.StateFailed, partialReason(info)+waited(st)
	default:
		res, attempts, err := c.reduce(w.Context(), r, info)
		out.Attempts = attempts
		if err == nil && res == nil {
			// An empty result is a result: a nil Commit.Result stores
			// none, and the job would be done without one.
			res = []byte{}
		}
		if err != nil && w.Context().Err() != nil {
			// The lock is lost or ctx ended: whoever holds the job now
			// commits it.
			return out, fmt.Errorf("jobs: job %s: reduce interrupted: %w (%w)", jobID, context.Cause(w.Context()), err)
		}
		switch {
		case err != nil:
			commit.State = workoutput.StateFailed
			commit.Error = fmt.Sprintf("reducer failed after %d attempts: %v", attempts, err)
		case info.Partial():
			commit.State, commit.Result, commit.Error = workoutput.StatePartial, res, partialReason(info)
		default:
			commit.State, commit.Result = workoutput.StateDone, res
		}
	}
	// The commit runs whatever the watchdog says: the claim's token, not the
	// local view of the lock, decides whether it may still commit.
	if err := untilAvailable(ctx, 0, func() error { _, err := c.store.Commit(ctx, commit); return err }); err != nil {
		return out, err
	}
	release()
	out.State, out.Result, out.Error = commit.State, commit.Result, commit.Error
	c.log.InfoContext(ctx, "fanin: job committed", "job", jobID, "state", out.State, "token", out.Token,
		"outputs", out.Outputs, "failed", out.Failed, "missing", out.Missing, "replay", replay)
	if c.cfg.OnCommit != nil {
		c.cfg.OnCommit(ctx, out)
	}
	return out, c.sink(ctx, out)
}

// status reads a job's status, riding out an outage until ctx ends.
func (c *Coordinator) status(ctx context.Context, jobID string) (workoutput.Status, error) {
	var st workoutput.Status
	err := untilAvailable(ctx, 0, func() (err error) {
		st, err = c.store.Status(ctx, jobID)
		return err
	})
	return st, err
}

// partialReason says why a job is not whole: never sealed, or failed and
// missing events, and which failure policy applies.
func partialReason(info JobInfo) string {
	if !info.Sealed {
		return fmt.Sprintf("never sealed: the producer added %d events but did not seal the job by its deadline; %d failed and %d are missing (failure policy %q)",
			info.Total, info.Failed, info.Missing, info.Policy)
	}
	return fmt.Sprintf("%d events failed and %d are missing (failure policy %q)", info.Failed, info.Missing, info.Policy)
}

// waited is what a failure reason adds when the job's events waited for a
// worker with its kind's handler (Status.Stalled): "" when they did not.
func waited(st workoutput.Status) string {
	if st.Stalled == "" {
		return ""
	}
	return "; the events waited: " + st.Stalled
}

// collectable checks, before taking the lock, that a job has something to
// collect; Claim checks again, atomically.
func (c *Coordinator) collectable(st workoutput.Status, replay bool) error {
	switch st.State {
	case workoutput.StateComplete, workoutput.StateCollecting:
		return nil
	case workoutput.StateOpen, workoutput.StateRunning:
		if c.now().After(st.Deadline) {
			return nil
		}
		return fmt.Errorf("%w: job %s is %s until its deadline %s", workoutput.ErrState, st.ID, st.State, st.Deadline.Format(time.RFC3339))
	case workoutput.StateDone, workoutput.StatePartial, workoutput.StateFailed:
		if replay {
			return nil
		}
		return fmt.Errorf("%w: job %s is already collected (%s; use Replay to reduce it again)", workoutput.ErrState, st.ID, st.State)
	}
	return fmt.Errorf("%w: job %s is %s", workoutput.ErrState, st.ID, st.State)
}

// reduce runs r until it succeeds, up to ReduceAttempts times, with backoff,
// and returns the result and the number of attempts counted. An attempt
// that failed because Redis was unavailable while it read the job (the
// Input saw an outage) is not counted: it is retried, with the same
// backoff, until ctx ends.
func (c *Coordinator) reduce(ctx context.Context, r Reducer, info JobInfo) ([]byte, int, error) {
	backoff, outageBackoff := c.cfg.RetryBackoff, 50*time.Millisecond
	var err error
	for attempt := 1; ; {
		info.Attempt = attempt
		in := &Input{
			store: c.store, jobID: info.ID, outputs: info.Outputs, failed: info.Failed,
			missing: info.Missing, maxResultSize: c.cfg.MaxResultSize,
		}
		var res []byte
		res, err = c.runReducer(ctx, r, info, in)
		if rerr := in.readError(); err == nil && rerr != nil {
			// The reducer went on past a failed read of its inputs: its
			// result may lack outputs, so it is not committed.
			err = fmt.Errorf("reducer of job %s returned a result although reading its inputs failed: %w", info.ID, rerr)
		}
		if err == nil && len(res) > c.cfg.MaxResultSize {
			err = fmt.Errorf("%w: result of job %s is %d bytes (want at most %d, CoordinatorConfig.MaxResultSize)", ErrResultTooLarge, info.ID, len(res), c.cfg.MaxResultSize)
		}
		if err == nil {
			return res, attempt, nil
		}
		if ctx.Err() != nil {
			return nil, attempt, err
		}
		pause := backoff
		if outage := in.outage(); outage != nil {
			c.log.WarnContext(ctx, "fanin: redis unavailable while reducing, retrying", "job", info.ID, "err", outage)
			pause, outageBackoff = outageBackoff, min(2*outageBackoff, time.Second)
		} else {
			if attempt >= c.cfg.ReduceAttempts || errors.Is(err, ErrResultTooLarge) {
				return nil, attempt, err
			}
			c.log.WarnContext(ctx, "fanin: reducer failed, retrying", "job", info.ID, "attempt", attempt, "err", err)
			attempt++
			backoff *= 2
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, attempt, err
		case <-t.C:
		}
	}
}

// runReducer calls r under ReduceTimeout, turning a panic into an error. A
// reducer that does not return within AbandonAfter of its context's end is
// abandoned: the attempt fails, and its goroutine ends when it ends.
func (c *Coordinator) runReducer(ctx context.Context, r Reducer, info JobInfo, in *Input) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ReduceTimeout)
	defer cancel()
	in.ctx = ctx
	type result struct {
		res []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		defer func() {
			if p := recover(); p != nil {
				res = result{err: fmt.Errorf("jobs: reducer of job %s panicked: %v", info.ID, p)}
			}
			done <- res
		}()
		res.res, res.err = r.Reduce(ctx, info, in)
	}()
	select {
	case res := <-done:
		return res.res, res.err
	case <-ctx.Done():
	}
	t := time.NewTimer(AbandonAfter)
	defer t.Stop()
	select {
	case res := <-done:
		return res.res, res.err
	case <-t.C:
		c.log.ErrorContext(ctx, "fanin: reducer ignored its context and was abandoned", "job", info.ID, "timeout", c.cfg.ReduceTimeout)
		return nil, fmt.Errorf("jobs: reducer of job %s did not return within %v of its context's end (%w); abandoned", info.ID, AbandonAfter, context.Cause(ctx))
	}
}

// sink writes a committed outcome to every sink.
func (c *Coordinator) sink(ctx context.Context, out Outcome) error {
	if out.Result == nil {
		return nil
	}
	var errs []error
	for _, s := range c.cfg.Sinks {
		if err := s.Write(ctx, out); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: job %s (committed with token %d): %w", ErrSink, out.JobID, out.Token, errors.Join(errs...))
}
