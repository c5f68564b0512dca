package locks

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
	"github.com/fanin-dev/fanin/cache/rediscache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// eachCache runs f on the generic path, over an in-process cache and over
// the Redis cache.
func eachCache(t *testing.T, f func(t *testing.T, c cache.Client)) {
	t.Helper()
	t.Run("memorycache", func(t *testing.T) {
		t.Parallel()
		c, err := memorycache.New(memorycache.Config{})
		if err != nil {
			t.Fatal(err)
		}
		f(t, c)
	})
	t.Run("rediscache", func(t *testing.T) {
		t.Parallel()
		r := redistest.New(t)
		c, err := rediscache.New(r.Client, rediscache.Config{KeyPrefix: r.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		f(t, c)
	})
}

func newCacheProvider(t *testing.T, c cache.Client) *Provider {
	t.Helper()
	p, err := New(Config{Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestCachePathLifecycle(t *testing.T) {
	eachCache(t, func(t *testing.T, c cache.Client) {
		ctx := context.Background()
		p := newCacheProvider(t, c)
		l, err := p.Acquire(ctx, "res", &AcquireOptions{TTL: 200 * time.Millisecond, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if l.Token() != 1 {
			t.Fatalf("first token %d; want 1", l.Token())
		}
		if v, err := cache.Get[string](ctx, c, p.s.keys.lock("res")); err != nil || v.Value != l.Owner()+":1" {
			t.Fatalf("lock value %q (%v); want owner:token", v.Value, err)
		}
		if err := l.Renew(ctx, 10*time.Second); err != nil {
			t.Fatalf("Renew: %v", err)
		}
		mustBe(t, func() error { _, err := p.Acquire(ctx, "res", &AcquireOptions{Timeout: 0}); return err }(),
			ErrNotObtained, "Acquire(timeout 0) while held")
		if locked, _ := p.IsLocked(ctx, "res"); !locked {
			t.Fatal("IsLocked = false while held")
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}

		// Expiry: Renew fails without recreating; a stale Release is refused.
		old, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(250 * time.Millisecond)
		mustBe(t, old.Renew(ctx, time.Minute), ErrNotHeld, "Renew after expiry")
		if ok, _ := c.Exists(ctx, p.s.keys.lock("res")); ok {
			t.Fatal("Renew after expiry recreated the key")
		}
		cur, err := p.TryAcquire(ctx, "res", &AcquireOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if cur.Token() <= old.Token() {
			t.Fatalf("token %d not above %d", cur.Token(), old.Token())
		}
		mustBe(t, old.Release(ctx), ErrNotHeld, "stale Release")
		if locked, _ := p.IsLocked(ctx, "res"); !locked {
			t.Fatal("a stale handle released the new owner's lock")
		}

		// A waiter is woken by a release of the same Provider.
		done := make(chan error, 1)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			l, err := p.Acquire(cctx, "res", &AcquireOptions{Timeout: -1})
			if err == nil {
				err = l.Release(ctx)
			}
			done <- err
		}()
		waitForWaiter(p, "res")
		if err := cur.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("waiter: %v", err)
		}
	})
}

func TestCachePathContention(t *testing.T) {
	eachCache(t, func(t *testing.T, c cache.Client) {
		ctx := context.Background()
		p := newCacheProvider(t, c)
		var (
			mu      sync.Mutex
			counter int
			tokens  []int64
			wg      sync.WaitGroup
			errs    = make(chan error, 50)
		)
		for range 50 {
			wg.Go(func() {
				l, err := p.Acquire(ctx, "shared", &AcquireOptions{TTL: 10 * time.Second, Timeout: time.Minute})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				n := counter
				mu.Unlock()
				time.Sleep(time.Millisecond) // widen the window a lost update needs
				mu.Lock()
				counter = n + 1
				tokens = append(tokens, l.Token())
				mu.Unlock()
				errs <- l.Release(ctx)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if counter != 50 {
			t.Fatalf("counter %d; want 50: critical sections overlapped", counter)
		}
		if !slices.IsSorted(tokens) || len(slices.Compact(slices.Clone(tokens))) != 50 {
			t.Fatalf("tokens in acquisition order %v; want 50 distinct increasing", tokens)
		}
	})
}

func TestCachePathThrottling(t *testing.T) {
	eachCache(t, func(t *testing.T, c cache.Client) {
		ctx := context.Background()
		th, err := NewThrottling(ThrottlingConfig{Cache: c, MaxHits: 3, Period: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		// Start just after a period boundary of the local clock.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		for i := range 3 {
			if err := th.TryAcquire(ctx, "api"); err != nil {
				t.Fatalf("acquisition %d of 3: %v", i+1, err)
			}
		}
		if err := th.TryAcquire(ctx, "api"); !errors.Is(err, ErrNotObtained) {
			t.Fatalf("4th TryAcquire: %v; want ErrNotObtained", err)
		}
		if locked, _ := th.IsLocked(ctx, "api"); !locked {
			t.Fatal("IsLocked = false on a full period")
		}
		before := time.Now().UnixMilli() / 1000
		if err := th.Acquire(ctx, "api", 5*time.Second); err != nil {
			t.Fatalf("4th Acquire: %v", err)
		}
		if now := time.Now().UnixMilli() / 1000; now == before {
			t.Fatal("the 4th acquisition was granted in the full period")
		}
	})
}
