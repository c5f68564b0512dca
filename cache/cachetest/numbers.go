package cachetest

import (
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

var numberTests = []test{
	{"Increment", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "Increment(missing, 5)", 5)(c.Increment(ctx, "k", 5, cache.Expiration{}))
		check[int64](t, "Increment(-2)", 3)(c.Increment(ctx, "k", -2, cache.Expiration{}))
		check[int64](t, "Increment(0)", 3)(c.Increment(ctx, "k", 0, cache.Expiration{}))
		wantValue(t, c, "k", int64(3))
		it := must(c.Get(ctx, "k"))(t, "Get")
		equal(t, "Get(k).Value()", must(it.Value())(t, "Value()"), any(int64(3)))
	}},
	{"IncrementMixed", func(t *testing.T, s *suite, c cache.Client) {
		// The specification's example: 1, then 1.5, then 2 gives 1, 2.5, 4.5.
		ctx := t.Context()
		exp := cache.ExpiresIn(time.Hour)
		check[int64](t, "Increment(1)", 1)(c.Increment(ctx, "mixed", 1, exp))
		check[float64](t, "IncrementFloat(1.5)", 2.5)(c.IncrementFloat(ctx, "mixed", 1.5, exp))
		check[float64](t, "IncrementFloat(2)", 4.5)(c.IncrementFloat(ctx, "mixed", 2, exp))
		wantValue(t, c, "mixed", 4.5)
		wantTTL(t, c, "mixed", 0, time.Hour)

		check[float64](t, "IncrementFloat(score, 1.5)", 1.5)(c.IncrementFloat(ctx, "score", 1.5, exp))
		check[float64](t, "IncrementFloat(score, 2.25)", 3.75)(c.IncrementFloat(ctx, "score", 2.25, exp))
	}},
	{"IncrementOnWholeFloat", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[float64](t, "IncrementFloat(1.5)", 1.5)(c.IncrementFloat(ctx, "k", 1.5, cache.Expiration{}))
		check[float64](t, "IncrementFloat(1.5)", 3)(c.IncrementFloat(ctx, "k", 1.5, cache.Expiration{}))
		check[int64](t, "Increment(1) on 3", 4)(c.Increment(ctx, "k", 1, cache.Expiration{}))
		check[bool](t, "Set(2)", true)(c.Set(ctx, "i", 2, cache.Expiration{}))
		check[float64](t, "IncrementFloat(0.5) on a Set int", 2.5)(c.IncrementFloat(ctx, "i", 0.5, cache.Expiration{}))
		wantValue(t, c, "i", 2.5)
	}},
	{"IncrementTTLExample", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set(counter, 0, 5m)", true)(c.Set(ctx, "counter", 0, cache.ExpiresIn(5*time.Minute)))
		check[int64](t, "Increment(1, none)", 1)(c.Increment(ctx, "counter", 1, cache.Expiration{}))
		wantNoTTL(t, c, "counter")
		check[int64](t, "Increment(1, 10m)", 2)(c.Increment(ctx, "counter", 1, cache.ExpiresIn(10*time.Minute)))
		wantTTL(t, c, "counter", 5*time.Minute, 10*time.Minute)
		check[int64](t, "Increment(5, 0)", 0)(c.Increment(ctx, "counter", 5, cache.ExpiresIn(0)))
		wantMiss(t, c, "counter")
	}},
	{"SetIfHigherExample", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "SetIfHigher(missing, 100)", 100)(c.SetIfHigher(ctx, "max", 100, cache.Expiration{}))
		check[int64](t, "SetIfHigher(150)", 50)(c.SetIfHigher(ctx, "max", 150, cache.Expiration{}))
		check[int64](t, "SetIfHigher(120)", 0)(c.SetIfHigher(ctx, "max", 120, cache.Expiration{}))
		check[int64](t, "SetIfHigher(150) again", 0)(c.SetIfHigher(ctx, "max", 150, cache.Expiration{}))
		wantValue(t, c, "max", 150.0)
		wantValue(t, c, "max", int64(150))
	}},
	{"SetIfHigherTTL", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "SetIfHigher(100, 1h)", 100)(c.SetIfHigher(ctx, "max", 100, cache.ExpiresIn(time.Hour)))
		check[int64](t, "SetIfHigher(50, 2h)", 0)(c.SetIfHigher(ctx, "max", 50, cache.ExpiresIn(2*time.Hour)))
		wantTTL(t, c, "max", 0, time.Hour)
		check[int64](t, "SetIfHigher(60, none)", 0)(c.SetIfHigher(ctx, "max", 60, cache.Expiration{}))
		wantTTL(t, c, "max", 0, time.Hour)
		check[int64](t, "SetIfHigher(200, 2h)", 100)(c.SetIfHigher(ctx, "max", 200, cache.ExpiresIn(2*time.Hour)))
		wantTTL(t, c, "max", time.Hour, 2*time.Hour)
		check[int64](t, "SetIfHigher(250, none)", 50)(c.SetIfHigher(ctx, "max", 250, cache.Expiration{}))
		wantNoTTL(t, c, "max")
		check[int64](t, "SetIfHigher(999, 0)", 0)(c.SetIfHigher(ctx, "max", 999, cache.ExpiresIn(0)))
		wantMiss(t, c, "max")
	}},
	{"SetIfLowerExample", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "SetIfLower(missing, 100)", 100)(c.SetIfLower(ctx, "min", 100, cache.ExpiresIn(time.Hour)))
		check[int64](t, "SetIfLower(50, none)", 50)(c.SetIfLower(ctx, "min", 50, cache.Expiration{}))
		wantNoTTL(t, c, "min")
		check[int64](t, "SetIfLower(70, 1h)", 0)(c.SetIfLower(ctx, "min", 70, cache.ExpiresIn(time.Hour)))
		wantNoTTL(t, c, "min")
		check[int64](t, "SetIfLower(50) again", 0)(c.SetIfLower(ctx, "min", 50, cache.Expiration{}))
		wantValue(t, c, "min", int64(50))
		check[int64](t, "SetIfLower(20, 1h)", 30)(c.SetIfLower(ctx, "min", 20, cache.ExpiresIn(time.Hour)))
		wantTTL(t, c, "min", 0, time.Hour)
		check[int64](t, "SetIfLower(30, 2h)", 0)(c.SetIfLower(ctx, "min", 30, cache.ExpiresIn(2*time.Hour)))
		wantTTL(t, c, "min", 0, time.Hour)
		check[int64](t, "SetIfLower(1, -1s)", 0)(c.SetIfLower(ctx, "min", 1, cache.ExpiresIn(-time.Second)))
		wantMiss(t, c, "min")
	}},
	{"SetIfHigherLowerFloat", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[float64](t, "SetIfHigherFloat(missing, 1.5)", 1.5)(c.SetIfHigherFloat(ctx, "hi", 1.5, cache.Expiration{}))
		check[float64](t, "SetIfHigherFloat(2.25)", 0.75)(c.SetIfHigherFloat(ctx, "hi", 2.25, cache.Expiration{}))
		check[float64](t, "SetIfHigherFloat(2)", 0)(c.SetIfHigherFloat(ctx, "hi", 2, cache.Expiration{}))
		wantValue(t, c, "hi", 2.25)
		check[float64](t, "SetIfLowerFloat(missing, 2.25)", 2.25)(c.SetIfLowerFloat(ctx, "lo", 2.25, cache.Expiration{}))
		check[float64](t, "SetIfLowerFloat(1.5)", 0.75)(c.SetIfLowerFloat(ctx, "lo", 1.5, cache.Expiration{}))
		check[float64](t, "SetIfLowerFloat(2)", 0)(c.SetIfLowerFloat(ctx, "lo", 2, cache.Expiration{}))
		wantValue(t, c, "lo", 1.5)
		check[bool](t, "Set(int 10)", true)(c.Set(ctx, "int", 10, cache.Expiration{}))
		check[float64](t, "SetIfHigherFloat(10.5) over an int", 0.5)(c.SetIfHigherFloat(ctx, "int", 10.5, cache.Expiration{}))
		wantValue(t, c, "int", 10.5)
	}},
	{"NotANumber", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set(text)", true)(c.Set(ctx, "text", "not a number", cache.Expiration{}))
		check[bool](t, "Set(struct)", true)(c.Set(ctx, "struct", samplePayload("x"), cache.Expiration{}))
		for _, k := range []string{"text", "struct"} {
			_, err := c.Increment(ctx, k, 1, cache.Expiration{})
			isErr(t, "Increment("+k+")", err, cache.ErrNotNumber)
			_, err = c.IncrementFloat(ctx, k, 1.5, cache.Expiration{})
			isErr(t, "IncrementFloat("+k+")", err, cache.ErrNotNumber)
			_, err = c.SetIfHigher(ctx, k, 1, cache.Expiration{})
			isErr(t, "SetIfHigher("+k+")", err, cache.ErrNotNumber)
			_, err = c.SetIfHigherFloat(ctx, k, 1, cache.Expiration{})
			isErr(t, "SetIfHigherFloat("+k+")", err, cache.ErrNotNumber)
			_, err = c.SetIfLower(ctx, k, 1, cache.Expiration{})
			isErr(t, "SetIfLower("+k+")", err, cache.ErrNotNumber)
			_, err = c.SetIfLowerFloat(ctx, k, 1, cache.Expiration{})
			isErr(t, "SetIfLowerFloat("+k+")", err, cache.ErrNotNumber)
		}
		wantValue(t, c, "text", "not a number")
		wantValue(t, c, "struct", samplePayload("x"))
	}},
}
