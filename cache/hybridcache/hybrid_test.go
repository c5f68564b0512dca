package hybridcache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/cachetest"
	"github.com/fanin-dev/fanin/cache/hybridcache"
	"github.com/fanin-dev/fanin/cache/memorycache"
	"github.com/fanin-dev/fanin/cache/rediscache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// l2 returns a rediscache over r's namespace.
func l2(tb testing.TB, r *redistest.Redis) *rediscache.Cache {
	tb.Helper()
	c, err := rediscache.New(r.Client, rediscache.Config{KeyPrefix: r.Prefix})
	if err != nil {
		tb.Fatalf("rediscache.New: %v", err)
	}
	return c
}

// newHybrid returns a Hybrid over r's namespace, with its own channel, closed
// when the test ends. edit adjusts the Config.
func newHybrid(tb testing.TB, r *redistest.Redis, edit ...func(*hybridcache.Config)) *hybridcache.Hybrid {
	tb.Helper()
	cfg := hybridcache.Config{Distributed: l2(tb, r), Publisher: r.Client, Channel: r.Key("invalidate")}
	for _, e := range edit {
		e(&cfg)
	}
	h, err := hybridcache.New(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("hybridcache.New: %v", err)
	}
	tb.Cleanup(func() {
		if err := h.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return h
}

func newAware(tb testing.TB, r *redistest.Redis) *hybridcache.Aware {
	tb.Helper()
	a, err := hybridcache.NewAware(l2(tb, r), r.Client, hybridcache.AwareConfig{Channel: r.Key("invalidate")})
	if err != nil {
		tb.Fatalf("NewAware: %v", err)
	}
	return a
}

func TestConformance(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cache.Client { return newHybrid(t, redistest.New(t)) }, cachetest.Options{
		Hashes: true,
		NewSharedPair: func(t *testing.T) (cache.Client, cache.Client) {
			r := redistest.New(t)
			return newHybrid(t, r), newHybrid(t, r)
		},
	})
}

func TestConformanceAware(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cache.Client { return newAware(t, redistest.New(t)) }, cachetest.Options{
		Hashes: true,
		// An Aware writer beside a Hybrid reader: the reader must see what
		// the writer wrote, through invalidations.
		NewSharedPair: func(t *testing.T) (cache.Client, cache.Client) {
			r := redistest.New(t)
			return newAware(t, r), newHybrid(t, r)
		},
	})
}

func TestConformanceScoped(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cache.Client {
		s, err := cache.NewScoped(newHybrid(t, redistest.New(t)), "tenant")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, cachetest.Options{Hashes: true})
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after 5s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func get(t *testing.T, c cache.Client, key string) string {
	t.Helper()
	v, err := cache.Get[string](t.Context(), c, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !v.HasValue {
		return "<miss>"
	}
	return v.Value
}

func set(t *testing.T, c cache.Client, key, value string) {
	t.Helper()
	if ok, err := c.Set(t.Context(), key, value, cache.Expiration{}); !ok || err != nil {
		t.Fatalf("Set(%q) = %v, %v", key, ok, err)
	}
}

func wantGet(t *testing.T, c cache.Client, key, want string) {
	t.Helper()
	if got := get(t, c, key); got != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

// wantStats compares the counters that matter to a test.
func wantStats(t *testing.T, who string, h *hybridcache.Hybrid, hits, misses, invalidations int64) {
	t.Helper()
	s := h.Stats()
	if s.LocalHits != hits || s.LocalMisses != misses || s.Invalidations != invalidations {
		t.Fatalf("%s stats = %+v, want LocalHits %d, LocalMisses %d, Invalidations %d", who, s, hits, misses, invalidations)
	}
}

func TestWriteInOneInstanceInvalidatesTheOther(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	a, b := newHybrid(t, r), newHybrid(t, r)

	set(t, a, "user:1", "v1")
	// Wait for the message: a read racing with it would rightly decline to
	// fill L1 with what the message may have made stale.
	waitFor(t, "b to receive a's first invalidation", func() bool { return b.Stats().Invalidations == 1 })
	wantGet(t, b, "user:1", "v1") // miss: read from Redis into b's L1
	wantGet(t, b, "user:1", "v1") // hit
	wantStats(t, "b", b, 1, 1, 1)

	set(t, a, "user:1", "v2")
	waitFor(t, "b to receive a's second invalidation", func() bool { return b.Stats().Invalidations == 2 })
	wantGet(t, b, "user:1", "v2") // b's L1 copy was dropped: a miss
	wantStats(t, "b", b, 1, 2, 2)

	wantGet(t, a, "user:1", "v2") // a stored what it wrote in its L1
	wantStats(t, "a", a, 1, 0, 0) // and ignored its own two messages

	// b writes: a's L1 copy goes, and a reads b's value.
	set(t, b, "user:1", "v3")
	waitFor(t, "a to receive b's invalidation", func() bool { return a.Stats().Invalidations == 1 })
	wantGet(t, a, "user:1", "v3")
	wantStats(t, "a", a, 1, 1, 1)
}

func TestInvalidationNamesOnlyTheAffectedKeys(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	a, b := newHybrid(t, r), newHybrid(t, r)
	ctx := t.Context()
	if _, err := a.SetAll(ctx, map[string]any{"p:1": "x", "p:2": "y", "q": "z", "other": "o"}, cache.Expiration{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SetAll invalidation", func() bool { return b.Stats().Invalidations == 1 })
	for _, k := range []string{"p:1", "p:2", "q", "other"} {
		get(t, b, k) // into b's L1
	}
	wantStats(t, "b", b, 0, 4, 1)

	if _, err := a.Remove(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if n, err := a.RemoveByPrefix(ctx, "p:"); n != 2 || err != nil {
		t.Fatalf("RemoveByPrefix = %d, %v; want 2", n, err)
	}
	waitFor(t, "the two removals", func() bool { return b.Stats().Invalidations == 3 })
	wantGet(t, b, "q", "z") // untouched: still an L1 hit
	wantStats(t, "b", b, 1, 4, 3)
	for _, k := range []string{"p:1", "p:2", "other"} {
		wantGet(t, b, k, "<miss>")
	}
	wantStats(t, "b", b, 1, 7, 3)

	if n, err := a.RemoveByPrefix(ctx, ""); n != 1 || err != nil {
		t.Fatalf(`RemoveByPrefix("") = %d, %v; want 1`, n, err)
	}
	waitFor(t, "the clear-all invalidation", func() bool { return b.Stats().Invalidations == 4 })
	wantGet(t, b, "q", "<miss>")
}

func TestUnchangedWritesPublishNothing(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	a, b := newHybrid(t, r), newHybrid(t, r)
	ctx := t.Context()
	if _, err := a.SetIfHigher(ctx, "max", 10, cache.Expiration{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first SetIfHigher", func() bool { return b.Stats().Invalidations == 1 })
	for _, call := range []func() error{
		func() error { _, err := a.SetIfHigher(ctx, "max", 5, cache.Expiration{}); return err },
		func() error { _, err := a.Add(ctx, "max", 1, cache.Expiration{}); return err },
		func() error { _, err := a.Remove(ctx, "missing"); return err },
		func() error { _, err := a.RemoveByPrefix(ctx, "nothing:"); return err },
		func() error { _, err := a.ReplaceIfEqual(ctx, "max", 1, 999, cache.Expiration{}); return err },
	} {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	// A final write that does change something: when its message arrives,
	// every earlier one would have too.
	set(t, a, "marker", "m")
	waitFor(t, "the marker", func() bool { return b.Stats().Invalidations >= 2 })
	if got := b.Stats().Invalidations; got != 2 {
		t.Fatalf("b received %d invalidations, want 2: writes that changed nothing must not publish", got)
	}
}

func TestAwareInvalidatesHybrids(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	writer, reader := newAware(t, r), newHybrid(t, r)
	set(t, writer, "config", "v1")
	waitFor(t, "the first invalidation", func() bool { return reader.Stats().Invalidations == 1 })
	wantGet(t, reader, "config", "v1")
	wantGet(t, reader, "config", "v1")
	set(t, writer, "config", "v2")
	waitFor(t, "the second invalidation", func() bool { return reader.Stats().Invalidations == 2 })
	wantGet(t, reader, "config", "v2")
	wantStats(t, "reader", reader, 1, 2, 2)
}

func TestLocalHitDoesNotReachRedis(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	h := newHybrid(t, r)
	set(t, h, "k", "cached")
	// Change Redis behind the cache's back: no invalidation is published.
	if err := r.Client.Set(t.Context(), r.Key("k"), `"changed"`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	wantGet(t, h, "k", "cached")
	// Reads that are not served by L1 see Redis.
	if items, err := h.GetAll(t.Context(), []string{"k", "missing"}); err != nil || len(items) != 2 {
		t.Fatalf("GetAll = %v, %v", items, err)
	}
	wantStats(t, "h", h, 2, 1, 0)
}

func TestLocalTTLBoundsStaleness(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	h := newHybrid(t, r, func(c *hybridcache.Config) { c.LocalTTL = 150 * time.Millisecond })
	set(t, h, "k", "cached")
	if err := r.Client.Set(t.Context(), r.Key("k"), `"changed"`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	wantGet(t, h, "k", "changed")
}

func TestL1KeepsNoLongerThanL2(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	a, b := newHybrid(t, r), newHybrid(t, r)
	if _, err := a.Set(t.Context(), "k", "short-lived", cache.ExpiresIn(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the invalidation", func() bool { return b.Stats().Invalidations == 1 })
	get(t, b, "k") // b copies it into L1 with Redis's remaining TTL, if still there
	time.Sleep(500 * time.Millisecond)
	wantGet(t, b, "k", "<miss>")
}

func TestLostInvalidationsEmptyL1OnResubscribe(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	r := &redistest.Redis{Client: srv.Client(t), Prefix: "lost:"}
	h := newHybrid(t, r)
	set(t, h, "k", "v1")
	wantGet(t, h, "k", "v1")
	// Break the subscription, and change k while no message can arrive.
	if err := r.Client.Do(t.Context(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Client.Set(t.Context(), r.Key("k"), `"v2"`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription to be re-established", func() bool { return h.Stats().Resubscriptions >= 1 })
	wantGet(t, h, "k", "v2")
	// And invalidations flow again.
	other := newAware(t, r)
	set(t, other, "k", "v3")
	waitFor(t, "an invalidation after resubscribing", func() bool { return h.Stats().Invalidations == 1 })
	wantGet(t, h, "k", "v3")
}

func TestConcurrentWritersLeaveNoStaleL1(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	h := newHybrid(t, r)
	ctx := t.Context()
	done := make(chan error, 2)
	for w := range 2 {
		go func() {
			for i := range 200 {
				if _, err := h.Set(ctx, "k", fmt.Sprintf("w%d-%d", w, i), cache.Expiration{}); err != nil {
					done <- err
					return
				}
				if _, err := h.Get(ctx, "k"); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	inRedis, err := r.Client.Get(ctx, r.Key("k")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got := `"` + get(t, h, "k") + `"`; got != inRedis {
		t.Fatalf("after concurrent writes L1 serves %s but Redis holds %s", got, inRedis)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	h, err := hybridcache.New(t.Context(), hybridcache.Config{Distributed: l2(t, r), Publisher: r.Client, Channel: r.Key("inv")})
	if err != nil {
		t.Fatal(err)
	}
	set(t, h, "k", "v")
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := h.Get(t.Context(), "k"); !errors.Is(err, hybridcache.ErrClosed) {
		t.Fatalf("Get after Close: error %v, want ErrClosed", err)
	}
	// The Redis client is the caller's and still works.
	if err := r.Client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("Redis client after Close: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	dist := l2(t, r)
	for name, cfg := range map[string]hybridcache.Config{
		"no distributed":   {Publisher: r.Client},
		"no publisher":     {Distributed: dist},
		"negative items":   {Distributed: dist, Publisher: r.Client, LocalMaxItems: -1},
		"negative size":    {Distributed: dist, Publisher: r.Client, LocalMaxMemorySize: -1},
		"negative ttl":     {Distributed: dist, Publisher: r.Client, LocalTTL: -time.Second},
		"cannot subscribe": {Distributed: dist, Publisher: publishOnly{r.Client}},
	} {
		if h, err := hybridcache.New(t.Context(), cfg); !errors.Is(err, hybridcache.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, %v; want ErrInvalidConfig", name, h, err)
		}
	}
	if _, err := hybridcache.NewAware(nil, r.Client, hybridcache.AwareConfig{}); !errors.Is(err, hybridcache.ErrInvalidConfig) {
		t.Errorf("NewAware(nil, ...): error %v, want ErrInvalidConfig", err)
	}
}

// publishOnly can publish but not subscribe.
type publishOnly struct{ c redis.UniversalClient }

func (p publishOnly) Publish(ctx context.Context, channel string, message any) *redis.IntCmd {
	return p.c.Publish(ctx, channel, message)
}

func TestNewFailsWithoutRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client := srv.Client(t)
	srv.Kill(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	m, err := memorycache.New(memorycache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hybridcache.New(ctx, hybridcache.Config{Distributed: m, Publisher: client}); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("New with Redis down: error %v, want ErrUnavailable", err)
	}
}

func TestHashesNeedDistributedHashes(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	h := newHybrid(t, r, func(c *hybridcache.Config) { c.Distributed = plainClient{l2(t, r)} })
	if _, err := h.HashSet(t.Context(), "h", "f", 1); !errors.Is(err, cache.ErrUnsupported) {
		t.Fatalf("HashSet over an L2 without hashes: error %v, want ErrUnsupported", err)
	}
	set(t, h, "k", "v")
	wantGet(t, h, "k", "v")
}

// plainClient hides the hash methods of its Client.
type plainClient struct{ cache.Client }

// pausingL2 is an L2 that, for one marked call, pauses after Redis has
// answered and before returning, so a test can run another operation in
// that gap.
type pausingL2 struct {
	cache.Client
	paused, resume chan struct{}
	pauseSet       string // Set of this value pauses
	pauseTTL       bool   // GetExpiration pauses
}

func newPausingL2(inner cache.Client) *pausingL2 {
	return &pausingL2{Client: inner, paused: make(chan struct{}), resume: make(chan struct{})}
}

func (p *pausingL2) pause() {
	p.paused <- struct{}{}
	<-p.resume
}

func (p *pausingL2) Set(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	ok, err := p.Client.Set(ctx, key, value, exp)
	if value == p.pauseSet {
		p.pause()
	}
	return ok, err
}

func (p *pausingL2) GetExpiration(ctx context.Context, key string) (cache.Expiration, error) {
	e, err := p.Client.GetExpiration(ctx, key)
	if p.pauseTTL {
		p.pause()
	}
	return e, err
}

// inBackground runs fn on a goroutine and returns a wait for its error.
func inBackground(fn func() error) func() error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	return func() error { return <-done }
}

func TestOverlappingWritesLeaveNoStaleL1(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	slow := newPausingL2(l2(t, r))
	slow.pauseSet = "old"
	h := newHybrid(t, r, func(c *hybridcache.Config) { c.Distributed = slow })
	ctx := t.Context()

	// Redis receives "old" then "new", but the "old" writer reaches L1 last.
	wait := inBackground(func() error { _, err := h.Set(ctx, "k", "old", cache.Expiration{}); return err })
	<-slow.paused
	set(t, h, "k", "new")
	slow.resume <- struct{}{}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	wantGet(t, h, "k", "new")
}

func TestReadOverlappingAWriteLeavesNoStaleL1(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	slow := newPausingL2(l2(t, r))
	h := newHybrid(t, r, func(c *hybridcache.Config) { c.Distributed = slow })
	ctx := t.Context()
	set(t, h, "k", "old")
	if ok, err := h.Remove(ctx, "k"); !ok || err != nil { // empty L1 ...
		t.Fatalf("Remove = %v, %v", ok, err)
	}
	if err := r.Client.Set(ctx, r.Key("k"), `"old"`, 0).Err(); err != nil { // ... but not Redis
		t.Fatal(err)
	}

	// A read fetches "old" from Redis; before it fills L1, "new" is written.
	slow.pauseTTL = true
	wait := inBackground(func() error {
		v, err := cache.Get[string](ctx, h, "k")
		if err == nil && v.Value != "old" {
			err = fmt.Errorf("the paused read returned %q, want old", v.Value)
		}
		return err
	})
	<-slow.paused
	slow.pauseTTL = false
	set(t, h, "k", "new")
	slow.resume <- struct{}{}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	wantGet(t, h, "k", "new")
}
