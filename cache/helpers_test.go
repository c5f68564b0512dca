package cache_test

import (
	"errors"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

func TestTryGet(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, im := range newImpls(t, false) {
		c := im.c
		if _, err := c.Set(ctx, "word", "hello", cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.Get[int](ctx, c, "word"); !errors.Is(err, cache.ErrDecode) {
			t.Fatalf("%s: Get[int] of a string: %v; want ErrDecode", im.name, err)
		}
		v, err := cache.TryGet[int](ctx, c, "word")
		if err != nil || v.HasValue {
			t.Fatalf("%s: TryGet[int] of a string = %+v, %v; want absent, no error", im.name, v, err)
		}
		if v, err := cache.TryGet[string](ctx, c, "word"); err != nil || !v.HasValue || v.Value != "hello" {
			t.Fatalf("%s: TryGet[string] = %+v, %v", im.name, v, err)
		}
		if _, err := c.ListAdd(ctx, "list", []any{1}, cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.TryGet[int](ctx, c, "list"); !errors.Is(err, cache.ErrWrongType) {
			t.Fatalf("%s: TryGet of a list: %v; want ErrWrongType (only decode errors are absorbed)", im.name, err)
		}
	}
}

func TestUnixTime(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	at := time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.FixedZone("UTC+2", 2*3600))
	for _, im := range newImpls(t, false) {
		c := im.c
		if _, err := cache.SetUnix(ctx, c, "s", at, cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.SetUnixMilli(ctx, c, "ms", at, cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if v, err := cache.Get[int64](ctx, c, "s"); err != nil || v.Value != at.Unix() {
			t.Fatalf("%s: stored %d, %v; want Unix seconds %d", im.name, v.Value, err, at.Unix())
		}
		s, err := cache.GetUnix(ctx, c, "s")
		if err != nil || !s.HasValue || !s.Value.Equal(at.Truncate(time.Second)) || s.Value.Location() != time.UTC {
			t.Fatalf("%s: GetUnix = %+v, %v; want %v in UTC", im.name, s, err, at.Truncate(time.Second))
		}
		ms, err := cache.GetUnixMilli(ctx, c, "ms")
		if err != nil || !ms.Value.Equal(at.Truncate(time.Millisecond)) {
			t.Fatalf("%s: GetUnixMilli = %+v, %v; want %v", im.name, ms, err, at.Truncate(time.Millisecond))
		}
		// Being integers, instants keep the latest with SetIfHigher.
		if _, err := c.SetIfHigher(ctx, "ms", at.Add(time.Hour).UnixMilli(), cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if ms, _ := cache.GetUnixMilli(ctx, c, "ms"); !ms.Value.Equal(at.Add(time.Hour).Truncate(time.Millisecond)) {
			t.Fatalf("%s: after SetIfHigher: %v", im.name, ms.Value)
		}
		if miss, err := cache.GetUnix(ctx, c, "missing"); err != nil || miss.HasValue {
			t.Fatalf("%s: GetUnix(missing) = %+v, %v", im.name, miss, err)
		}
		if _, err := c.Set(ctx, "bad", "yesterday", cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.GetUnix(ctx, c, "bad"); !errors.Is(err, cache.ErrDecode) {
			t.Fatalf("%s: GetUnix of a string: %v; want ErrDecode", im.name, err)
		}
	}
}
