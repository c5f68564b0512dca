package memorycache_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

func TestStats(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newFakeClock()
	c := newCache(t, memorycache.Config{MaxItems: 2, MaxMemorySize: 1 << 20, Clock: clock.Now})
	set(t, c, "a", "x", cache.Expiration{})
	set(t, c, "b", "yy", cache.ExpiresIn(time.Second))
	for _, k := range []string{"a", "missing"} {
		if _, err := c.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetAll(ctx, []string{"a", "b", "nope"}); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Hits != 3 || st.Misses != 2 || st.Items != 2 {
		t.Fatalf("Stats = %+v; want 3 hits, 2 misses, 2 items", st)
	}
	// key + encoded value + 64 bytes each: "a" `"x"` and "b" `"yy"`
	if want := int64(1+3+64) + int64(1+4+64); st.MemorySize != want {
		t.Fatalf("MemorySize = %d; want %d", st.MemorySize, want)
	}
	clock.Advance(2 * time.Second) // b expires
	set(t, c, "c", 1, cache.Expiration{})
	set(t, c, "d", 1, cache.Expiration{}) // a is evicted
	st = c.Stats()
	if st.Expirations != 1 || st.Evictions != 1 || st.Items != 2 {
		t.Fatalf("Stats = %+v; want 1 expiration, 1 eviction, 2 items", st)
	}
}

func TestMaxEntrySizeAndSizeFunc(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, cfg := range []memorycache.Config{
		{MaxEntrySize: -1},
		{MaxMemorySize: 100, MaxEntrySize: 101},
	} {
		if _, err := memorycache.New(cfg); !errors.Is(err, memorycache.ErrInvalidConfig) {
			t.Errorf("New(%+v): %v; want ErrInvalidConfig", cfg, err)
		}
	}
	sizes := map[string]int64{"small": 10, "big": 500}
	c := newCache(t, memorycache.Config{
		MaxMemorySize: 1000, MaxEntrySize: 200,
		SizeFunc: func(v any) int64 {
			if s, ok := v.(string); ok {
				return sizes[s]
			}
			return -1
		},
	})
	set(t, c, "k", "small", cache.Expiration{})
	if got, want := c.Stats().MemorySize, int64(1+10+64); got != want {
		t.Fatalf("MemorySize with SizeFunc = %d; want %d", got, want)
	}
	_, err := c.Set(ctx, "k", "big", cache.Expiration{})
	if !errors.Is(err, memorycache.ErrTooLarge) || !strings.Contains(err.Error(), "565 bytes") || !strings.Contains(err.Error(), "200") {
		t.Fatalf("Set of a 565-byte entry under MaxEntrySize 200: %v; want ErrTooLarge naming both sizes", err)
	}
	if _, err := c.HashSet(ctx, "h", "f", "big"); !errors.Is(err, memorycache.ErrTooLarge) {
		t.Fatalf("HashSet of a too large field: %v; want ErrTooLarge", err)
	}
	if _, err := c.Set(ctx, "k", 42, cache.Expiration{}); err == nil || !strings.Contains(err.Error(), "SizeFunc returned -1") {
		t.Fatalf("Set when SizeFunc returns -1: %v; want an error naming it", err)
	}
	if v, err := cache.Get[string](ctx, c, "k"); err != nil || v.Value != "small" {
		t.Fatalf("after the refused writes k = %q, %v; want small", v.Value, err)
	}
}

func TestOnEvict(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newFakeClock()
	var (
		mu  sync.Mutex
		got []string
		c   *memorycache.Cache
	)
	c = newCache(t, memorycache.Config{MaxItems: 2, Clock: clock.Now, OnEvict: func(key string, r memorycache.EvictReason) {
		mu.Lock()
		got = append(got, key+" "+r.String())
		mu.Unlock()
		// The callback runs outside the lock: it may use the cache.
		if _, err := c.Exists(ctx, key); err != nil {
			t.Errorf("Exists from OnEvict: %v", err)
		}
	}})
	set(t, c, "soon", 1, cache.ExpiresIn(time.Second))
	set(t, c, "old", 1, cache.Expiration{})
	clock.Advance(2 * time.Second)
	if exists(t, c, "soon") {
		t.Fatal("an expired key exists")
	}
	set(t, c, "new", 1, cache.Expiration{})
	set(t, c, "newer", 1, cache.Expiration{}) // evicts old
	if _, err := c.Remove(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	set(t, c, "newer", 2, cache.Expiration{}) // an overwrite is not an eviction
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"soon expired", "old evicted"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("OnEvict calls %q; want %q (not for Remove or an overwrite)", got, want)
	}
}

// OnEvict hears of an expired entry when a call reclaims it, not when its
// TTL runs out: a call naming its key, or a write, SetExpiration, Stats or
// Len, which sweep every expired entry; reads and removals of other keys do
// not (see Config.OnEvict).
func TestOnEvictForExpiryFiresWhenReclaimed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := newFakeClock()
	var log evictLog
	c := newCache(t, memorycache.Config{Clock: clock.Now, OnEvict: log.add})
	reported := log.take
	for _, k := range []string{"a", "b", "c", "d"} {
		set(t, c, k, 1, cache.ExpiresIn(time.Second))
	}
	set(t, c, "keep", 1, cache.Expiration{})
	clock.Advance(2 * time.Second)
	if r := reported(); r != "" {
		t.Fatalf("OnEvict at the TTL's end, before any call: %q; want none", r)
	}

	if _, err := c.Get(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAll(ctx, []string{"keep", "missing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Remove(ctx, "missing"); err != nil {
		t.Fatal(err)
	}
	if r := reported(); r != "" {
		t.Fatalf("OnEvict after reads and removals of other keys: %q; want none", r)
	}

	if it, err := c.Get(ctx, "a"); err != nil || it.HasValue() {
		t.Fatalf("Get of an expired key = %+v, %v; want a miss", it, err)
	}
	if r, want := reported(), "a expired"; r != want {
		t.Fatalf("OnEvict after a Get of the expired key: %q; want %q", r, want)
	}

	set(t, c, "other", 1, cache.Expiration{})
	if r, want := reported(), "b expired,c expired,d expired"; r != want {
		t.Fatalf("OnEvict after a write of another key: %q; want %q (the write sweeps)", r, want)
	}

	set(t, c, "e", 1, cache.ExpiresIn(time.Second))
	clock.Advance(2 * time.Second)
	if n := c.Len(); n != 2 {
		t.Fatalf("Len = %d; want 2 (keep, other)", n)
	}
	if r, want := reported(), "e expired"; r != want {
		t.Fatalf("OnEvict after Len: %q; want %q", r, want)
	}
}

// evictLog records OnEvict calls.
type evictLog struct {
	mu    sync.Mutex
	calls []string
}

// add is the OnEvict callback.
func (l *evictLog) add(key string, r memorycache.EvictReason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, key+" "+r.String())
}

// take returns the calls since the last take, sorted and joined by commas.
func (l *evictLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := l.calls
	l.calls = nil
	slices.Sort(calls)
	return strings.Join(calls, ",")
}
