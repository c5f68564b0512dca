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

	json "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/workoutput"
)

// RawHandler processes one event's payload and returns its output.
type RawHandler func(ctx context.Context, payload []byte) ([]byte, error)

// MuxConfig configures a Mux. Every zero field takes the default documented
// on it; a MuxConfig is never modified.
type MuxConfig struct {
	// CollectQueue is the Asynq queue of collect tasks. Default
	// DefaultCollectQueue.
	CollectQueue string
	// OnComplete, when set, is called once per job, right after the write
	// of this Mux that completed it and the job's hand-off to the
	// coordinator (err is what failed in the hand-off; the job is safe
	// either way: a sweep collects it). For metrics and logs; it must not
	// block.
	OnComplete func(ctx context.Context, jobID string, err error)
	// Logger receives the Mux's warnings: a chunk of a kind it has no
	// handler for handed back to its queue, a collect task handed back to
	// CollectQueue. Default: none (discarded).
	Logger *slog.Logger
	// EventTimeout bounds the handling of one event, unless its job gives
	// its own (workoutput.Spec.EventTimeout): past it the handler's context
	// is cancelled and the attempt fails with the reason "timed out after
	// EventTimeout" (ErrEventTimeout), retried like any failure; a handler
	// that ignores its context for AbandonAfter more is abandoned, so that
	// a hung handler never holds a worker. Default DefaultEventTimeout
	// (1 min).
	EventTimeout time.Duration
	// OnEvents, when set, is called once per chunk the Mux handled, after
	// its outcomes are written, with the counts of its events by outcome:
	// for metrics. It must not block.
	OnEvents func(ctx context.Context, counts EventCounts)
}

// EventCounts counts the events of one chunk by outcome (MuxConfig.OnEvents).
type EventCounts struct {
	// Kind is the kind of the chunk's job.
	Kind string
	// Done is the number of outputs written.
	Done int
	// Failed is the number of events failed for good (recorded).
	Failed int
	// Retried is the number of events whose attempt failed and that will
	// be retried with the chunk.
	Retried int
}

// DefaultEventTimeout is MuxConfig.EventTimeout's default: a minute, about
// a hundred times an ordinary event and far below Asynq's 30-minute timeout
// of a whole chunk (whose events run one after the other: a chunk of 500
// events of more than 3.6 s each would pass it anyway).
const DefaultEventTimeout = time.Minute

// AbandonAfter is how long a handler whose event timed out may take to
// return before the Mux stops waiting for it, and a reducer whose context
// ended before the coordinator does (its goroutine is left to end on its
// own).
const AbandonAfter = 5 * time.Second

// Mux is the worker runtime: an asynq.Handler for TypeEvents tasks that
// routes each event of a chunk to the handler of its job's kind and records
// outputs and failures in the store. Register handlers with Handle or
// HandleRaw, then serve it, for example with
// serveMux.Handle(jobs.TypeEvents, mux).
//
// Per chunk: events that already have an output are skipped (a redelivered
// chunk); every other event runs its handler; the outputs and failures are
// written in one atomic round trip that also detects completion; the job
// that completes is handed to the coordinator with a collect task.
//
// Errors: a handler error is retried with the chunk (Asynq's retry, up to
// the job's MaxRetry); on the last attempt the event is recorded as failed.
// An error wrapping ErrBadInput or asynq.SkipRetry, a payload that does not
// decode and an output over the size cap fail the event at once, recorded
// with the reason.
//
// A kind this Mux has no handler for is not a failure of the events: in a
// rolling deploy, an old worker may get the events of a kind only new
// workers know. The chunk goes back to its queue, with a delay, as a new
// task (its retry count untouched), until a worker with the handler takes
// it or the job is collected at its deadline; Status.Stalled says why
// meanwhile (see handBack).
//
// Redis unavailable (down, paused, failing over) while a chunk runs: the
// Mux keeps trying its reads and writes for up to 30 s, within the task's
// context, so a short outage costs no redelivery.
type Mux struct {
	store   *workoutput.Store
	handoff handoff // its client also hands chunks back (handBack, misrouted)
	cfg     MuxConfig

	mu       sync.RWMutex
	handlers map[string]RawHandler
}

// NewMux returns a Mux that records in store and enqueues collect tasks
// through client (which it does not close).
func NewMux(client redis.UniversalClient, store *workoutput.Store, cfg MuxConfig) (*Mux, error) {
	if client == nil || store == nil {
		return nil, fmt.Errorf("%w: NewMux needs a redis client and a store, got client %v, store %v", ErrInvalid, client != nil, store != nil)
	}
	if strings.TrimSpace(cfg.CollectQueue) == "" {
		cfg.CollectQueue = DefaultCollectQueue
	}
	if cfg.EventTimeout < 0 {
		return nil, fmt.Errorf("%w: MuxConfig.EventTimeout is %v (want >= 0, 0 means the default)", ErrInvalid, cfg.EventTimeout)
	}
	cfg.EventTimeout = cmp.Or(cfg.EventTimeout, DefaultEventTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Mux{
		store:    store,
		handoff:  handoff{asynq.NewClientFromRedisClient(client), cfg.CollectQueue, store},
		cfg:      cfg,
		handlers: map[string]RawHandler{},
	}, nil
}

// HandleRaw registers fn for events of kind. It returns an error wrapping
// ErrInvalid when kind is empty, fn is nil or kind already has a handler.
func HandleRaw(mux *Mux, kind string, fn RawHandler) error {
	if mux == nil || fn == nil || strings.TrimSpace(kind) == "" {
		return fmt.Errorf("%w: HandleRaw needs a Mux, a non-empty kind and a handler (kind %q)", ErrInvalid, kind)
	}
	mux.mu.Lock()
	defer mux.mu.Unlock()
	if _, dup := mux.handlers[kind]; dup {
		return fmt.Errorf("%w: kind %q already has a handler (want one handler per kind)", ErrInvalid, kind)
	}
	mux.handlers[kind] = fn
	return nil
}

// Handle registers a typed handler for events of kind: the payload is
// decoded from JSON into In (a payload that does not decode fails the event
// at once with ErrBadInput) and the output encoded as JSON. The typed
// helpers (Handle, JSONEvent, Outputs, Fold) use github.com/goccy/go-json,
// compatible with encoding/json (struct tags, Marshaler and Unmarshaler,
// the same error texts) and 3 to 5 times as fast on the zombies example's
// events (docs/BENCHMARKS.md): for a handler of a few microseconds, JSON
// was most of the worker's time per event.
func Handle[In, Out any](mux *Mux, kind string, fn func(ctx context.Context, in In) (Out, error)) error {
	if fn == nil {
		return fmt.Errorf("%w: Handle needs a handler for kind %q", ErrInvalid, kind)
	}
	return HandleRaw(mux, kind, func(ctx context.Context, payload []byte) ([]byte, error) {
		var in In
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, fmt.Errorf("%w: payload of event %s does not decode into %T: %v", ErrBadInput, EventID(ctx), in, err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("%w: output of event %s does not encode: %v", ErrBadInput, EventID(ctx), err)
		}
		return b, nil
	})
}

// ProcessTask handles one TypeEvents task; it implements asynq.Handler.
func (m *Mux) ProcessTask(ctx context.Context, task *asynq.Task) error {
	if back, err := misrouted(ctx, task, TypeCollect, m.cfg.CollectQueue, m.handoff.client, m.store, m.cfg.Logger); back {
		return err
	}
	if task.Type() != TypeEvents {
		return fmt.Errorf("%w: task type %q (want %q)", asynq.SkipRetry, task.Type(), TypeEvents)
	}
	c, err := decodeChunk(task.Payload())
	if err != nil {
		return fmt.Errorf("%w: %w", asynq.SkipRetry, err)
	}
	ids := make([]string, len(c.payloads))
	for i := range ids {
		ids[i] = c.eventID(i)
	}
	// A chunk's first delivery skips the check of which events already
	// have an output: there are none, unless the chunk is also being
	// delivered elsewhere (a lease that expired) or Asynq put it back at a
	// shutdown after its write (a requeue keeps the retry count at 0). Its
	// events then run again, and each still counts once: an output
	// replaces the same event's (Store.Write). A retry asks, to skip the
	// events done.
	retried, _ := asynq.GetRetryCount(ctx)
	var ask []string
	if retried > 0 {
		ask = ids
	}
	var job workoutput.ChunkState
	err = untilAvailable(ctx, outageRide, func() (err error) {
		job, err = m.store.Pending(ctx, c.jobID, ask)
		return err
	})
	switch {
	case errors.Is(err, workoutput.ErrJobNotFound):
		return fmt.Errorf("%w: %w", asynq.SkipRetry, err)
	case err != nil:
		return err
	}
	switch job.State {
	case workoutput.StateOpen, workoutput.StateRunning:
	case workoutput.StateComplete:
		// A redelivery of the chunk whose write completed the job, maybe
		// before that write's hand-off: hand it off again (idempotent).
		_ = m.handoff.completed(ctx, c.jobID)
		return nil
	default:
		return nil // cancelled or collected: nothing left to do
	}

	m.mu.RLock()
	h := m.handlers[c.kind]
	m.mu.RUnlock()
	if h == nil {
		return m.handBack(ctx, task, c, job)
	}

	maxRetry, _ := asynq.GetMaxRetry(ctx)
	attempts := retried + 1
	done := job.Done
	if len(done) < len(ids) {
		done = make([]bool, len(ids))
	}
	now := time.Now()
	timeout := cmp.Or(job.EventTimeout, m.cfg.EventTimeout)
	var (
		rec       = workoutput.Record{ID: uuid.NewString(), Outputs: make([]workoutput.Output, 0, len(ids))}
		retryable []error
		notes     []workoutput.Failure // failed attempts to be retried
	)
	results := runEvents(ctx, c.jobID, ids, c.payloads, done, h, timeout)
	for i, id := range ids {
		if done[i] {
			continue
		}
		r := results[i]
		if !r.ran { // lease lost or shutdown: keep what is done
			retryable = append(retryable, cmp.Or(ctx.Err(), context.Canceled))
			break
		}
		out, err := r.out, r.err
		if err == nil {
			if err = m.store.CheckOutput(id, out); err == nil {
				rec.Outputs = append(rec.Outputs, workoutput.Output{EventID: id, Value: out})
				continue
			}
		}
		permanent := errors.Is(err, ErrBadInput) || errors.Is(err, asynq.SkipRetry) || errors.Is(err, workoutput.ErrTooLarge)
		if permanent || retried >= maxRetry {
			// Recorded with its payload, so that a retry of the job can
			// run it again.
			rec.Failures = append(rec.Failures, workoutput.Failure{EventID: id, Reason: failureReason(err), Attempts: attempts, Time: now, Payload: c.payloads[i]})
			continue
		}
		retryable = append(retryable, fmt.Errorf("event %s: %w", id, err))
		notes = append(notes, workoutput.Failure{EventID: id, Reason: failureReason(err), Attempts: attempts, Time: time.Now()})
	}
	if len(rec.Outputs) > 0 || len(rec.Failures) > 0 {
		if err := m.write(ctx, c.jobID, rec); err != nil {
			return err
		}
	}
	if len(notes) > 0 {
		// Best effort, for status and inspect: the chunk is retried anyway.
		_ = m.store.Note(ctx, c.jobID, notes)
	}
	if m.cfg.OnEvents != nil {
		m.cfg.OnEvents(ctx, EventCounts{Kind: c.kind, Done: len(rec.Outputs), Failed: len(rec.Failures), Retried: len(notes)})
	}
	if len(retryable) > 0 {
		return fmt.Errorf("jobs: %d events of job %s will be retried (attempt %d of %d): %w",
			len(retryable), c.jobID, attempts, maxRetry+1, errors.Join(retryable...))
	}
	return nil
}

// maxReason caps the failure reason recorded for an event, so that failures
// stay small to store and to gather.
const maxReason = 4 << 10

// failureReason is the reason recorded for an event that failed with err.
func failureReason(err error) string {
	r := err.Error()
	if len(r) > maxReason {
		r = strings.ToValidUTF8(r[:maxReason], "") + "…"
	}
	return r
}

// write records a chunk's outcome and hands the job to the coordinator when
// the write completed it.
func (m *Mux) write(ctx context.Context, jobID string, rec workoutput.Record) error {
	// A write the master applied but too few replicas acknowledged
	// (workoutput.ErrNotReplicated), or whose reply was lost, is retried
	// with the same Record.ID: the retry gets the first answer.
	var res workoutput.WriteResult
	err := untilAvailable(ctx, outageRide, func() (err error) {
		res, err = m.store.Write(ctx, jobID, rec)
		return err
	})
	switch {
	case errors.Is(err, workoutput.ErrJobNotFound):
		return fmt.Errorf("%w: %w", asynq.SkipRetry, err)
	case errors.Is(err, workoutput.ErrUnknownEvent):
		return fmt.Errorf("%w: %w: %w", asynq.SkipRetry, ErrBadChunk, err)
	case err != nil || !res.Completed:
		return err
	}
	err = m.handoff.completed(ctx, jobID)
	if m.cfg.OnComplete != nil {
		m.cfg.OnComplete(ctx, jobID, err)
	}
	return nil
}

// Hand-back delays of a chunk whose kind has no handler here: a tenth of the
// job's age, within these bounds, so that a new job's events find a new
// worker fast and an old job's do not churn the queue.
const (
	minHandBack = time.Second
	maxHandBack = 30 * time.Second
)

// handBack puts a chunk of a kind this Mux has no handler for back on its
// queue, as a new task due after a delay, and records on the job why its
// events wait (Status.Stalled). The new task keeps the chunk's payload,
// queue and MaxRetry; Asynq's retry count is not spent, so the events wait
// for a worker that knows the kind until the job's deadline, when the
// coordinator collects the job with them missing. If the chunk cannot be
// handed back, the task fails and Asynq retries it.
func (m *Mux) handBack(ctx context.Context, task *asynq.Task, c *chunk, job workoutput.ChunkState) error {
	now := time.Now()
	delay := min(max(now.Sub(job.Created)/10, minHandBack), maxHandBack)
	queue, _ := asynq.GetQueueName(ctx)
	opts := append(requeueOptions(ctx, cmp.Or(queue, DefaultQueue)), asynq.ProcessIn(delay))
	_ = m.store.Stall(ctx, c.jobID, fmt.Sprintf("no handler for kind %q on the worker that last took its events (%s); they wait for a worker that has one",
		c.kind, now.UTC().Format(time.RFC3339)))
	_, err := m.handoff.client.EnqueueContext(ctx, asynq.NewTask(TypeEvents, task.Payload()), opts...)
	m.cfg.Logger.WarnContext(ctx, "fanin: no handler for the kind of a chunk: handed back to its queue for a worker that has one",
		"job", c.jobID, "kind", c.kind, "delay", delay, "err", err)
	if err != nil {
		return fmt.Errorf("jobs: %w: no handler for kind %q in job %s, and handing the chunk back failed: %w", ErrUnknownKind, c.kind, c.jobID, err)
	}
	return nil
}

// Kinds returns the registered kinds, sorted.
func (m *Mux) Kinds() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Sorted(maps.Keys(m.handlers))
}
