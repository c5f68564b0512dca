package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Running a chunk's events, each within its timeout.
//
// The events of a chunk run one after another on one goroutine, under a
// context that the chunk's goroutine (the supervisor) cancels, with the
// cause ErrEventTimeout, when the event in progress runs past its timeout.
// The supervisor's timer is armed for the event it last saw start, so a
// chunk of quick events costs one goroutine and one timer, not one per
// event (a goroutine, a channel and a context.WithTimeout per event cost a
// trivial handler a third of its throughput; docs/BENCHMARKS.md).
//
// When an event times out, its handler has AbandonAfter to return; then a
// new goroutine runs the rest of the chunk. A handler that ignores its
// context longer is abandoned: its goroutine is left to end on its own, and
// whatever it returns is dropped. Either way the event's error is a
// TimeoutError. When the chunk's own context ends (a shutdown, a lost
// lease), the events not run, and those whose handler failed then, are left
// for the chunk's retry.

// eventResult is the outcome of one event of a chunk.
type eventResult struct {
	out []byte
	err error
	// ran is false for an event not run (skipped, or left when the chunk's
	// context ended).
	ran bool
}

// chunkRunner runs the events of one chunk.
type chunkRunner struct {
	ctx      context.Context // the chunk's
	jobID    string
	ids      []string
	payloads [][]byte
	skip     []bool // events already done
	h        RawHandler
	timeout  time.Duration

	mu      sync.Mutex
	results []eventResult
	gen     int       // the goroutine allowed to record results
	current int       // the event it runs, -1 between events
	started time.Time // when it started the current event
}

// runEvents runs h on the events ids (with payloads) of job jobID, except
// those with skip[i], each within timeout, and returns their results.
func runEvents(ctx context.Context, jobID string, ids []string, payloads [][]byte, skip []bool, h RawHandler, timeout time.Duration) []eventResult {
	r := &chunkRunner{ctx: ctx, jobID: jobID, ids: ids, payloads: payloads, skip: skip, h: h, timeout: timeout,
		results: make([]eventResult, len(ids))}
	for from, gen := 0, 1; ; gen++ {
		rctx, cancel := context.WithCancelCause(ctx)
		done := make(chan struct{})
		r.mu.Lock()
		r.gen, r.current = gen, -1
		r.mu.Unlock()
		go r.work(rctx, gen, from, done)
		next, finished := r.supervise(cancel, gen, done)
		cancel(nil)
		if finished {
			return r.results
		}
		from = next
	}
}

// work runs the events from index from on, as goroutine gen, until the end
// of the chunk or of rctx.
func (r *chunkRunner) work(rctx context.Context, gen, from int, done chan<- struct{}) {
	defer close(done)
	for i := from; i < len(r.ids); i++ {
		if i < len(r.skip) && r.skip[i] {
			continue
		}
		if rctx.Err() != nil {
			return
		}
		start := time.Now()
		r.mu.Lock()
		if r.gen != gen {
			r.mu.Unlock()
			return
		}
		r.current, r.started = i, start
		r.mu.Unlock()
		ectx := &eventContext{Context: rctx, jobID: r.jobID, eventID: r.ids[i], deadline: start.Add(r.timeout)}
		out, err := run(ectx, r.h, r.payloads[i])
		r.mu.Lock()
		if r.gen != gen { // abandoned
			r.mu.Unlock()
			return
		}
		r.current = -1
		switch {
		case err == nil:
			r.results[i] = eventResult{out: out, ran: true}
		case r.ctx.Err() != nil:
			// The chunk's context ended: the event is left for the retry.
		case context.Cause(rctx) == ErrEventTimeout:
			if errors.Is(err, context.Canceled) {
				// A context the handler derived from its own reports the
				// timeout as Canceled (only the event's own context says
				// DeadlineExceeded): it is the timeout, not another failure.
				err = context.DeadlineExceeded
			}
			r.results[i] = eventResult{err: &TimeoutError{After: r.timeout, Cause: err}, ran: true}
		default:
			r.results[i] = eventResult{err: err, ran: true}
		}
		r.mu.Unlock()
	}
}

// supervise waits for goroutine gen (which closes done). It returns
// finished when the goroutine ran to the end of the chunk or the chunk's
// context ended, or the event to go on from when one timed out.
func (r *chunkRunner) supervise(cancel context.CancelCauseFunc, gen int, done <-chan struct{}) (next int, finished bool) {
	timer := time.NewTimer(r.timeout)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return 0, true
		case <-r.ctx.Done():
			r.abandonAfterGrace(gen, done, -1)
			return 0, true
		case <-timer.C:
		}
		// Under the lock, so that the goroutine cannot move on to the next
		// event between the check and the cancel.
		r.mu.Lock()
		i, left := r.current, r.timeout-time.Since(r.started)
		if i >= 0 && left <= 0 {
			cancel(ErrEventTimeout)
		}
		r.mu.Unlock()
		switch {
		case i < 0: // between events: the next one starts now at the earliest
			timer.Reset(r.timeout)
		case left > 0:
			timer.Reset(left)
		default:
			r.abandonAfterGrace(gen, done, i)
			return i + 1, false
		}
	}
}

// abandonAfterGrace gives goroutine gen AbandonAfter to return, then
// abandons it: nothing it records later counts. The event it was running,
// when that is event i, gets an abandoned TimeoutError.
func (r *chunkRunner) abandonAfterGrace(gen int, done <-chan struct{}, i int) {
	t := time.NewTimer(AbandonAfter)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != gen {
		return
	}
	if i >= 0 && r.current == i && r.ctx.Err() == nil {
		r.results[i] = eventResult{err: &TimeoutError{After: r.timeout, Abandoned: true}, ran: true}
	}
	r.gen = 0
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
