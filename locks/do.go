package locks

import (
	"context"
	"errors"
)

// Do acquires resource as Acquire does (opts likewise), runs fn while
// holding it, and releases it when fn returns, as Foundatio's TryUsingAsync.
// Meanwhile a watchdog renews the lock every third of its TTL; fn runs
// under the watchdog's context, cancelled with cause ErrLost if the lock is
// lost. fn is given the lock, for its Token (see Fence).
//
// Do returns the error of acquiring (wrapping ErrNotObtained when the lock
// could not be had: fn did not run), else fn's error, joined with the loss
// (wrapping ErrLost) when the lock was lost while fn ran, and with any error
// of the release other than the loss itself.
//
// If fn panics (or calls runtime.Goexit), Do stops the watchdog and releases
// the lock before the panic goes on, unchanged, to Do's caller: a caller
// that recovers (as net/http does) leaves no lock held behind. The release
// runs even when ctx has ended; its error, if any, is dropped, since the
// panic is what the caller hears of.
func (p *Provider) Do(ctx context.Context, resource string, opts *AcquireOptions, fn func(ctx context.Context, l *Lock) error) error {
	l, err := p.Acquire(ctx, resource, opts)
	if err != nil {
		return err
	}
	w := l.Watch(ctx)
	returned := false
	defer func() {
		if !returned {
			// fn panicked: Release stops the watchdog and frees the lock;
			// not recovering lets the panic continue with its own value
			// and stack.
			_ = l.Release(context.WithoutCancel(ctx))
		}
	}()
	fnErr := fn(w.Context(), l)
	returned = true
	relErr := l.Release(context.WithoutCancel(ctx)) // also stops the watchdog
	lost := <-w.Lost()
	if lost != nil && errors.Is(relErr, ErrNotHeld) {
		relErr = nil // the loss says it already
	}
	return errors.Join(fnErr, lost, relErr)
}
