package locks

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLockAcquiredAtWaitedAndRenewals(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store) {
		ctx := context.Background()
		p := s.newProvider(t)
		held, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		go func() { // release once the Acquire below waits
			waitForWaiter(p, "res")
			_ = held.Release(ctx)
		}()
		called := time.Now()
		l, err := p.Acquire(ctx, "res", &AcquireOptions{TTL: 300 * time.Millisecond, Timeout: 10 * time.Second})
		returned := time.Now()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release(ctx)
		if at := l.AcquiredAt(); at.Before(called) || at.After(returned) {
			t.Fatalf("AcquiredAt %v is not within the call [%v, %v]", at, called, returned)
		}
		if w := l.Waited(); w <= 0 || w > returned.Sub(called) || !l.AcquiredAt().Add(-w).After(called.Add(-time.Nanosecond)) {
			t.Fatalf("Waited = %v for a call that waited for a release and lasted %v", w, returned.Sub(called))
		}
		if l.Renewals() != 0 {
			t.Fatalf("Renewals = %d before any renewal", l.Renewals())
		}
		for range 2 {
			if err := l.Renew(ctx, 0); err != nil {
				t.Fatal(err)
			}
		}
		if n := l.Renewals(); n != 2 {
			t.Fatalf("Renewals = %d after two Renew calls; want 2", n)
		}
		l.Watch(ctx)
		for l.Renewals() < 3 { // the watchdog's renewals count too
			time.Sleep(10 * time.Millisecond)
		}
		free, err := p.TryAcquire(ctx, "free", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer free.Release(ctx)
		if free.Waited() < 0 || free.Renewals() != 0 {
			t.Fatalf("a lock taken at once: Waited %v, Renewals %d", free.Waited(), free.Renewals())
		}
	})
}

func TestForceRelease(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store) {
		ctx := context.Background()
		p, admin := s.newProvider(t), s.newProvider(t)
		held, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan *Lock, 1)
		go func() {
			l, err := p.Acquire(ctx, "res", &AcquireOptions{TTL: time.Minute, Timeout: 30 * time.Second})
			if err != nil {
				t.Error(err)
			}
			got <- l
		}()
		waitForWaiter(p, "res")
		if ok, err := admin.ForceRelease(ctx, "res"); !ok || err != nil {
			t.Fatalf("ForceRelease of a held lock = %v, %v; want true", ok, err)
		}
		next := <-got // woken: by the release message, or by polling on the cache path
		if next == nil {
			t.FailNow()
		}
		if next.Token() <= held.Token() {
			t.Fatalf("the next holder's token %d is not above %d", next.Token(), held.Token())
		}
		mustBe(t, held.Renew(ctx, 0), ErrNotHeld, "Renew by the force-released holder")
		mustBe(t, held.Release(ctx), ErrNotHeld, "Release by the force-released holder")
		if err := next.Release(ctx); err != nil {
			t.Fatalf("the next holder's Release: %v", err)
		}
		if ok, err := admin.ForceRelease(ctx, "res"); ok || err != nil {
			t.Fatalf("ForceRelease of a free lock = %v, %v; want false", ok, err)
		}
		_, err = admin.ForceRelease(ctx, "")
		mustBe(t, err, ErrInvalid, "ForceRelease of an empty resource")
	})
}

func TestDo(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store) {
		ctx := context.Background()
		p, other := s.newProvider(t), s.newProvider(t)
		opts := &AcquireOptions{TTL: 150 * time.Millisecond, Timeout: 5 * time.Second}

		// fn runs holding the lock, which is renewed past its TTL and
		// released afterwards; fn's error is returned.
		boom := errors.New("boom")
		err := p.Do(ctx, "res", opts, func(ctx context.Context, l *Lock) error {
			if locked, err := other.IsLocked(ctx, "res"); err != nil || !locked {
				t.Errorf("IsLocked inside Do = %v, %v", locked, err)
			}
			for l.Renewals() < 3 {
				time.Sleep(10 * time.Millisecond)
			}
			if ctx.Err() != nil {
				t.Errorf("fn's context ended while the lock was held: %v", context.Cause(ctx))
			}
			return boom
		})
		if !errors.Is(err, boom) || errors.Is(err, ErrLost) {
			t.Fatalf("Do = %v; want fn's error alone", err)
		}
		if locked, _ := other.IsLocked(ctx, "res"); locked {
			t.Fatal("Do left the lock held")
		}

		// fn panics, with ctx still live or ended by fn itself: the panic
		// reaches the caller with its own value, the watchdog has stopped
		// and the lock is free at once, as after TryUsingAsync's finally.
		for _, cancelFirst := range []bool{false, true} {
			var fnCtx context.Context
			cctx, cancel := context.WithCancel(ctx)
			got := func() (v any) {
				defer func() { v = recover() }()
				_ = p.Do(cctx, "res", opts, func(ctx context.Context, _ *Lock) error {
					fnCtx = ctx
					if cancelFirst {
						cancel()
					}
					panic(boom)
				})
				return nil
			}()
			if got != boom {
				t.Fatalf("Do with a panicking fn (ctx cancelled first: %v) panicked with %v; want fn's value %v", cancelFirst, got, boom)
			}
			if fnCtx.Err() == nil {
				t.Fatalf("fn's context still live after fn panicked (ctx cancelled first: %v): the watchdog was not stopped", cancelFirst)
			}
			cancel()
			free, err := other.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
			if err != nil {
				t.Fatalf("TryAcquire right after fn panicked (ctx cancelled first: %v): %v; want the lock released", cancelFirst, err)
			}
			if err := free.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}

		// The lock held elsewhere: fn does not run.
		held, err := other.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		err = p.Do(ctx, "res", &AcquireOptions{Timeout: 0}, func(context.Context, *Lock) error {
			t.Error("fn ran without the lock")
			return nil
		})
		mustBe(t, err, ErrNotObtained, "Do of a held lock")
		_ = held.Release(ctx)

		// The lock lost while fn runs: fn's context ends with ErrLost, and
		// Do reports the loss.
		err = p.Do(ctx, "res", opts, func(ctx context.Context, l *Lock) error {
			if _, err := other.ForceRelease(ctx, "res"); err != nil {
				return err
			}
			<-ctx.Done()
			if !errors.Is(context.Cause(ctx), ErrLost) {
				t.Errorf("fn's context ended with %v; want ErrLost", context.Cause(ctx))
			}
			return nil
		})
		mustBe(t, err, ErrLost, "Do when the lock is lost")
	})
}

// A lock AcquireAll already holds, lost while it waits for the others,
// ends the call: the others are not taken, and the error says so.
func TestAcquireAllFailsWhenAHeldLockIsLost(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store) {
		ctx := context.Background()
		p, other := s.newProvider(t), s.newProvider(t)
		zz, err := other.TryAcquire(ctx, "zz", &AcquireOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer zz.Release(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := p.AcquireAll(ctx, []string{"aa", "zz"}, &AcquireOptions{TTL: 300 * time.Millisecond, Timeout: 30 * time.Second})
			done <- err
		}()
		waitForWaiter(p, "zz")
		if ok, err := other.ForceRelease(ctx, "aa"); !ok || err != nil {
			t.Fatalf("ForceRelease(aa) = %v, %v", ok, err)
		}
		err = <-done
		if !errors.Is(err, ErrNotObtained) || !errors.Is(err, ErrLost) {
			t.Fatalf("AcquireAll after aa was lost: %v; want ErrNotObtained and ErrLost", err)
		}
		if zz.Renew(ctx, 0) != nil {
			t.Fatal("the other owner lost zz")
		}
	})
}
