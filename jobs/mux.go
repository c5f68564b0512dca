package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
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
	// that completed it and the enqueue of its collect task (err is that
	// enqueue's error). For metrics and tests; it must not block.
	OnComplete func(ctx context.Context, jobID string, err error)
	// Logger receives the Mux's warnings (a collect task handed back to
	// CollectQueue). Default: none (discarded).
	Logger *slog.Logger
}

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
// decode, an output over the size cap and an unknown kind fail the event at
// once, recorded with the reason.
//
// Redis unavailable (down, paused, failing over) while a chunk runs: the
// Mux keeps trying its reads and writes for up to 30 s, within the task's
// context, so a short outage costs no redelivery.
type Mux struct {
	store   *workoutput.Store
	handoff handoff
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
// at once with ErrBadInput) and the output encoded as JSON.
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
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	attempts := retried + 1
	now := time.Now()

	m.mu.RLock()
	h := m.handlers[c.kind]
	m.mu.RUnlock()
	if h == nil {
		failures := make([]workoutput.Failure, len(ids))
		for i, id := range ids {
			failures[i] = workoutput.Failure{EventID: id, Reason: fmt.Sprintf("%v: no handler for kind %q", ErrUnknownKind, c.kind), Attempts: attempts, Time: now}
		}
		if err := m.write(ctx, c.jobID, nil, failures); err != nil {
			return err
		}
		return fmt.Errorf("%w: %w: no handler for kind %q in job %s", asynq.SkipRetry, ErrUnknownKind, c.kind, c.jobID)
	}

	var (
		state workoutput.State
		done  []bool
	)
	err = untilAvailable(ctx, func() (err error) {
		state, done, err = m.store.Pending(ctx, c.jobID, ids)
		return err
	})
	switch {
	case errors.Is(err, workoutput.ErrJobNotFound):
		return fmt.Errorf("%w: %w", asynq.SkipRetry, err)
	case err != nil:
		return err
	case state != workoutput.StateOpen && state != workoutput.StateComplete:
		return nil // cancelled or collected: nothing left to do
	}

	var (
		outputs   []workoutput.Output
		failures  []workoutput.Failure
		retryable []error
	)
	for i, id := range ids {
		if done[i] {
			continue
		}
		if ctx.Err() != nil { // lease lost or shutdown: keep what is done
			retryable = append(retryable, ctx.Err())
			break
		}
		out, err := run(withEvent(ctx, c.jobID, id), h, c.payloads[i])
		if err == nil {
			if err = m.store.CheckOutput(id, out); err == nil {
				outputs = append(outputs, workoutput.Output{EventID: id, Value: out})
				continue
			}
		}
		permanent := errors.Is(err, ErrBadInput) || errors.Is(err, asynq.SkipRetry) || errors.Is(err, workoutput.ErrTooLarge)
		if permanent || retried >= maxRetry {
			failures = append(failures, workoutput.Failure{EventID: id, Reason: err.Error(), Attempts: attempts, Time: now})
			continue
		}
		retryable = append(retryable, fmt.Errorf("event %s: %w", id, err))
	}
	if len(outputs) > 0 || len(failures) > 0 {
		if err := m.write(ctx, c.jobID, outputs, failures); err != nil {
			return err
		}
	}
	if len(retryable) > 0 {
		return fmt.Errorf("jobs: %d events of job %s will be retried (attempt %d of %d): %w",
			len(retryable), c.jobID, attempts, maxRetry+1, errors.Join(retryable...))
	}
	return nil
}

// write records a chunk's outcome and hands the job to the coordinator when
// the write completed it.
func (m *Mux) write(ctx context.Context, jobID string, outputs []workoutput.Output, failures []workoutput.Failure) error {
	// A write the master applied but too few replicas acknowledged
	// (workoutput.ErrNotReplicated) is retried, and the retry no longer
	// completes the job: remember that an earlier try did.
	completed := false
	err := untilAvailable(ctx, func() error {
		res, err := m.store.Write(ctx, jobID, outputs, failures)
		completed = completed || res.Completed
		return err
	})
	if errors.Is(err, workoutput.ErrJobNotFound) {
		return fmt.Errorf("%w: %w", asynq.SkipRetry, err)
	}
	if err != nil || !completed {
		return err
	}
	// The state is complete: from here the sweeper finds the job even if
	// this enqueue never happens (crash, Redis down).
	err = m.handoff.collect(context.WithoutCancel(ctx), jobID)
	if m.cfg.OnComplete != nil {
		m.cfg.OnComplete(ctx, jobID, err)
	}
	return nil
}

// outageRide bounds how long untilAvailable keeps trying: about one Asynq
// lease, which the worker cannot extend without Redis anyway.
const outageRide = 30 * time.Second

// untilAvailable calls fn until it returns something other than an error
// wrapping cache.ErrUnavailable (Redis down, paused, failing over), ctx
// ends or outageRide has passed, pausing 50 ms doubling up to 1 s between
// calls. A chunk thus rides
// out a short outage in its worker instead of failing: its handlers' work is
// kept, and Asynq is not asked to retry the task while Redis is unavailable
// (Asynq v0.26 cannot: a Retry or Done that fails is re-attempted with a
// cancelled context, so the task waits for Asynq's recoverer, 60 to 120 s).
// ctx is the task's: Asynq cancels it when the worker's lease on the task
// runs out (30 s without Redis) or the server shuts down. Write and Pending
// are idempotent, so calling them again is safe.
func untilAvailable(ctx context.Context, fn func() error) error {
	pause, end := 50*time.Millisecond, time.Now().Add(outageRide)
	for {
		err := fn()
		if err == nil || !errors.Is(err, cache.ErrUnavailable) || ctx.Err() != nil || time.Now().After(end) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// run calls h, turning a panic into an error.
func run(ctx context.Context, h RawHandler, payload []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("jobs: handler of event %s panicked: %v", EventID(ctx), r)
		}
	}()
	return h(ctx, payload)
}

// Kinds returns the registered kinds, sorted.
func (m *Mux) Kinds() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	kinds := make([]string, 0, len(m.handlers))
	for k := range m.handlers {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}
