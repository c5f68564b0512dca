package cachetest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// hget reads field of the hash at key as T.
func hget[T any](t *testing.T, h cache.Hashes, key, field string) cache.Value[T] {
	t.Helper()
	what := fmt.Sprintf("HashGet(%q, %q)", key, field)
	it := must(h.HashGet(t.Context(), key, field))(t, what)
	return must(cache.ValueOf[T](it))(t, what)
}

// fillHash sets n fields "f<i>" = i on the hash at key, from a few
// goroutines.
func fillHash(t *testing.T, h cache.Hashes, key string, n int) {
	t.Helper()
	const workers = 8
	parallel(t, workers, func(w int) error {
		for i := w; i < n; i += workers {
			if _, err := h.HashSet(t.Context(), key, "f"+strconv.Itoa(i), i); err != nil {
				return err
			}
		}
		return nil
	})
}

var hashTests = []test{
	{"HashSetReportsNew", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		check[bool](t, "HashSet(new)", true)(h.HashSet(ctx, "h", "f", "one"))
		check[bool](t, "HashSet(existing)", false)(h.HashSet(ctx, "h", "f", "two"))
		equal(t, "HashGet", hget[string](t, h, "h", "f"), cache.Value[string]{Value: "two", HasValue: true})
		check[bool](t, "HashSet(other)", true)(h.HashSet(ctx, "h", "g", 1))
		check[int64](t, "HashLen", 2)(h.HashLen(ctx, "h"))
		wantExists(t, c, "h", true)
	}},
	{"HashGetMiss", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		equal(t, "HashGet(missing key)", hget[string](t, h, "h", "f"), cache.Value[string]{})
		check[bool](t, "HashSet", true)(h.HashSet(ctx, "h", "f", "v"))
		equal(t, "HashGet(missing field)", hget[string](t, h, "h", "nope"), cache.Value[string]{})
		check[int64](t, "HashLen(missing)", 0)(h.HashLen(ctx, "missing"))
	}},
	{"HashValues", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		check[bool](t, "HashSet(int)", true)(h.HashSet(ctx, "h", "int", 42))
		check[bool](t, "HashSet(float)", true)(h.HashSet(ctx, "h", "float", 2.5))
		check[bool](t, "HashSet(null)", true)(h.HashSet(ctx, "h", "null", nil))
		check[bool](t, "HashSet(struct)", true)(h.HashSet(ctx, "h", "struct", samplePayload("alice")))
		it := must(h.HashGet(ctx, "h", "int"))(t, "HashGet(int)")
		equal(t, "HashGet(int).Value()", must(it.Value())(t, "Value()"), any(int64(42)))
		it = must(h.HashGet(ctx, "h", "float"))(t, "HashGet(float)")
		equal(t, "HashGet(float).Value()", must(it.Value())(t, "Value()"), any(2.5))
		equal(t, "HashGet(null)", hget[string](t, h, "h", "null"), cache.Value[string]{HasValue: true, IsNull: true})
		equal(t, "HashGet(struct)", hget[payload](t, h, "h", "struct"), cache.Value[payload]{Value: samplePayload("alice"), HasValue: true})
	}},
	{"HashGetManyKeepsOrder", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		for _, f := range []string{"a", "b", "c"} {
			check[bool](t, "HashSet("+f+")", true)(h.HashSet(ctx, "h", f, "v"+f))
		}
		items := must(h.HashGetMany(ctx, "h", []string{"c", "missing", "a"}))(t, "HashGetMany")
		equal(t, "len(HashGetMany)", len(items), 3)
		got := make([]cache.Value[string], len(items))
		for i, it := range items {
			got[i] = must(cache.ValueOf[string](it))(t, "ValueOf")
		}
		equal(t, "HashGetMany", got, []cache.Value[string]{{Value: "vc", HasValue: true}, {}, {Value: "va", HasValue: true}})
		items = must(h.HashGetMany(ctx, "missing", []string{"a", "b"}))(t, "HashGetMany(missing key)")
		if len(items) != 2 || items[0].HasValue() || items[1].HasValue() {
			t.Fatalf("HashGetMany(missing key) = %d items (present: %v), want 2 misses", len(items), items)
		}
		equal(t, "len(HashGetMany(no fields))", len(must(h.HashGetMany(ctx, "h", nil))(t, "HashGetMany(no fields)")), 0)
	}},
	{"HashDelete", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		for _, f := range []string{"a", "b", "c"} {
			check[bool](t, "HashSet("+f+")", true)(h.HashSet(ctx, "h", f, 1))
		}
		check[int64](t, "HashDelete(a, missing)", 1)(h.HashDelete(ctx, "h", "a", "missing"))
		check[int64](t, "HashLen", 2)(h.HashLen(ctx, "h"))
		check[int64](t, "HashDelete(none)", 0)(h.HashDelete(ctx, "h"))
		check[int64](t, "HashDelete(b, c)", 2)(h.HashDelete(ctx, "h", "b", "c"))
		wantExists(t, c, "h", false)
		check[int64](t, "HashDelete(missing key)", 0)(h.HashDelete(ctx, "h", "a"))
	}},
	{"HashKeepsKeyTTL", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		check[bool](t, "HashSet(a)", true)(h.HashSet(ctx, "h", "a", 1))
		wantNoTTL(t, c, "h")
		noErr(t, "SetExpiration(1h)", c.SetExpiration(ctx, "h", cache.ExpiresIn(time.Hour)))
		check[bool](t, "HashSet(b)", true)(h.HashSet(ctx, "h", "b", 2))
		wantTTL(t, c, "h", 0, time.Hour)
		check[bool](t, "Remove(hash)", true)(c.Remove(ctx, "h"))
		check[int64](t, "HashLen after Remove", 0)(h.HashLen(ctx, "h"))
	}},
	{"HashWrongType", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		check[bool](t, "Set", true)(c.Set(ctx, "v", "x", cache.Expiration{}))
		if _, err := h.HashSet(ctx, "v", "f", 1); err == nil {
			t.Fatal("HashSet on a key holding a plain value: no error, want one")
		}
		wantValue(t, c, "v", "x")
	}},
	{"HashScanYieldsEveryField", func(t *testing.T, s *suite, c cache.Client) {
		n := s.opts.HashScanFields
		h := hashes(t, c)
		fillHash(t, h, "h", n)
		check[int64](t, "HashLen", int64(n))(h.HashLen(t.Context(), "h"))
		for _, pageSize := range []int{100, 0} {
			seen := make(map[string]bool, n)
			for f, err := range h.HashScan(t.Context(), "h", pageSize) {
				noErr(t, fmt.Sprintf("HashScan(pageSize %d)", pageSize), err)
				// HSCAN may yield a field twice; it must hold its value.
				var v int
				noErr(t, "Decode "+f.Field, f.Item.Decode(&v))
				equal(t, "value of "+f.Field, "f"+strconv.Itoa(v), f.Field)
				seen[f.Field] = true
			}
			equal(t, fmt.Sprintf("distinct fields from HashScan(pageSize %d)", pageSize), len(seen), n)
		}
	}},
	{"HashScanMissingKey", func(t *testing.T, s *suite, c cache.Client) {
		for f, err := range hashes(t, c).HashScan(t.Context(), "missing", 10) {
			t.Fatalf("HashScan(missing) yielded (%q, %v), want nothing", f.Field, err)
		}
	}},
	{"HashScanEarlyBreak", func(t *testing.T, s *suite, c cache.Client) {
		h := hashes(t, c)
		fillHash(t, h, "h", 250)
		count := 0
		for _, err := range h.HashScan(t.Context(), "h", 100) {
			noErr(t, "HashScan", err)
			count++
			if count == 10 {
				break
			}
		}
		equal(t, "fields seen before break", count, 10)
		check[int64](t, "HashLen after break", 250)(h.HashLen(t.Context(), "h"))
	}},
	{"HashScanErrorEndsSequence", func(t *testing.T, s *suite, c cache.Client) {
		h := hashes(t, c)
		fillHash(t, h, "h", 20)
		pairs, errs := 0, 0
		for _, err := range h.HashScan(cancelled(t), "h", 5) {
			pairs++
			if err != nil {
				errs++
				isErr(t, "HashScan with a cancelled context", err, context.Canceled)
			}
		}
		if pairs != 1 || errs != 1 {
			t.Fatalf("HashScan with a cancelled context yielded %d pairs (%d errors), want exactly one error", pairs, errs)
		}
		pairs = 0
		for _, err := range h.HashScan(t.Context(), "", 5) {
			pairs++
			isErr(t, `HashScan("")`, err, cache.ErrEmptyKey)
		}
		equal(t, `pairs from HashScan("")`, pairs, 1)
	}},
	{"HashEmptyField", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		h := hashes(t, c)
		_, err := h.HashSet(ctx, "h", "", 1)
		isErr(t, `HashSet with field ""`, err, cache.ErrEmptyKey)
		_, err = h.HashGet(ctx, "h", "")
		isErr(t, `HashGet with field ""`, err, cache.ErrEmptyKey)
		_, err = h.HashGetMany(ctx, "h", []string{"a", ""})
		isErr(t, `HashGetMany with field ""`, err, cache.ErrEmptyKey)
		_, err = h.HashDelete(ctx, "h", "a", "")
		isErr(t, `HashDelete with field ""`, err, cache.ErrEmptyKey)
		wantExists(t, c, "h", false)
	}},
	{"HashSetConcurrent", func(t *testing.T, s *suite, c cache.Client) {
		h := hashes(t, c)
		n := s.opts.Goroutines
		var fresh atomic.Int64
		parallel(t, n, func(i int) error {
			for j := range perGoroutine {
				isNew, err := h.HashSet(t.Context(), "h", fmt.Sprintf("f%d", j), i)
				if err != nil {
					return err
				}
				if isNew {
					fresh.Add(1)
				}
			}
			return nil
		})
		equal(t, "fields reported new", fresh.Load(), int64(perGoroutine))
		check[int64](t, "HashLen", perGoroutine)(h.HashLen(t.Context(), "h"))
	}},
}
