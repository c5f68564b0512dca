package cachetest

import (
	"fmt"
	"testing"

	"github.com/fanin-dev/fanin/cache"
)

// sharedTest is a cross-instance test, given two clients over one store.
type sharedTest struct {
	name string
	run  func(t *testing.T, s *suite, a, b cache.Client)
}

// sees waits until c reads want at key (a miss when want is nil).
func (s *suite) sees(t *testing.T, c cache.Client, key string, want any) {
	t.Helper()
	s.eventually(t, fmt.Sprintf("other client reads %q as %v", key, want), func() (bool, string) {
		it, err := c.Get(t.Context(), key)
		if err != nil {
			return false, "error " + err.Error()
		}
		if want == nil {
			return !it.HasValue(), fmt.Sprintf("HasValue=%v", it.HasValue())
		}
		var got string
		if err := it.Decode(&got); err != nil {
			return false, "decode error " + err.Error()
		}
		return it.HasValue() && got == want, fmt.Sprintf("HasValue=%v value=%q", it.HasValue(), got)
	})
}

var sharedTests = []sharedTest{
	{"WritesAreSeenByTheOther", func(t *testing.T, s *suite, a, b cache.Client) {
		ctx := t.Context()
		check[bool](t, "A.Set(v1)", true)(a.Set(ctx, "k", "v1", cache.Expiration{}))
		s.sees(t, b, "k", "v1")
		// b has now read k (a local cache would hold it): overwrite it.
		check[bool](t, "A.Set(v2)", true)(a.Set(ctx, "k", "v2", cache.Expiration{}))
		s.sees(t, b, "k", "v2")
		check[bool](t, "A.ReplaceIfEqual(v3)", true)(a.ReplaceIfEqual(ctx, "k", "v3", "v2", cache.Expiration{}))
		s.sees(t, b, "k", "v3")
		check[bool](t, "A.Remove", true)(a.Remove(ctx, "k"))
		s.sees(t, b, "k", nil)
	}},
	{"RemovesAreSeenByTheOther", func(t *testing.T, s *suite, a, b cache.Client) {
		ctx := t.Context()
		check[int](t, "A.SetAll", 3)(a.SetAll(ctx, map[string]any{"p:1": "x", "p:2": "y", "q": "z"}, cache.Expiration{}))
		for k, v := range map[string]string{"p:1": "x", "p:2": "y", "q": "z"} {
			s.sees(t, b, k, v)
		}
		check[int](t, "A.RemoveByPrefix(p:)", 2)(a.RemoveByPrefix(ctx, "p:"))
		s.sees(t, b, "p:1", nil)
		s.sees(t, b, "p:2", nil)
		s.sees(t, b, "q", "z")
		check[int](t, "A.RemoveAll(q)", 1)(a.RemoveAll(ctx, []string{"q"}))
		s.sees(t, b, "q", nil)
		check[bool](t, "B.Set(r)", true)(b.Set(ctx, "r", "w", cache.Expiration{}))
		s.sees(t, a, "r", "w")
		check[int](t, `B.RemoveByPrefix("")`, 1)(b.RemoveByPrefix(ctx, ""))
		s.sees(t, a, "r", nil)
	}},
	{"CountersAddUpAcrossClients", func(t *testing.T, s *suite, a, b cache.Client) {
		n := s.opts.Goroutines
		parallel(t, n, func(i int) error {
			c := a
			if i%2 == 1 {
				c = b
			}
			for range perGoroutine {
				if _, err := c.Increment(t.Context(), "counter", 1, cache.Expiration{}); err != nil {
					return err
				}
			}
			return nil
		})
		want := fmt.Sprint(n * perGoroutine)
		for _, c := range []cache.Client{a, b} {
			s.eventually(t, "counter reaches "+want, func() (bool, string) {
				v, err := cache.Get[int](t.Context(), c, "counter")
				return err == nil && fmt.Sprint(v.Value) == want, fmt.Sprintf("%+v, %v", v, err)
			})
		}
	}},
}
