package locks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Lock is a held lock. Its methods are safe for concurrent use.
//
// Holding a Lock does not prove the lock is still held: a holder can stall
// past the TTL (a GC pause, a stopped process, a network cut) while another
// owner takes over. Writes that must happen once go through a Fence with the
// lock's Token.
type Lock struct {
	p        *Provider
	rk       resourceKeys
	resource string
	owner    string
	value    string
	token    int64

	acquiredAt time.Time
	waited     time.Duration // set by the call that returns the lock

	mu       sync.Mutex
	ttl      time.Duration
	validTil time.Time // local estimate of the expiry: attempt start + ttl
	renewals int
	released bool
	watch    *Watchdog
}

// newLock returns the lock an attempt that began at start took, the
// attempt returning at acquiredAt.
func newLock(p *Provider, rk resourceKeys, owner, value string, token int64, ttl time.Duration, start, acquiredAt time.Time) *Lock {
	return &Lock{p: p, rk: rk, resource: rk.resource, owner: owner, value: value, token: token, ttl: ttl,
		validTil: start.Add(ttl), acquiredAt: acquiredAt}
}

// AcquiredAt returns when the lock was acquired (the attempt that took it
// returned), as Foundatio's ILock.AcquiredTimeUtc.
func (l *Lock) AcquiredAt() time.Time { return l.acquiredAt }

// Waited returns how long the call that returned the lock waited for it:
// from the call until AcquiredAt, as Foundatio's TimeWaitedForLock.
func (l *Lock) Waited() time.Duration { return l.waited }

// Renewals returns how many times the lock was renewed, by Renew or by its
// watchdog, as Foundatio's RenewalCount.
func (l *Lock) Renewals() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.renewals
}

// Resource returns the name of the locked resource.
func (l *Lock) Resource() string { return l.resource }

// Owner returns the random owner id of this acquisition.
func (l *Lock) Owner() string { return l.owner }

// Token returns the fencing token of this acquisition: an integer, per
// resource, greater than that of every earlier acquisition of the resource,
// issued in the same atomic step as the acquisition (Redis path).
func (l *Lock) Token() int64 { return l.token }

// TTL returns the TTL of the last acquisition or renewal.
func (l *Lock) TTL() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ttl
}

// since records, on a lock just returned to a caller, how long the call
// that began at called waited for it, and returns the lock.
func (l *Lock) since(called time.Time) *Lock {
	l.waited = max(l.acquiredAt.Sub(called), 0)
	return l
}

// validUntil returns the local estimate of the lock's expiry: the start of
// its last acquisition or renewal attempt plus its TTL.
func (l *Lock) validUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.validTil
}

// Renew extends the lock to ttl from now (0 means the TTL last used). It
// fails with an error wrapping ErrNotHeld once the lock has expired, been
// released or changed owner, and never recreates the key.
func (l *Lock) Renew(ctx context.Context, ttl time.Duration) error {
	l.mu.Lock()
	if ttl == 0 {
		ttl = l.ttl
	}
	l.mu.Unlock()
	if err := checkTTL("Renew ttl", ttl); err != nil {
		return err
	}
	start := time.Now()
	ok, err := l.p.b.renew(ctx, l.rk, l.value, ttl)
	if err != nil {
		return fmt.Errorf("locks: renew %q: %w", l.resource, err)
	}
	if !ok {
		return fmt.Errorf("%w: resource %q (token %d) expired or has another owner", ErrNotHeld, l.resource, l.token)
	}
	l.mu.Lock()
	l.ttl, l.validTil = ttl, start.Add(ttl)
	l.renewals++
	l.mu.Unlock()
	return nil
}

// Release releases the lock if this handle still owns it, stopping its
// watchdog. A stale handle never releases a newer owner's lock: it gets an
// error wrapping ErrNotHeld.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	w := l.watch
	l.mu.Unlock()
	if w != nil {
		w.stop()
	}
	ok, err := l.p.b.release(ctx, l.rk, l.value)
	if err != nil {
		return fmt.Errorf("locks: release %q: %w", l.resource, err)
	}
	l.mu.Lock()
	l.released = true
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: resource %q (token %d) expired or has another owner", ErrNotHeld, l.resource, l.token)
	}
	l.p.disp.wakeup(l.resource)
	return nil
}

// Group is a set of locks taken together by AcquireAll, in sorted order of
// their resources.
type Group struct {
	locks []*Lock
}

// Locks returns the locks of the group, sorted by resource.
func (g *Group) Locks() []*Lock { return g.locks }

// Renew renews every lock of the group; the error joins those of the locks
// that failed.
func (g *Group) Renew(ctx context.Context, ttl time.Duration) error {
	var errs []error
	for _, l := range g.locks {
		if err := l.Renew(ctx, ttl); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Release releases every lock of the group, in reverse order; the error
// joins those of the locks that failed.
func (g *Group) Release(ctx context.Context) error {
	var errs []error
	for i := len(g.locks) - 1; i >= 0; i-- {
		if err := g.locks[i].Release(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
