package locks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Provider hands out distributed locks with fencing tokens. It is safe for
// concurrent use; create one per process and Close it when done.
type Provider struct {
	s     settings
	b     backend
	disp  *dispatcher
	id    string
	redis bool
}

// New returns a Provider configured by cfg, or an error wrapping ErrInvalid
// that names what is wrong with cfg.
func New(cfg Config) (*Provider, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	id, err := randomID()
	if err != nil {
		return nil, err
	}
	p := &Provider{s: s, id: id}
	if cfg.Redis != nil {
		p.redis = true
		p.b = newRedisBackend(cfg.Redis, s, id)
		p.disp = newDispatcher(cfg.Redis, s.keys.releasedChannel(), id)
	} else {
		p.b = &cacheBackend{c: cfg.Cache, tokenTTL: s.tokenTTL}
		p.disp = newDispatcher(nil, "", id)
	}
	return p, nil
}

// randomID returns 16 random bytes in hex: a Provider id or a lock owner.
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("locks: random id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Close stops the Provider's pub/sub subscription. Locks already held stay
// usable (renew, release); new Acquire and TryAcquire calls return
// ErrClosed. Calling Close again does nothing.
func (p *Provider) Close() error {
	return p.disp.close()
}

// TryAcquire makes exactly one attempt to acquire resource. It returns an
// error wrapping ErrNotObtained when someone else holds it. opts.Timeout is
// ignored.
func (p *Provider) TryAcquire(ctx context.Context, resource string, opts *AcquireOptions) (*Lock, error) {
	called := time.Now()
	ttl, _, err := p.s.resolve(opts)
	if err != nil {
		return nil, err
	}
	return p.acquire(ctx, called, resource, ttl, 0)
}

// Acquire waits until it holds resource, ctx ends (it returns ctx's error,
// wrapped), or the acquire timeout passes (an error wrapping ErrNotObtained
// that names the resource). With nil opts it uses Config.DefaultTTL and
// Config.AcquireTimeout; a Timeout of 0 makes exactly one attempt.
//
// While it waits it is woken by the release of the lock, and otherwise
// retries after the holder's remaining TTL clamped to [MinPoll, MaxPoll].
func (p *Provider) Acquire(ctx context.Context, resource string, opts *AcquireOptions) (*Lock, error) {
	called := time.Now()
	ttl, timeout, err := p.s.resolve(opts)
	if err != nil {
		return nil, err
	}
	return p.acquire(ctx, called, resource, ttl, timeout)
}

// acquire is Acquire and TryAcquire (timeout 0) once opts are resolved;
// called is when the caller's call began.
func (p *Provider) acquire(ctx context.Context, called time.Time, resource string, ttl, timeout time.Duration) (*Lock, error) {
	if err := p.check(resource); err != nil {
		return nil, err
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	// First attempt before registering as a waiter: a free lock costs one
	// round trip and no bookkeeping.
	l, _, err := p.attempt(ctx, resource, ttl, false)
	switch {
	case err != nil:
		return nil, err
	case l == nil && timeout == 0:
		return nil, heldElsewhere(resource)
	case l == nil:
		if l, err = p.wait(ctx, resource, ttl, deadline, timeout); err != nil {
			return nil, err
		}
	}
	return l.since(called), nil
}

// heldElsewhere is the error of a single attempt that found resource held.
func heldElsewhere(resource string) error {
	return fmt.Errorf("%w: resource %q is held by another owner", ErrNotObtained, resource)
}

// wait is Acquire after a failed first attempt, with an absolute deadline
// (zero: none). It registers as a waiter, then attempts again, so a release
// since the first attempt is not missed.
func (p *Provider) wait(ctx context.Context, resource string, ttl time.Duration, deadline time.Time, timeout time.Duration) (*Lock, error) {
	w, err := p.disp.add(resource)
	if err != nil {
		return nil, err
	}
	used := false
	defer func() { p.disp.remove(w, used) }()

	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		// Waiters registered before the subscription was confirmed retry at
		// once after subscribing: a release between their attempt and the
		// subscription would otherwise be missed.
		subscribed := p.disp.subscribed()
		l, remain, err := p.attempt(ctx, resource, ttl, true)
		if err != nil {
			return nil, err
		}
		if l != nil {
			used = true
			return l, nil
		}
		if !subscribed {
			if err := p.disp.subscribe(ctx); err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return nil, fmt.Errorf("locks: acquire %q: %w", resource, ctxErr)
				}
				// Without the subscription, waiting falls back to polling.
			} else if p.redis {
				continue
			}
		}
		wait := min(max(remain, MinPoll), MaxPoll)
		if remain < 0 { // no TTL, or unknown
			wait = MaxPoll
		}
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return nil, fmt.Errorf("%w: resource %q still held after waiting %v", ErrNotObtained, resource, timeout)
			}
			wait = min(wait, left)
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("locks: acquire %q: %w", resource, ctx.Err())
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// attempt makes one acquisition attempt. It returns the lock, or nil and the
// holder's remaining TTL (negative when unknown). waiting says the caller
// waits for a release after a failure, so the release must be published.
func (p *Provider) attempt(ctx context.Context, resource string, ttl time.Duration, waiting bool) (*Lock, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("locks: acquire %q: %w", resource, err)
	}
	owner, err := randomID()
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	rk := p.s.keys.of(resource)
	a, err := p.b.acquire(ctx, rk, owner, ttl, waiting)
	if err != nil {
		return nil, 0, fmt.Errorf("locks: acquire %q: %w", resource, err)
	}
	if !a.ok {
		return nil, a.remain, nil
	}
	l := newLock(p, rk, owner, a.value, a.token, ttl, start, time.Now())
	if !l.acquiredAt.Before(l.validTil) {
		// The attempt took longer than the TTL: the lock may already have
		// passed to someone else, so it is not handed out.
		_ = l.Release(context.WithoutCancel(ctx))
		return nil, 0, nil
	}
	return l, 0, nil
}

// check validates a resource and refuses calls after Close.
func (p *Provider) check(resource string) error {
	if err := checkResource(resource); err != nil {
		return err
	}
	if p.disp.isClosed() {
		return ErrClosed
	}
	return nil
}

// IsLocked reports whether someone holds resource.
func (p *Provider) IsLocked(ctx context.Context, resource string) (bool, error) {
	if err := checkResource(resource); err != nil {
		return false, err
	}
	ok, err := p.b.exists(ctx, p.s.keys.lock(resource))
	if err != nil {
		return false, fmt.Errorf("locks: is locked %q: %w", resource, err)
	}
	return ok, nil
}

// AcquireAll acquires every resource of resources, all or nothing. It takes
// them in sorted order (duplicates removed), so two callers asking for
// overlapping sets cannot deadlock; the timeout of opts bounds the whole
// call. While it waits for one resource, the locks it already holds are
// renewed every third of their TTL, so none expires meanwhile; when it
// returns, every lock has at least a third of its TTL left. When one
// resource cannot be obtained, or a lock already taken is lost while
// waiting, the ones taken are released and the error (wrapping
// ErrNotObtained) names the resource. An empty resources gives an empty
// Group, as Foundatio gives an empty lock.
func (p *Provider) AcquireAll(ctx context.Context, resources []string, opts *AcquireOptions) (*Group, error) {
	called := time.Now()
	ttl, timeout, err := p.s.resolve(opts)
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(resources)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	for _, r := range sorted {
		if err := p.check(r); err != nil {
			return nil, err
		}
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	k := newKeeper(ctx)
	g := &Group{}
	for _, r := range sorted {
		l, _, err := p.attempt(ctx, r, ttl, false)
		if l == nil && err == nil {
			if timeout == 0 {
				err = heldElsewhere(r)
			} else {
				k.watch(g.locks) // keep the locks taken alive while waiting
				l, err = p.wait(k.ctx, r, ttl, deadline, timeout)
			}
		}
		if err == nil {
			g.locks = append(g.locks, l.since(called))
			err = k.lost()
		}
		if err != nil {
			k.stop()
			_ = g.Release(context.WithoutCancel(ctx))
			if lost := k.lost(); lost != nil {
				return nil, fmt.Errorf("%w: resources %q: %w", ErrNotObtained, sorted, lost)
			}
			return nil, err
		}
	}
	k.stop()
	if err := refresh(ctx, g.locks, ttl); err != nil {
		_ = g.Release(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%w: resources %q: %w", ErrNotObtained, sorted, err)
	}
	return g, nil
}

// ForceRelease releases resource whoever holds it, and wakes its waiters:
// an administrative release, for operators clearing a lock left by a
// holder they know is gone, as Foundatio's ILockProvider.ReleaseAsync.
//
// It breaks mutual exclusion on purpose: a holder that is still running
// keeps believing it holds the lock (its next Renew or Release fails with
// ErrNotHeld, and a watchdog reports ErrLost) while the next holder takes
// it. The next holder's token is higher, so a Fence rejects the old
// holder's writes once the new holder has written. It reports whether the
// resource was held.
func (p *Provider) ForceRelease(ctx context.Context, resource string) (bool, error) {
	if err := checkResource(resource); err != nil {
		return false, err
	}
	ok, err := p.b.forceRelease(ctx, p.s.keys.of(resource))
	if err != nil {
		return false, fmt.Errorf("locks: force release %q: %w", resource, err)
	}
	if ok {
		p.disp.wakeup(resource)
	}
	return ok, nil
}

// keeper keeps the locks AcquireAll has taken alive while it waits for the
// others, with one watchdog per lock. Its context ends, with the loss as
// cause, when one of them is lost.
type keeper struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	dogs   []*Watchdog
}

func newKeeper(ctx context.Context) *keeper {
	kctx, cancel := context.WithCancelCause(ctx)
	return &keeper{ctx: kctx, cancel: cancel}
}

// watch starts a watchdog on each lock of held that has none yet.
func (k *keeper) watch(held []*Lock) {
	for _, l := range held[len(k.dogs):] {
		l.mu.Lock()
		k.dogs = append(k.dogs, l.startWatchdog(k.ctx, func(err error) { k.cancel(err) }))
		l.mu.Unlock()
	}
}

// lost returns the loss of a watched lock, or nil.
func (k *keeper) lost() error {
	if err := context.Cause(k.ctx); errors.Is(err, ErrLost) {
		return err
	}
	return nil
}

// stop stops the watchdogs, keeping the locks, and releases the context.
func (k *keeper) stop() {
	for _, w := range k.dogs {
		w.Stop()
	}
	k.cancel(context.Canceled)
}

// refresh renews each lock of held with less than a third of its TTL
// left, so that none is handed out about to expire.
func refresh(ctx context.Context, held []*Lock, ttl time.Duration) error {
	for _, l := range held {
		if time.Until(l.validUntil()) < ttl/3 {
			if err := l.Renew(ctx, 0); err != nil {
				return err
			}
		}
	}
	return nil
}
