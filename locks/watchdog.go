package locks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Watchdog keeps a Lock alive while its holder works: it renews the lock
// every third of its TTL and reports when the lock is lost. Start one with
// Lock.Watch.
type Watchdog struct {
	l      *Lock
	ctx    context.Context
	cancel context.CancelCauseFunc
	onLost func(error) // called with the loss, before Lost delivers it; may be nil
	lost   chan error
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// Watch starts a watchdog on l, renewing it every TTL/3 with l's current
// TTL until Stop, Release, the end of ctx, or the loss of the lock.
//
// The critical section should run under Context(): it is cancelled, with
// cause ErrLost, as soon as the lock is known lost (a renewal finds another
// owner or no key, or renewals keep failing until the lock's TTL has run
// out), and also when the watchdog stops. Lost() then delivers the loss.
// Calling Watch again returns the running watchdog.
func (l *Lock) Watch(ctx context.Context) *Watchdog {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.watch != nil {
		return l.watch
	}
	l.watch = l.startWatchdog(ctx, nil)
	return l.watch
}

// startWatchdog starts a watchdog on l that l does not know of (Release
// does not stop it); onLost, when not nil, is called with the loss. The
// caller holds l.mu.
func (l *Lock) startWatchdog(ctx context.Context, onLost func(error)) *Watchdog {
	wctx, cancel := context.WithCancelCause(ctx)
	w := &Watchdog{
		l: l, ctx: wctx, cancel: cancel, onLost: onLost,
		lost: make(chan error, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	if l.released {
		w.finish(fmt.Errorf("%w: resource %q was released before Watch", ErrLost, l.resource))
		return w
	}
	go w.run()
	return w
}

// Context returns the context for the critical section: cancelled with cause
// ErrLost when the lock is lost, and when the watchdog stops.
func (w *Watchdog) Context() context.Context { return w.ctx }

// Lost returns a channel that receives one error wrapping ErrLost if the
// lock is lost, and is closed when the watchdog ends (closed without a value
// when it ends by Stop, Release or the end of its parent context).
func (w *Watchdog) Lost() <-chan error { return w.lost }

// Stop stops renewing, without releasing the lock, and waits until the
// watchdog has ended.
func (w *Watchdog) Stop() { w.stop() }

func (w *Watchdog) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}

// finish ends the watchdog with err (nil: a normal stop).
func (w *Watchdog) finish(err error) {
	if err != nil {
		if w.onLost != nil {
			w.onLost(err)
		}
		w.lost <- err
		w.cancel(err)
	} else {
		w.cancel(context.Canceled)
	}
	close(w.lost)
	close(w.done)
}

func (w *Watchdog) run() {
	var lostErr error
	defer func() { w.finish(lostErr) }()
	t := time.NewTimer(w.interval())
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
		// A renewal may not outlast the lock: past its TTL the lock is lost
		// whatever Redis would answer.
		rctx, cancel := context.WithDeadline(w.ctx, w.l.validUntil())
		err := w.l.Renew(rctx, 0)
		cancel()
		switch {
		case err == nil:
			t.Reset(w.interval())
		case errors.Is(err, ErrNotHeld):
			lostErr = fmt.Errorf("%w: %w", ErrLost, err)
			return
		case w.ctx.Err() != nil:
			return
		default: // transient: retry until the lock's TTL has run out
			left := time.Until(w.l.validUntil())
			if left <= 0 {
				lostErr = fmt.Errorf("%w: resource %q: could not renew before the TTL ran out: %w", ErrLost, w.l.resource, err)
				return
			}
			t.Reset(min(w.interval()/4+time.Millisecond, left))
		}
	}
}

// interval returns the renewal period: a third of the lock's TTL.
func (w *Watchdog) interval() time.Duration {
	return max(w.l.TTL()/3, time.Millisecond)
}
