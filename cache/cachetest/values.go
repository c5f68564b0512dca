package cachetest

import (
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

var valueTests = []test{
	{"GetMiss", func(t *testing.T, s *suite, c cache.Client) {
		it := must(c.Get(t.Context(), "missing"))(t, "Get")
		if it.HasValue() || it.IsNull() {
			t.Fatalf("Get(missing): HasValue=%v IsNull=%v, want both false", it.HasValue(), it.IsNull())
		}
		v, err := it.Value()
		equal(t, "Value() of a miss", v, any(nil))
		noErr(t, "Value() of a miss", err)
		wantExists(t, c, "missing", false)
	}},
	{"SetGet", func(t *testing.T, s *suite, c cache.Client) {
		check[bool](t, "Set", true)(c.Set(t.Context(), "k", "hello", cache.Expiration{}))
		v := get[string](t, c, "k")
		equal(t, "Get[string]", v, cache.Value[string]{Value: "hello", HasValue: true})
		wantExists(t, c, "k", true)
		check[bool](t, "Set again", true)(c.Set(t.Context(), "k", "world", cache.Expiration{}))
		wantValue(t, c, "k", "world")
	}},
	{"NullZeroAndMissAreDistinct", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set(null, nil)", true)(c.Set(ctx, "null", nil, cache.Expiration{}))
		check[bool](t, "Set(nilptr, (*payload)(nil))", true)(c.Set(ctx, "nilptr", (*payload)(nil), cache.Expiration{}))
		check[bool](t, "Set(zero, 0)", true)(c.Set(ctx, "zero", 0, cache.Expiration{}))
		check[bool](t, "Set(empty, \"\")", true)(c.Set(ctx, "empty", "", cache.Expiration{}))

		all := must(c.GetAll(ctx, []string{"null", "nilptr", "zero", "empty", "missing"}))(t, "GetAll")
		equal(t, "len(GetAll)", len(all), 5)
		for _, k := range []string{"null", "nilptr"} {
			if it := all[k]; !it.HasValue() || !it.IsNull() {
				t.Fatalf("GetAll[%q]: HasValue=%v IsNull=%v, want true, true", k, it.HasValue(), it.IsNull())
			}
		}
		for _, k := range []string{"zero", "empty"} {
			if it := all[k]; !it.HasValue() || it.IsNull() {
				t.Fatalf("GetAll[%q]: HasValue=%v IsNull=%v, want true, false", k, it.HasValue(), it.IsNull())
			}
		}
		if it, ok := all["missing"]; !ok || it.HasValue() || it.IsNull() {
			t.Fatalf("GetAll[missing]: present=%v HasValue=%v IsNull=%v, want a present miss", ok, it.HasValue(), it.IsNull())
		}

		equal(t, "Get[int](null)", get[int](t, c, "null"), cache.Value[int]{HasValue: true, IsNull: true})
		equal(t, "Get[int](zero)", get[int](t, c, "zero"), cache.Value[int]{HasValue: true})
		equal(t, "Get[int](missing)", get[int](t, c, "missing"), cache.Value[int]{})
		equal(t, "Get[*payload](nilptr)", get[*payload](t, c, "nilptr"), cache.Value[*payload]{HasValue: true, IsNull: true})
		wantExists(t, c, "null", true)

		typed := must(cache.GetAll[int](ctx, c, []string{"null", "zero", "missing"}))(t, "GetAll[int]")
		equal(t, "GetAll[int]", typed, map[string]cache.Value[int]{
			"null": {HasValue: true, IsNull: true},
			"zero": {HasValue: true},
		})
	}},
	{"NumbersReadBackAsNumbers", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		for k, v := range map[string]any{"int": 42, "neg": -3, "i32": int32(7), "u16": uint16(9), "float": 2.5, "whole": 3.0} {
			check[bool](t, "Set("+k+")", true)(c.Set(ctx, k, v, cache.Expiration{}))
		}
		for k, want := range map[string]any{"int": int64(42), "neg": int64(-3), "float": 2.5} {
			it := must(c.Get(ctx, k))(t, "Get("+k+")")
			equal(t, "Get("+k+").Value()", must(it.Value())(t, "Value()"), want)
		}
		wantValue(t, c, "int", 42)
		wantValue(t, c, "int", 42.0)
		wantValue(t, c, "i32", 7)
		wantValue(t, c, "u16", uint16(9))
		wantValue(t, c, "float", 2.5)
		wantValue(t, c, "whole", 3.0)
		wantValue(t, c, "whole", int64(3))
		check[int64](t, "Increment on a Set int", 43)(c.Increment(ctx, "int", 1, cache.Expiration{}))
	}},
	{"StructsRoundTrip", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		p := samplePayload("alice")
		check[bool](t, "Set(struct)", true)(c.Set(ctx, "value", p, cache.Expiration{}))
		check[bool](t, "Set(&struct)", true)(c.Set(ctx, "pointer", &p, cache.Expiration{}))
		wantValue(t, c, "value", samplePayload("alice"))
		wantValue(t, c, "pointer", samplePayload("alice"))
		ptr := get[*payload](t, c, "value")
		if ptr.Value == nil {
			t.Fatal("Get[*payload] = nil, want a pointer to the value")
		}
		equal(t, "*Get[*payload]", *ptr.Value, samplePayload("alice"))

		m := map[string]any{"a": 1.5, "b": "x", "c": []any{"y", true}}
		check[bool](t, "Set(map)", true)(c.Set(ctx, "map", m, cache.Expiration{}))
		wantValue(t, c, "map", map[string]any{"a": 1.5, "b": "x", "c": []any{"y", true}})
		check[bool](t, "Set(slice)", true)(c.Set(ctx, "slice", []string{"p", "q"}, cache.Expiration{}))
		wantValue(t, c, "slice", []string{"p", "q"})
		check[bool](t, "Set(bool)", true)(c.Set(ctx, "bool", true, cache.Expiration{}))
		wantValue(t, c, "bool", true)
	}},
	{"BytesRoundTrip", func(t *testing.T, s *suite, c cache.Client) {
		raw := []byte("raw \x00\xff bytes")
		check[bool](t, "Set([]byte)", true)(c.Set(t.Context(), "b", raw, cache.Expiration{}))
		wantValue(t, c, "b", []byte("raw \x00\xff bytes"))
	}},
	{"Add", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Add(new)", true)(c.Add(ctx, "k", "first", cache.Expiration{}))
		check[bool](t, "Add(existing)", false)(c.Add(ctx, "k", "second", cache.Expiration{}))
		wantValue(t, c, "k", "first")
		check[bool](t, "Set(null)", true)(c.Set(ctx, "null", nil, cache.Expiration{}))
		check[bool](t, "Add over a null", false)(c.Add(ctx, "null", "x", cache.Expiration{}))
		check[bool](t, "Remove", true)(c.Remove(ctx, "k"))
		check[bool](t, "Add after Remove", true)(c.Add(ctx, "k", "third", cache.Expiration{}))
		wantValue(t, c, "k", "third")
	}},
	{"AddOverExpiredKey", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set(short TTL)", true)(c.Set(ctx, "k", "old", cache.ExpiresIn(shortTTL)))
		sleep(pastShort)
		check[bool](t, "Add over an expired key", true)(c.Add(ctx, "k", "new", cache.Expiration{}))
		wantValue(t, c, "k", "new")
	}},
	{"ExpiredKeyIsGone", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set(short TTL)", true)(c.Set(ctx, "k", "v", cache.ExpiresIn(shortTTL)))
		check[bool](t, "Set(long TTL)", true)(c.Set(ctx, "long", "v", cache.ExpiresIn(time.Hour)))
		sleep(pastShort)
		wantMiss(t, c, "k")
		equal(t, "GetExpiration(expired)", must(c.GetExpiration(ctx, "k"))(t, "GetExpiration"), cache.Expiration{})
		all := must(c.GetAll(ctx, []string{"k", "long"}))(t, "GetAll")
		if all["k"].HasValue() || !all["long"].HasValue() {
			t.Fatalf("GetAll after expiry: k present=%v, long present=%v; want false, true", all["k"].HasValue(), all["long"].HasValue())
		}
		check[bool](t, "Remove(expired)", false)(c.Remove(ctx, "k"))
	}},
	{"Replace", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Replace(missing)", false)(c.Replace(ctx, "k", "v", cache.Expiration{}))
		wantMiss(t, c, "k")
		check[bool](t, "Set", true)(c.Set(ctx, "k", "old", cache.Expiration{}))
		check[bool](t, "Replace(existing)", true)(c.Replace(ctx, "k", "new", cache.Expiration{}))
		wantValue(t, c, "k", "new")
	}},
	{"ReplaceIfEqual", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "ReplaceIfEqual(missing)", false)(c.ReplaceIfEqual(ctx, "k", 2, 1, cache.Expiration{}))
		wantMiss(t, c, "k")
		check[bool](t, "Set", true)(c.Set(ctx, "k", 1, cache.Expiration{}))
		check[bool](t, "ReplaceIfEqual(mismatch)", false)(c.ReplaceIfEqual(ctx, "k", 2, 3, cache.Expiration{}))
		wantValue(t, c, "k", 1)
		check[bool](t, "ReplaceIfEqual(match)", true)(c.ReplaceIfEqual(ctx, "k", 2, 1, cache.Expiration{}))
		wantValue(t, c, "k", 2)

		check[bool](t, "Set(string)", true)(c.Set(ctx, "s", "a", cache.Expiration{}))
		check[bool](t, "ReplaceIfEqual(string)", true)(c.ReplaceIfEqual(ctx, "s", "b", "a", cache.Expiration{}))
		wantValue(t, c, "s", "b")

		check[bool](t, "Set(struct)", true)(c.Set(ctx, "p", samplePayload("alice"), cache.Expiration{}))
		check[bool](t, "ReplaceIfEqual(struct mismatch)", false)(c.ReplaceIfEqual(ctx, "p", samplePayload("carol"), samplePayload("bob"), cache.Expiration{}))
		check[bool](t, "ReplaceIfEqual(equal struct)", true)(c.ReplaceIfEqual(ctx, "p", samplePayload("bob"), samplePayload("alice"), cache.Expiration{}))
		wantValue(t, c, "p", samplePayload("bob"))
	}},
	{"Remove", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Remove(missing)", false)(c.Remove(ctx, "k"))
		check[bool](t, "Set", true)(c.Set(ctx, "k", "v", cache.Expiration{}))
		check[bool](t, "Remove(existing)", true)(c.Remove(ctx, "k"))
		wantMiss(t, c, "k")
		check[bool](t, "Remove again", false)(c.Remove(ctx, "k"))
		check[bool](t, "Set(null)", true)(c.Set(ctx, "null", nil, cache.Expiration{}))
		check[bool](t, "Remove(null)", true)(c.Remove(ctx, "null"))
	}},
	{"RemoveIfEqual", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "RemoveIfEqual(missing)", false)(c.RemoveIfEqual(ctx, "k", "a"))
		check[bool](t, "Set", true)(c.Set(ctx, "k", "a", cache.Expiration{}))
		check[bool](t, "RemoveIfEqual(mismatch)", false)(c.RemoveIfEqual(ctx, "k", "b"))
		wantValue(t, c, "k", "a")
		check[bool](t, "RemoveIfEqual(match)", true)(c.RemoveIfEqual(ctx, "k", "a"))
		wantMiss(t, c, "k")
		check[bool](t, "Set(number)", true)(c.Set(ctx, "n", 7, cache.Expiration{}))
		check[bool](t, "RemoveIfEqual(number)", true)(c.RemoveIfEqual(ctx, "n", 7))
		wantMiss(t, c, "n")
	}},
	{"RemoveAll", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		for _, k := range []string{"a", "b", "keep"} {
			check[bool](t, "Set("+k+")", true)(c.Set(ctx, k, k, cache.Expiration{}))
		}
		check[int](t, "RemoveAll(a, b, missing)", 2)(c.RemoveAll(ctx, []string{"a", "b", "missing"}))
		wantMiss(t, c, "a")
		wantMiss(t, c, "b")
		check[int](t, "RemoveAll(empty)", 0)(c.RemoveAll(ctx, []string{}))
		wantValue(t, c, "keep", "keep")
	}},
	{"SetAll", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int](t, "SetAll", 3)(c.SetAll(ctx, map[string]any{"a": 1, "b": "x", "c": nil}, cache.Expiration{}))
		wantValue(t, c, "a", 1)
		wantValue(t, c, "b", "x")
		equal(t, "Get(c)", get[string](t, c, "c"), cache.Value[string]{HasValue: true, IsNull: true})
		check[int](t, "SetAll(empty)", 0)(c.SetAll(ctx, map[string]any{}, cache.Expiration{}))
		check[int](t, "SetAll(overwrite)", 1)(c.SetAll(ctx, map[string]any{"a": 2}, cache.Expiration{}))
		wantValue(t, c, "a", 2)
	}},
	{"GetAllEmpty", func(t *testing.T, s *suite, c cache.Client) {
		equal(t, "len(GetAll(empty))", len(must(c.GetAll(t.Context(), []string{}))(t, "GetAll(empty)")), 0)
	}},
}
