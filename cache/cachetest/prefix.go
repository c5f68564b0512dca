package cachetest

import (
	"fmt"
	"testing"

	"github.com/fanin-dev/fanin/cache"
)

// metachars have a meaning in glob patterns (Redis SCAN MATCH) or regular
// expressions; RemoveByPrefix must take them literally.
const metachars = `*?[]\.^${}()|+`

func prefixTests() []test {
	out := []test{
		{"EmptyPrefixClearsEverything", func(t *testing.T, s *suite, c cache.Client) {
			ctx := t.Context()
			check[int](t, "SetAll", 3)(c.SetAll(ctx, map[string]any{"a": 1, "b:c": "x", "*": nil}, cache.Expiration{}))
			check[int64](t, "ListAdd", 1)(c.ListAdd(ctx, "list", []any{"v"}, cache.Expiration{}))
			want := 4
			if s.opts.Hashes {
				check[bool](t, "HashSet", true)(hashes(t, c).HashSet(ctx, "hash", "f", "v"))
				want++
			}
			check[int](t, `RemoveByPrefix("")`, want)(c.RemoveByPrefix(ctx, ""))
			for _, k := range []string{"a", "b:c", "*", "list", "hash"} {
				wantExists(t, c, k, false)
			}
			check[int](t, `RemoveByPrefix("") again`, 0)(c.RemoveByPrefix(ctx, ""))
		}},
		{"ManyKeys", func(t *testing.T, s *suite, c cache.Client) {
			ctx := t.Context()
			values := make(map[string]any, 300)
			for i := range 300 {
				values[fmt.Sprintf("many:%03d", i)] = i
			}
			check[int](t, "SetAll(300)", 300)(c.SetAll(ctx, values, cache.Expiration{}))
			check[int](t, "SetAll(others)", 3)(c.SetAll(ctx, map[string]any{"other:1": 1, "many": 2, "xmany:1": 3}, cache.Expiration{}))
			check[int](t, `RemoveByPrefix("many:")`, 300)(c.RemoveByPrefix(ctx, "many:"))
			wantExists(t, c, "many:000", false)
			wantExists(t, c, "many:299", false)
			for _, k := range []string{"other:1", "many", "xmany:1"} {
				wantExists(t, c, k, true)
			}
			check[int](t, "RemoveByPrefix(no match)", 0)(c.RemoveByPrefix(ctx, "nothing"))
		}},
		{"ExpiredKeysAreNotCounted", func(t *testing.T, s *suite, c cache.Client) {
			ctx := t.Context()
			check[bool](t, "Set(short)", true)(c.Set(ctx, "p:short", 1, cache.ExpiresIn(shortTTL)))
			check[bool](t, "Set(long)", true)(c.Set(ctx, "p:long", 1, cache.Expiration{}))
			sleep(pastShort)
			check[int](t, `RemoveByPrefix("p:")`, 1)(c.RemoveByPrefix(ctx, "p:"))
		}},
		{"CombinedMetacharacters", func(t *testing.T, s *suite, c cache.Client) {
			ctx := t.Context()
			keys := []string{"a[bc]*?.x", "a[bc]*?.y"}
			decoys := []string{"ab", "ac", "a[bc]x", "abx", `a\[bc]*?.x`, "a[bc]*?", "a[bc]*!.x"}
			for _, k := range append(keys, decoys...) {
				check[bool](t, "Set("+k+")", true)(c.Set(ctx, k, k, cache.Expiration{}))
			}
			check[int](t, `RemoveByPrefix("a[bc]*?.")`, 2)(c.RemoveByPrefix(ctx, "a[bc]*?."))
			for _, k := range keys {
				wantExists(t, c, k, false)
			}
			for _, k := range decoys {
				wantExists(t, c, k, true)
			}
		}},
	}
	for _, m := range metachars {
		meta := string(m)
		out = append(out, test{fmt.Sprintf("Literal%q", meta), func(t *testing.T, s *suite, c cache.Client) {
			ctx := t.Context()
			prefix := "p" + meta
			keys := []string{prefix + "1", prefix + meta + "2", prefix}
			// Each decoy would match prefix read as a glob or a regular
			// expression, or as an escaped form of it.
			decoys := []string{"p", "pa1", "p1", "pp" + meta, "p\\" + meta + "1", "x" + prefix}
			if meta == `\` {
				decoys = []string{"p", "pa1", "p1", "pp" + meta, "x" + prefix}
			}
			for _, k := range append(keys, decoys...) {
				check[bool](t, fmt.Sprintf("Set(%q)", k), true)(c.Set(ctx, k, k, cache.Expiration{}))
			}
			check[int](t, fmt.Sprintf("RemoveByPrefix(%q)", prefix), len(keys))(c.RemoveByPrefix(ctx, prefix))
			for _, k := range keys {
				wantExists(t, c, k, false)
			}
			for _, k := range decoys {
				wantExists(t, c, k, true)
			}
		}})
	}
	return out
}
