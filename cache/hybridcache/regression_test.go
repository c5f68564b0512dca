package hybridcache_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/hybridcache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// Cause 5 of issue 16: Increment and SetIfHigher/SetIfLower dropped the key
// from L1 instead of caching the new value, so the next Get went to Redis.
func TestNumericWritesStoreTheNewValueInL1(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	h := newHybrid(t, r)
	ctx := t.Context()
	none := cache.Expiration{}
	steps := []struct {
		name  string
		write func() error
		want  string // what Redis holds, and L1 must serve
	}{
		{"Increment", func() error { _, err := h.Increment(ctx, "n", 5, cache.ExpiresIn(time.Hour)); return err }, "5"},
		{"SetIfHigher", func() error { _, err := h.SetIfHigher(ctx, "n", 10, none); return err }, "10"},
		{"SetIfLower", func() error { _, err := h.SetIfLower(ctx, "n", 3, none); return err }, "3"},
		{"IncrementFloat whole", func() error { _, err := h.IncrementFloat(ctx, "n", 2, none); return err }, "5"},
		{"SetIfHigherFloat", func() error { _, err := h.SetIfHigherFloat(ctx, "n", 7.5, none); return err }, "7.5"},
		{"SetIfLowerFloat", func() error { _, err := h.SetIfLowerFloat(ctx, "n", 2.25, none); return err }, "2.25"},
		{"Increment after a float", func() error { _, err := h.IncrementFloat(ctx, "n", 0.75, none); return err }, "3"},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		before := h.Stats()
		it, err := h.Get(ctx, "n")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := it.Raw(nil)
		inRedis := r.Client.Get(ctx, r.Key("n")).Val()
		if string(raw) != s.want || inRedis != s.want {
			t.Fatalf("after %s: L1 serves %q, Redis holds %q; want %q", s.name, raw, inRedis, s.want)
		}
		if after := h.Stats(); after.LocalHits != before.LocalHits+1 {
			t.Fatalf("after %s the next Get went to Redis (stats %+v)", s.name, after)
		}
	}
}

// Cause 6: an instance's invalidation message for its own write, arriving
// at another instance after that one had filled its L1 with the fresh
// value, dropped the fresh entry: in 11-16 of 20 rounds of A.Set(k),
// B.Get(k), B.Get(k) the second read missed L1. Never stale, but wasted.
func TestInvalidationKeepsAFreshL1Copy(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	a, b := newHybrid(t, r), newHybrid(t, r)
	const rounds = 20
	for i := range rounds {
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		set(t, a, k, v)
		wantGet(t, b, k, v)
		before := b.Stats()
		wantGet(t, b, k, v)
		if after := b.Stats(); after.LocalHits != before.LocalHits+1 {
			t.Fatalf("round %d: the second read missed L1 (stats %+v)", i, after)
		}
	}
	// Once every message has arrived, every copy is still in L1.
	waitFor(t, "a's messages", func() bool { return b.Stats().Invalidations == rounds })
	before := b.Stats()
	for i := range rounds {
		wantGet(t, b, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i))
	}
	if after := b.Stats(); after.LocalHits != before.LocalHits+rounds {
		t.Fatalf("after the messages arrived, %d of %d reads missed L1 (stats %+v)",
			rounds-(after.LocalHits-before.LocalHits), rounds, after)
	}
	// A write of another value still drops the copy.
	set(t, a, "k0", "changed")
	waitFor(t, "the change", func() bool { return b.Stats().Invalidations == rounds+1 })
	wantGet(t, b, "k0", "changed")
}

// L1's eviction callback makes the hybrid forget what an evicted entry
// held, so a later message naming the same bytes is not taken for a copy
// to keep.
func TestEvictedL1EntryIsForgotten(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	a := newHybrid(t, r)
	b := newHybrid(t, r, func(c *hybridcache.Config) { c.LocalMaxItems = 1 })
	set(t, a, "k1", "same")
	set(t, a, "k2", "x")
	waitFor(t, "a's messages", func() bool { return b.Stats().Invalidations == 2 })
	wantGet(t, b, "k1", "same") // into b's L1
	wantGet(t, b, "k2", "x")    // evicts k1 from b's L1
	set(t, a, "k1", "same")     // same bytes as b had
	waitFor(t, "a's message", func() bool { return b.Stats().Invalidations == 3 })
	if kept := b.Stats().Kept; kept != 0 {
		t.Fatalf("Kept = %d after a message for an evicted entry; want 0", kept)
	}
	before := b.Stats()
	wantGet(t, b, "k1", "same")
	if after := b.Stats(); after.LocalMisses != before.LocalMisses+1 {
		t.Fatalf("the evicted k1 was served from L1 (stats %+v)", after)
	}
}
