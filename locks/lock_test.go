package locks

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no backend", Config{}, "Redis (fast path) or Cache"},
		{"brace in prefix", Config{Redis: r.Client, KeyPrefix: "a{b}:"}, "KeyPrefix"},
		{"negative ttl", Config{Redis: r.Client, DefaultTTL: -time.Second}, "DefaultTTL"},
		{"sub-ms ttl", Config{Redis: r.Client, DefaultTTL: time.Microsecond}, "DefaultTTL"},
		{"negative token ttl", Config{Redis: r.Client, TokenTTL: -1}, "TokenTTL"},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New error %v; want ErrInvalid naming %q", c.name, err, c.want)
		}
	}
	p := newProvider(t, r)
	ctx := context.Background()
	if _, err := p.Acquire(ctx, "", nil); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "resource") {
		t.Errorf("Acquire(\"\"): %v; want ErrInvalid naming the resource", err)
	}
	if _, err := p.TryAcquire(ctx, "x", &AcquireOptions{TTL: -time.Second}); !errors.Is(err, ErrInvalid) {
		t.Errorf("TryAcquire with a negative TTL: %v; want ErrInvalid", err)
	}
	if _, err := p.AcquireAll(ctx, []string{"x", ""}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("AcquireAll with an empty resource: %v; want ErrInvalid", err)
	}
	if _, err := p.AcquireAll(ctx, nil, &AcquireOptions{TTL: -time.Second}); !errors.Is(err, ErrInvalid) {
		t.Errorf("AcquireAll with a negative TTL: %v; want ErrInvalid", err)
	}
}

func TestAcquireRenewRelease(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		p := newProvider(t, r)
		l, err := p.Acquire(ctx, "job-1", &AcquireOptions{TTL: 5 * time.Second, Timeout: time.Second})
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		if l.Resource() != "job-1" || l.Token() != 1 || l.TTL() != 5*time.Second || len(l.Owner()) != 32 {
			t.Fatalf("lock: resource %q token %d ttl %v owner %q; want job-1, 1, 5s, 32 hex digits",
				l.Resource(), l.Token(), l.TTL(), l.Owner())
		}
		if locked, err := p.IsLocked(ctx, "job-1"); err != nil || !locked {
			t.Fatalf("IsLocked while held = %v, %v; want true", locked, err)
		}
		val, err := r.Client.Get(ctx, p.s.keys.lock("job-1")).Result()
		if err != nil || val != l.Owner() {
			t.Fatalf("lock value %q (%v); want the owner id %q", val, err, l.Owner())
		}
		if n, err := r.Client.Get(ctx, p.s.keys.token("job-1")).Int64(); err != nil || n != l.Token() {
			t.Fatalf("token counter %d (%v); want the holder's token %d", n, err, l.Token())
		}
		if err := l.Renew(ctx, 20*time.Second); err != nil {
			t.Fatalf("Renew: %v", err)
		}
		if pttl := r.Client.PTTL(ctx, p.s.keys.lock("job-1")).Val(); pttl <= 5*time.Second {
			t.Fatalf("PTTL after Renew(20s) = %v; want above the original 5s", pttl)
		}
		if _, err := p.TryAcquire(ctx, "job-1", nil); !errors.Is(err, ErrNotObtained) || !strings.Contains(err.Error(), `"job-1"`) {
			t.Fatalf("TryAcquire while held: %v; want ErrNotObtained naming job-1", err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if locked, _ := p.IsLocked(ctx, "job-1"); locked {
			t.Fatal("IsLocked after Release = true")
		}
		mustBe(t, l.Release(ctx), ErrNotHeld, "second Release")
		mustBe(t, l.Renew(ctx, time.Second), ErrNotHeld, "Renew after Release")

		// Tokens increase with every acquisition.
		var tokens []int64
		for range 3 {
			l, err := p.TryAcquire(ctx, "job-1", nil)
			if err != nil {
				t.Fatalf("TryAcquire: %v", err)
			}
			tokens = append(tokens, l.Token())
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(tokens, []int64{2, 3, 4}) {
			t.Fatalf("tokens %v; want [2 3 4]", tokens)
		}
		// Every key of the resource carries its hash tag.
		for _, k := range []string{p.s.keys.lock("job-1"), p.s.keys.token("job-1"), p.s.keys.fence("job-1")} {
			if slotTag(k) != "job-1" {
				t.Errorf("key %q hashes on %q; want job-1", k, slotTag(k))
			}
		}
	})
}

func TestStaleHandleCannotReleaseNewOwner(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		p := newProvider(t, r)
		old, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond) // let the TTL pass
		cur, err := p.Acquire(ctx, "res", &AcquireOptions{TTL: 10 * time.Second, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("Acquire after expiry: %v", err)
		}
		if cur.Token() <= old.Token() {
			t.Fatalf("new token %d not above old %d", cur.Token(), old.Token())
		}
		mustBe(t, old.Release(ctx), ErrNotHeld, "stale Release")
		mustBe(t, old.Renew(ctx, time.Minute), ErrNotHeld, "stale Renew")
		if locked, _ := p.IsLocked(ctx, "res"); !locked {
			t.Fatal("the stale handle released the new owner's lock")
		}
		if pttl := r.Client.PTTL(ctx, p.s.keys.lock("res")).Val(); pttl > 10*time.Second {
			t.Fatalf("stale Renew changed the new owner's TTL to %v", pttl)
		}
		if err := cur.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRenewAfterExpiryDoesNotRecreate(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		p := newProvider(t, r)
		l, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
		mustBe(t, l.Renew(ctx, 10*time.Second), ErrNotHeld, "Renew after expiry")
		if n := r.Client.Exists(ctx, p.s.keys.lock("res")).Val(); n != 0 {
			t.Fatal("Renew after expiry brought the lock key back")
		}
		if err := l.Renew(ctx, -time.Second); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Renew with a negative TTL: %v; want ErrInvalid", err)
		}
	})
}

func TestAcquireTimeoutZeroMakesOneAttempt(t *testing.T) {
	eachRedis(t, func(t *testing.T, tg target, r *redistest.Redis) {
		ctx := context.Background()
		holder := newProvider(t, r)
		l, err := holder.TryAcquire(ctx, "res", &AcquireOptions{TTL: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release(ctx)

		rdb := tg.open(t).Client // a client of its own, to count its commands
		counter := &scriptCounter{}
		rdb.AddHook(counter)
		p := newProviderOn(t, rdb, r.Prefix)
		_, err = p.Acquire(ctx, "res", &AcquireOptions{Timeout: 0})
		if !errors.Is(err, ErrNotObtained) || !strings.Contains(err.Error(), `"res"`) {
			t.Fatalf("Acquire(timeout 0) on a held lock: %v; want ErrNotObtained naming res", err)
		}
		if n := counter.acquires.Load(); n != 1 {
			t.Fatalf("Acquire(timeout 0) made %d attempts; want exactly 1", n)
		}
		counter.acquires.Store(0)
		_, err = p.Acquire(ctx, "res", &AcquireOptions{Timeout: 300 * time.Millisecond})
		if !errors.Is(err, ErrNotObtained) || !strings.Contains(err.Error(), `"res"`) {
			t.Fatalf("Acquire(timeout 300ms) on a held lock: %v; want ErrNotObtained naming res", err)
		}
		if n := counter.acquires.Load(); n < 2 {
			t.Fatalf("Acquire(timeout 300ms) made %d attempts; want it to retry", n)
		}
	})
}

func TestAcquireHonoursContext(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		p := newProvider(t, r)
		l, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release(ctx)

		// No timeout and a holder for a minute: only the context can end it.
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := p.Acquire(cctx, "res", &AcquireOptions{Timeout: -1})
			done <- err
		}()
		time.Sleep(100 * time.Millisecond)
		cancel()
		mustBe(t, <-done, context.Canceled, "Acquire with a cancelled context")

		dctx, dcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer dcancel()
		_, err = p.Acquire(dctx, "res", &AcquireOptions{Timeout: -1})
		mustBe(t, err, context.DeadlineExceeded, "Acquire past the context deadline")

		_, err = p.Acquire(cctx, "other", nil) // already cancelled: no attempt
		mustBe(t, err, context.Canceled, "Acquire with a context cancelled beforehand")
		if locked, _ := p.IsLocked(ctx, "other"); locked {
			t.Fatal("Acquire with a cancelled context took the lock")
		}
	})
}

func TestReleaseWakesWaiter(t *testing.T) {
	eachRedis(t, func(t *testing.T, tg target, r *redistest.Redis) {
		ctx := context.Background()
		holder := newProvider(t, r)
		waiterP := newProviderOn(t, tg.open(t).Client, r.Prefix) // another "process"
		l, err := holder.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		// A single attempt does not mark the lock as waited for: an
		// uncontended release publishes nothing.
		mustBe(t, func() error { _, err := waiterP.TryAcquire(ctx, "res", nil); return err }(), ErrNotObtained, "TryAcquire")
		marker := waiterP.s.keys.of("res").keys[1]
		if n := r.Client.Exists(ctx, marker).Val(); n != 0 {
			t.Fatal("TryAcquire marked the lock as waited for")
		}
		got := make(chan *Lock, 1)
		errc := make(chan error, 1)
		go func() {
			l, err := waiterP.Acquire(ctx, "res", &AcquireOptions{Timeout: time.Minute})
			if err != nil {
				errc <- err
				return
			}
			got <- l
		}()
		// Release once the waiter is subscribed and waiting.
		for !waiterP.disp.subscribed() || waiterCount(waiterP, "res") == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if pttl := r.Client.PTTL(ctx, marker).Val(); pttl <= 0 || pttl > waitingMark {
			t.Fatalf("waiting marker PTTL %v; want set, at most %v", pttl, waitingMark)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case l2 := <-got:
			if l2.Token() != l.Token()+1 {
				t.Fatalf("waiter token %d; want %d", l2.Token(), l.Token()+1)
			}
			_ = l2.Release(ctx)
		case err := <-errc:
			t.Fatalf("waiter: %v", err)
		}
		if waiterP.disp.remoteWakes.Load() == 0 {
			t.Fatal("the waiter was not woken by the release message")
		}
	})
}

func waiterCount(p *Provider, resource string) int {
	p.disp.mu.Lock()
	defer p.disp.mu.Unlock()
	return len(p.disp.waiting[resource])
}

// waitForWaiter returns once an Acquire on p waits for resource.
func waitForWaiter(p *Provider, resource string) {
	for waiterCount(p, resource) == 0 {
		time.Sleep(time.Millisecond)
	}
}

func TestAcquireAll(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		p := newProvider(t, r)
		g, err := p.AcquireAll(ctx, []string{"c", "a", "b", "a"}, &AcquireOptions{TTL: 10 * time.Second, Timeout: time.Second})
		if err != nil {
			t.Fatalf("AcquireAll: %v", err)
		}
		var names []string
		for _, l := range g.Locks() {
			names = append(names, l.Resource())
		}
		if !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Fatalf("locks %v; want sorted, without duplicates: [a b c]", names)
		}
		if err := g.Renew(ctx, 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := g.Release(ctx); err != nil {
			t.Fatal(err)
		}

		// All or nothing: "c" is held, so "a" and "b" are given back.
		held, err := p.TryAcquire(ctx, "c", &AcquireOptions{TTL: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, timeout := range []time.Duration{0, 200 * time.Millisecond} {
			_, err = p.AcquireAll(ctx, []string{"b", "c", "a"}, &AcquireOptions{Timeout: timeout})
			if !errors.Is(err, ErrNotObtained) || !strings.Contains(err.Error(), `"c"`) {
				t.Fatalf("AcquireAll with c held (timeout %v): %v; want ErrNotObtained naming c", timeout, err)
			}
			for _, res := range []string{"a", "b"} {
				if locked, _ := p.IsLocked(ctx, res); locked {
					t.Fatalf("AcquireAll failed but left %q locked", res)
				}
			}
		}
		_ = held.Release(ctx)

		// Two callers over overlapping sets in opposite orders never deadlock.
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() {
				set := []string{"x", "y", "z"}
				if i%2 == 1 {
					slices.Reverse(set)
				}
				g, err := p.AcquireAll(ctx, set, &AcquireOptions{TTL: 10 * time.Second, Timeout: 30 * time.Second})
				if err != nil {
					errs <- err
					return
				}
				errs <- g.Release(ctx)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestClose(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	p, err := New(Config{Redis: r.Client, KeyPrefix: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.TryAcquire(ctx, "res", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A waiter makes the Provider subscribe; Close ends the subscription.
	held, err := p.TryAcquire(ctx, "busy", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Acquire(ctx, "busy", &AcquireOptions{Timeout: 100 * time.Millisecond})
	mustBe(t, err, ErrNotObtained, "Acquire of a held lock")
	if !p.disp.subscribed() {
		t.Fatal("a waiting Acquire did not subscribe")
	}
	_ = held.Release(ctx)
	for range 2 { // Close is idempotent
		if err := p.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	mustBe(t, func() error { _, err := p.Acquire(ctx, "other", nil); return err }(), ErrClosed, "Acquire after Close")
	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release of a lock held before Close: %v", err)
	}
}

func TestRedisErrorsAreReturned(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	rdb := redis.NewClient(srv.Options())
	defer rdb.Close()
	p := newProviderOn(t, rdb, "x:")
	srv.Kill(t)
	ctx := context.Background()
	_, err := p.Acquire(ctx, "res", &AcquireOptions{Timeout: time.Second})
	if err == nil || errors.Is(err, ErrNotObtained) || !strings.Contains(err.Error(), `"res"`) {
		t.Fatalf("Acquire with Redis down: %v; want the connection error naming res", err)
	}
}

// Cause 1 of issue 16: AcquireAll did not renew the locks it held while it
// waited for the others, so "aa" expired while it waited for "zz" and was
// handed out expired, free for anyone to take.
func TestAcquireAllRenewsHeldLocksWhileWaiting(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store) {
		ctx := context.Background()
		p, other := s.newProvider(t), s.newProvider(t)
		zz, err := other.TryAcquire(ctx, "zz", &AcquireOptions{TTL: 1200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		g, err := p.AcquireAll(ctx, []string{"aa", "zz"}, &AcquireOptions{TTL: 400 * time.Millisecond, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("AcquireAll: %v", err)
		}
		defer g.Release(ctx)
		if zz.Renew(ctx, 0) == nil {
			t.Fatal("AcquireAll returned while the other owner still held zz")
		}
		for _, l := range g.Locks() {
			if !time.Now().Before(l.validUntil()) {
				t.Errorf("%s was handed out after its TTL had run out", l.Resource())
			}
			if locked, err := other.IsLocked(ctx, l.Resource()); err != nil || !locked {
				t.Errorf("IsLocked(%s) = %v, %v right after AcquireAll; want true", l.Resource(), locked, err)
			}
			_, err := other.TryAcquire(ctx, l.Resource(), nil)
			mustBe(t, err, ErrNotObtained, "TryAcquire("+l.Resource()+") by another owner")
		}
		if err := g.Release(ctx); err != nil {
			t.Fatalf("Release: %v (a lock was lost)", err)
		}
	})
}

// AcquireAll of no resources gives an empty Group, as Foundatio gives an
// empty lock, rather than an error.
func TestAcquireAllEmpty(t *testing.T) {
	eachBackend(t, func(t *testing.T, s store) {
		ctx := context.Background()
		for _, resources := range [][]string{nil, {}} {
			g, err := s.newProvider(t).AcquireAll(ctx, resources, nil)
			if err != nil || g == nil || len(g.Locks()) != 0 {
				t.Fatalf("AcquireAll(%#v) = %v, %v; want an empty Group", resources, g, err)
			}
			if err := g.Renew(ctx, time.Second); err != nil {
				t.Fatalf("Renew of an empty Group: %v", err)
			}
			if err := g.Release(ctx); err != nil {
				t.Fatalf("Release of an empty Group: %v", err)
			}
		}
	})
}
