package cachetest

import (
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

var listTests = []test{
	{"ListAddCountsNewValues", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(a, b)", 2)(c.ListAdd(ctx, "l", []any{"a", "b"}, cache.Expiration{}))
		check[int64](t, "ListAdd(b, c)", 1)(c.ListAdd(ctx, "l", []any{"b", "c"}, cache.Expiration{}))
		check[int64](t, "ListAdd(d, d)", 1)(c.ListAdd(ctx, "l", []any{"d", "d"}, cache.Expiration{}))
		check[int64](t, "ListAdd(a)", 0)(c.ListAdd(ctx, "l", []any{"a"}, cache.Expiration{}))
		equal(t, "GetList", list[string](t, c, "l", cache.Page{}), []string{"a", "b", "c", "d"})
		wantExists(t, c, "l", true)
	}},
	{"ListOrder", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(c, a, b)", 3)(c.ListAdd(ctx, "l", []any{"c", "a", "b"}, cache.Expiration{}))
		equal(t, "GetList (same expiry: by value)", list[string](t, c, "l", cache.Page{}), []string{"a", "b", "c"})
		check[int64](t, "ListAdd(z, 2h)", 1)(c.ListAdd(ctx, "o", []any{"z"}, cache.ExpiresIn(2*time.Hour)))
		check[int64](t, "ListAdd(y, 1h)", 1)(c.ListAdd(ctx, "o", []any{"y"}, cache.ExpiresIn(time.Hour)))
		check[int64](t, "ListAdd(x, none)", 1)(c.ListAdd(ctx, "o", []any{"x"}, cache.Expiration{}))
		equal(t, "GetList (by expiry, never last)", list[string](t, c, "o", cache.Page{}), []string{"y", "z", "x"})
	}},
	{"ListValuesExpireIndependently", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(short)", 1)(c.ListAdd(ctx, "l", []any{"short"}, cache.ExpiresIn(shortTTL)))
		check[int64](t, "ListAdd(forever)", 1)(c.ListAdd(ctx, "l", []any{"forever"}, cache.Expiration{}))
		check[int64](t, "ListAdd(hour)", 1)(c.ListAdd(ctx, "l", []any{"hour"}, cache.ExpiresIn(time.Hour)))
		sleep(pastShort)
		equal(t, "GetList after the short value expired", list[string](t, c, "l", cache.Page{}), []string{"hour", "forever"})
		check[int64](t, "ListAdd(short) again is new", 1)(c.ListAdd(ctx, "l", []any{"short"}, cache.ExpiresIn(time.Hour)))
	}},
	{"ListKeyLivesAsLongAsItsLongestValue", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(long, 1h)", 1)(c.ListAdd(ctx, "l", []any{"long"}, cache.ExpiresIn(time.Hour)))
		check[int64](t, "ListAdd(short)", 1)(c.ListAdd(ctx, "l", []any{"short"}, cache.ExpiresIn(shortTTL)))
		wantTTL(t, c, "l", 30*time.Minute, time.Hour)
		sleep(pastShort)
		wantExists(t, c, "l", true)
		equal(t, "GetList", list[string](t, c, "l", cache.Page{}), []string{"long"})
	}},
	{"ListKeyGoesWithItsLastValue", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(a, short)", 1)(c.ListAdd(ctx, "l", []any{"a"}, cache.ExpiresIn(shortTTL)))
		check[int64](t, "ListAdd(b, medium)", 1)(c.ListAdd(ctx, "l", []any{"b"}, cache.ExpiresIn(mediumTTL)))
		sleep(pastBoth)
		wantExists(t, c, "l", false)
		if got := list[string](t, c, "l", cache.Page{}); got != nil {
			t.Fatalf("GetList after every value expired = %v, want nil", got)
		}
	}},
	{"ListAddExpiredRemovesGivenValues", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(a, b, c)", 3)(c.ListAdd(ctx, "l", []any{"a", "b", "c"}, cache.Expiration{}))
		check[int64](t, "ListAdd(a, z, expired)", 0)(c.ListAdd(ctx, "l", []any{"a", "z"}, cache.ExpiresIn(0)))
		equal(t, "GetList", list[string](t, c, "l", cache.Page{}), []string{"b", "c"})
		check[int64](t, "ListAdd(b, c, -1s)", 0)(c.ListAdd(ctx, "l", []any{"b", "c"}, cache.ExpiresIn(-time.Second)))
		wantExists(t, c, "l", false)
		check[int64](t, "ListAdd(missing list, expired)", 0)(c.ListAdd(ctx, "m", []any{"a"}, cache.ExpiresIn(0)))
		wantExists(t, c, "m", false)
	}},
	{"ListPaging", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(a..e)", 5)(c.ListAdd(ctx, "l", []any{"e", "d", "c", "b", "a"}, cache.Expiration{}))
		equal(t, "page 0", list[string](t, c, "l", cache.Page{Number: 0, Size: 2}), []string{"a", "b"})
		equal(t, "page 1", list[string](t, c, "l", cache.Page{Number: 1, Size: 2}), []string{"c", "d"})
		equal(t, "page 2", list[string](t, c, "l", cache.Page{Number: 2, Size: 2}), []string{"e"})
		if got := list[string](t, c, "l", cache.Page{Number: 3, Size: 2}); got != nil {
			t.Fatalf("page past the end = %v, want nil", got)
		}
		equal(t, "Page{} (all)", list[string](t, c, "l", cache.Page{}), []string{"a", "b", "c", "d", "e"})
		equal(t, "one page of 10", list[string](t, c, "l", cache.Page{Size: 10}), []string{"a", "b", "c", "d", "e"})
		if got := list[string](t, c, "missing", cache.Page{}); got != nil {
			t.Fatalf("GetList(missing) = %v, want nil", got)
		}
	}},
	{"ListRemove", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListRemove(missing list)", 0)(c.ListRemove(ctx, "l", []any{"a"}))
		check[int64](t, "ListAdd(a, b, c, 1h)", 3)(c.ListAdd(ctx, "l", []any{"a", "b", "c"}, cache.ExpiresIn(time.Hour)))
		noErr(t, "SetExpiration(2h)", c.SetExpiration(ctx, "l", cache.ExpiresIn(2*time.Hour)))
		check[int64](t, "ListRemove(a, z)", 1)(c.ListRemove(ctx, "l", []any{"a", "z"}))
		equal(t, "GetList", list[string](t, c, "l", cache.Page{}), []string{"b", "c"})
		wantTTL(t, c, "l", time.Hour, 2*time.Hour)
		check[int64](t, "ListRemove(b, c)", 2)(c.ListRemove(ctx, "l", []any{"b", "c"}))
		wantExists(t, c, "l", false)
	}},
	{"ListRemoveKeepsNoTTL", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(a, b)", 2)(c.ListAdd(ctx, "l", []any{"a", "b"}, cache.Expiration{}))
		check[int64](t, "ListRemove(a)", 1)(c.ListRemove(ctx, "l", []any{"a"}))
		wantNoTTL(t, c, "l")
	}},
	{"ListTypedValues", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int64](t, "ListAdd(numbers)", 3)(c.ListAdd(ctx, "n", []any{3, 1, 2}, cache.Expiration{}))
		equal(t, "GetList[int]", list[int](t, c, "n", cache.Page{}), []int{1, 2, 3})
		check[int64](t, "ListRemove(2)", 1)(c.ListRemove(ctx, "n", []any{2}))
		check[int64](t, "ListAdd(structs)", 2)(c.ListAdd(ctx, "p", []any{samplePayload("b"), samplePayload("a")}, cache.Expiration{}))
		check[int64](t, "ListAdd(equal struct)", 0)(c.ListAdd(ctx, "p", []any{samplePayload("a")}, cache.Expiration{}))
		equal(t, "GetList[payload]", list[payload](t, c, "p", cache.Page{}), []payload{samplePayload("a"), samplePayload("b")})
	}},
	{"ListWrongType", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set", true)(c.Set(ctx, "v", "x", cache.Expiration{}))
		if _, err := c.ListAdd(ctx, "v", []any{"a"}, cache.Expiration{}); err == nil {
			t.Fatal("ListAdd on a key holding a plain value: no error, want one")
		}
		wantValue(t, c, "v", "x")
		check[int64](t, "ListAdd", 1)(c.ListAdd(ctx, "l", []any{"a"}, cache.Expiration{}))
		if _, err := c.Increment(ctx, "l", 1, cache.Expiration{}); err == nil {
			t.Fatal("Increment on a list: no error, want one")
		}
		equal(t, "GetList", list[string](t, c, "l", cache.Page{}), []string{"a"})
		check[bool](t, "Set over a list", true)(c.Set(ctx, "l", "plain", cache.Expiration{}))
		wantValue(t, c, "l", "plain")
	}},
}
