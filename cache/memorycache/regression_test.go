package memorycache_test

import (
	"math"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

// Cause 3 of issue 16: a TTL of 250 years or math.MaxInt64 overflowed
// now + ttl, so Set reported success and the key was gone at once;
// Increment and ListAdd lost their value; SetExpiration deleted the key.
func TestTTLOverflow(t *testing.T) {
	t.Parallel()
	const year = 365 * 24 * time.Hour
	clock := newFakeClock()
	ctx := t.Context()
	c := newCache(t, memorycache.Config{Clock: clock.Now})
	for _, ttl := range []time.Duration{250 * year, math.MaxInt64} {
		exp := cache.ExpiresIn(ttl)
		set(t, c, "set", "v", exp)
		if n, err := c.Increment(ctx, "incr", 1, exp); n != 1 || err != nil {
			t.Fatalf("Increment(%v) = %d, %v", ttl, n, err)
		}
		if n, err := c.ListAdd(ctx, "list", []any{"v"}, exp); n != 1 || err != nil {
			t.Fatalf("ListAdd(%v) = %d, %v", ttl, n, err)
		}
		set(t, c, "later", "v", cache.Expiration{})
		if err := c.SetExpiration(ctx, "later", exp); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"set", "incr", "list", "later"} {
			e, err := c.GetExpiration(ctx, k)
			if err != nil || !exists(t, c, k) {
				t.Fatalf("TTL %v: %q is gone (%v)", ttl, k, err)
			}
			if e.IsNone() || e.TTL() < ttl-time.Second {
				t.Fatalf("TTL %v: GetExpiration(%q) = %v", ttl, k, e)
			}
		}
		if err := c.SetExpiration(ctx, "later", cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.RemoveAll(ctx, []string{"set", "incr", "list"}); err != nil {
			t.Fatal(err)
		}
	}
	// 200 years on, the largest TTL is clamped to the largest instant the
	// cache can hold: still far away, never in the past.
	clock.Advance(200 * year)
	set(t, c, "k", "v", cache.ExpiresIn(math.MaxInt64))
	if e, err := c.GetExpiration(ctx, "k"); err != nil || e.IsNone() || e.TTL() < 90*year {
		t.Fatalf("200 years on, GetExpiration of a math.MaxInt64 TTL = %v, %v", e, err)
	}
	if !exists(t, c, "later") {
		t.Fatal("a key without expiration expired")
	}
}
