package rediscache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// TestListStorage checks the sorted-set layout: the key lives as long as its
// longest-lived value, ListRemove leaves the TTL alone, expired values are
// purged by the next ListAdd.
func TestListStorage(t *testing.T) {
	t.Parallel()
	topologies(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := newCache(t, r)
		pttl := func() time.Duration { t.Helper(); return r.Client.PTTL(ctx, r.Key("l")).Val() }

		must[int64](t, "ListAdd 1h")(c.ListAdd(ctx, "l", []any{"a"}, cache.ExpiresIn(time.Hour)))
		must[int64](t, "ListAdd 2h")(c.ListAdd(ctx, "l", []any{"b"}, cache.ExpiresIn(2*time.Hour)))
		if d := pttl(); d <= time.Hour+59*time.Minute || d > 2*time.Hour {
			t.Errorf("PTTL = %v; want about 2h (the longest-lived value)", d)
		}
		must[int64](t, "ListAdd 1m")(c.ListAdd(ctx, "l", []any{"c"}, cache.ExpiresIn(time.Minute)))
		if d := pttl(); d <= time.Hour+59*time.Minute {
			t.Errorf("PTTL = %v after adding a shorter-lived value; want still about 2h", d)
		}
		if n := must[int64](t, "ListRemove")(c.ListRemove(ctx, "l", []any{"b", "zz"})); n != 1 {
			t.Errorf("ListRemove = %d; want 1", n)
		}
		if d := pttl(); d <= time.Hour+59*time.Minute {
			t.Errorf("PTTL = %v after ListRemove; want unchanged (about 2h)", d)
		}
		must[int64](t, "ListAdd forever")(c.ListAdd(ctx, "l", []any{"d"}, cache.Expiration{}))
		if d := pttl(); d != -1 {
			t.Errorf("PTTL = %v after adding a value that never expires; want -1", d)
		}
		if n := must[int64](t, "ListAdd expired")(c.ListAdd(ctx, "l", []any{"d", "a"}, cache.ExpiresIn(-time.Second))); n != 0 {
			t.Errorf("ListAdd with expired exp = %d; want 0", n)
		}
		got := listStrings(t, c, "l", cache.Page{})
		if fmt.Sprint(got) != "[c]" {
			t.Errorf("GetList = %v; want [c]", got)
		}

		// Per-value expiry, on the server clock.
		must[int64](t, "ListAdd long")(c.ListAdd(ctx, "s", []any{"new"}, cache.ExpiresIn(time.Hour)))
		must[int64](t, "ListAdd short")(c.ListAdd(ctx, "s", []any{"old"}, cache.ExpiresIn(50*time.Millisecond)))
		time.Sleep(120 * time.Millisecond)
		if got := listStrings(t, c, "s", cache.Page{}); fmt.Sprint(got) != "[new]" {
			t.Errorf("GetList after the short value expired = %v; want [new]", got)
		}
		if n := r.Client.ZCard(ctx, r.Key("s")).Val(); n != 2 {
			t.Errorf("ZCARD = %d before the next write; want 2 (reads do not purge)", n)
		}
		if n := must[int64](t, "ListAdd again")(c.ListAdd(ctx, "s", []any{"old"}, cache.ExpiresIn(time.Hour))); n != 1 {
			t.Errorf("re-adding an expired value = %d; want 1 (it is new again)", n)
		}
		if n := must[int64](t, "ListRemove expired")(c.ListRemove(ctx, "s", []any{"nothing"})); n != 0 {
			t.Errorf("ListRemove = %d; want 0", n)
		}

		// Paging: values in order of expiry, then value.
		var values []any
		for i := range 25 {
			values = append(values, fmt.Sprintf("v%02d", i))
		}
		if n := must[int64](t, "ListAdd 25")(c.ListAdd(ctx, "p", values, cache.Expiration{})); n != 25 {
			t.Errorf("ListAdd of 25 = %d", n)
		}
		if got := listStrings(t, c, "p", cache.Page{Number: 2, Size: 10}); fmt.Sprint(got) != "[v20 v21 v22 v23 v24]" {
			t.Errorf("page 2 of size 10 = %v", got)
		}
		if got := listStrings(t, c, "p", cache.Page{Number: 3, Size: 10}); got != nil {
			t.Errorf("page 3 of size 10 = %v; want nil", got)
		}
		if got := listStrings(t, c, "p", cache.Page{Number: 1}); len(got) != 25 {
			t.Errorf("a page of size 0 has %d values; want all 25", len(got))
		}
	})
}

func listStrings(t *testing.T, c *Cache, key string, page cache.Page) []string {
	t.Helper()
	out, err := cache.GetList[string](context.Background(), c, key, page)
	if err != nil {
		t.Fatalf("GetList(%s, %+v): %v", key, page, err)
	}
	return out
}

func TestHashScanLarge(t *testing.T) {
	t.Parallel()
	topologies(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := newCache(t, r)
		const n = 20000
		fields := make([]any, 0, 2*1000)
		for i := range n {
			fields = append(fields, fmt.Sprintf("f%05d", i), i)
			if len(fields) == cap(fields) {
				if err := r.Client.HSet(ctx, r.Key("{job}:h"), fields...).Err(); err != nil {
					t.Fatal(err)
				}
				fields = fields[:0]
			}
		}
		seen := make(map[string]bool, n)
		for f, err := range c.HashScan(ctx, "{job}:h", 500) {
			if err != nil {
				t.Fatalf("HashScan: %v", err)
			}
			var v int
			if err := f.Item.Decode(&v); err != nil || fmt.Sprintf("f%05d", v) != f.Field {
				t.Fatalf("field %s = %d, %v", f.Field, v, err)
			}
			seen[f.Field] = true
		}
		if len(seen) != n {
			t.Errorf("HashScan yielded %d distinct fields; want %d", len(seen), n)
		}
		if l := must[int64](t, "HashLen")(c.HashLen(ctx, "{job}:h")); l != n {
			t.Errorf("HashLen = %d; want %d", l, n)
		}

		yielded := 0
		for _, err := range c.HashScan(ctx, "{job}:h", 500) {
			if err != nil {
				t.Fatal(err)
			}
			yielded++
			if yielded == 10 {
				break
			}
		}
		if yielded != 10 {
			t.Errorf("yielded %d after break at 10", yielded)
		}
		for range c.HashScan(ctx, "{job}:missing", 0) {
			t.Errorf("HashScan of a missing hash yielded something")
		}
	})
}

func TestHashes(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	c := newCache(t, r)
	if isNew := must[bool](t, "HashSet")(c.HashSet(ctx, "h", "a", map[string]int{"x": 1})); !isNew {
		t.Errorf("HashSet of a new field = false")
	}
	if isNew := must[bool](t, "HashSet again")(c.HashSet(ctx, "h", "a", 2)); isNew {
		t.Errorf("HashSet of an existing field = true")
	}
	must[bool](t, "HashSet nil")(c.HashSet(ctx, "h", "n", nil))
	items := must[[]cache.Item](t, "HashGetMany")(c.HashGetMany(ctx, "h", []string{"n", "zz", "a"}))
	var a int
	if !items[0].IsNull() || items[1].HasValue() || items[2].Decode(&a) != nil || a != 2 {
		t.Errorf("HashGetMany = %v; want null, miss, 2", items)
	}
	if it := must[cache.Item](t, "HashGet")(c.HashGet(ctx, "h", "zz")); it.HasValue() {
		t.Errorf("HashGet of a missing field has a value")
	}
	if n := must[int64](t, "HashDelete")(c.HashDelete(ctx, "h", "a", "zz")); n != 1 {
		t.Errorf("HashDelete = %d; want 1", n)
	}
	if n := must[int64](t, "HashDelete none")(c.HashDelete(ctx, "h")); n != 0 {
		t.Errorf("HashDelete of no field = %d; want 0", n)
	}
}
