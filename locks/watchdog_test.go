package locks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

func TestWatchdogKeepsLockAndReportsLoss(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		p := newProvider(t, r)
		const ttl = 300 * time.Millisecond
		l, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		w := l.Watch(ctx)
		if l.Watch(ctx) != w {
			t.Fatal("a second Watch started another watchdog")
		}
		time.Sleep(5 * ttl) // five TTLs: only renewals keep the lock
		select {
		case err := <-w.Lost():
			t.Fatalf("watchdog reported loss while the lock was renewable: %v", err)
		default:
		}
		if w.Context().Err() != nil {
			t.Fatal("critical-section context ended while the lock was held")
		}
		if err := l.Renew(ctx, 0); err != nil {
			t.Fatalf("lock lost after 5 TTLs under the watchdog: %v", err)
		}

		// Delete the key behind the holder's back: the watchdog reports loss.
		if err := r.Client.Del(ctx, p.s.keys.lock("res")).Err(); err != nil {
			t.Fatal(err)
		}
		err = <-w.Lost()
		mustBe(t, err, ErrLost, "watchdog loss")
		mustBe(t, err, ErrNotHeld, "watchdog loss cause")
		<-w.Context().Done()
		mustBe(t, context.Cause(w.Context()), ErrLost, "critical-section context cause")
		if _, open := <-w.Lost(); open {
			t.Fatal("Lost() delivered a second value")
		}
		if n := r.Client.Exists(ctx, p.s.keys.lock("res")).Val(); n != 0 {
			t.Fatal("the watchdog recreated the deleted lock")
		}
	})
}

func TestWatchdogStopsOnRelease(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	p := newProvider(t, r)
	l, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := l.Watch(ctx)
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err, open := <-w.Lost(); open {
		t.Fatalf("Lost() after Release delivered %v; want it closed without a value", err)
	}
	if !errors.Is(context.Cause(w.Context()), context.Canceled) {
		t.Fatalf("context cause after Release: %v; want context.Canceled", context.Cause(w.Context()))
	}

	// Stop leaves the lock to expire by itself; Watch after Release reports loss.
	l2, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	w2 := l2.Watch(ctx)
	w2.Stop()
	if locked, _ := p.IsLocked(ctx, "res"); !locked {
		t.Fatal("Stop released the lock")
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}
	l3, err := p.TryAcquire(ctx, "res", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = l3.Release(ctx)
	mustBe(t, <-l3.Watch(ctx).Lost(), ErrLost, "Watch after Release")
}

func TestWatchdogLosesLockWhenRedisIsUnreachable(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	ctx := context.Background()
	p := newProviderOn(t, srv.Client(t), "x:")
	l, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := l.Watch(ctx)
	srv.Pause(t) // renewals time out; the watchdog gives up once the TTL has run out
	defer srv.Resume(t)
	err = <-w.Lost()
	mustBe(t, err, ErrLost, "watchdog with Redis paused")
	if errors.Is(err, ErrNotHeld) {
		t.Fatalf("loss %v: want the renewal error, not ErrNotHeld", err)
	}
}
