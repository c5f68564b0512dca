package memorycache_test

import (
	"errors"
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

// Numbers are kept as the decimal text Redis keeps, and numeric operations
// read it with Redis's rules: found by the differential test, where
// memorycache turned -0 into 0, rounded uint64 beyond 2^63, could not
// increment []byte("42"), and added a whole amount to a big integer in
// float64.
func TestNumbersKeptAsRedisText(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, clone := range []bool{false, true} {
		c := newCache(t, memorycache.Config{CloneValues: clone})
		raw := func(key string) string {
			t.Helper()
			it, err := c.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			b, err := it.Raw(nil)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		set(t, c, "negzero", math.Copysign(0, -1), cache.Expiration{})
		set(t, c, "maxu", uint64(math.MaxUint64), cache.Expiration{})
		set(t, c, "bytes", []byte("42"), cache.Expiration{})
		set(t, c, "null", []byte("null"), cache.Expiration{})
		set(t, c, "lead", []byte("007"), cache.Expiration{})
		set(t, c, "big", int64(1)<<53+1, cache.Expiration{})
		if got := raw("negzero"); got != "-0" {
			t.Errorf("-0 kept as %q", got)
		}
		if v, err := cache.Get[uint64](ctx, c, "maxu"); err != nil || v.Value != math.MaxUint64 {
			t.Errorf("MaxUint64 read back as %v, %v", v.Value, err)
		}
		if n, err := c.Increment(ctx, "bytes", 1, cache.Expiration{}); n != 43 || err != nil {
			t.Errorf(`Increment of []byte("42") = %d, %v; want 43`, n, err)
		}
		if it, _ := c.Get(ctx, "null"); !it.IsNull() {
			t.Error(`[]byte("null") does not read as null`)
		}
		if _, err := c.Increment(ctx, "lead", 1, cache.Expiration{}); !errors.Is(err, cache.ErrNotNumber) {
			t.Errorf(`Increment of "007": %v; want ErrNotNumber, as INCRBY refuses it`, err)
		}
		if f, err := c.IncrementFloat(ctx, "lead", 1.5, cache.Expiration{}); f != 8.5 || err != nil {
			t.Errorf(`IncrementFloat(1.5) of "007" = %v, %v; want 8.5, as INCRBYFLOAT reads it`, f, err)
		}
		if _, err := c.IncrementFloat(ctx, "big", 2, cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if got := raw("big"); got != "9007199254740995" {
			t.Errorf("2^53+1 + 2.0 kept as %q; want the exact integer sum", got)
		}
		if _, err := c.IncrementFloat(ctx, "maxu", math.NaN(), cache.ExpiresIn(0)); err == nil {
			t.Error("IncrementFloat(NaN) with an expired TTL: no error; want the amount refused first")
		}
	}
}
