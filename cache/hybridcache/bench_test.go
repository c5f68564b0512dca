package hybridcache_test

import (
	"context"
	"testing"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/hybridcache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// BenchmarkGet reads one short value through the Hybrid (an L1 hit) and
// through its L2, a rediscache on the same Redis (a round trip), in the same
// run; see docs/BENCHMARKS.md.
//
//	go test -run '^$' -bench . -benchmem -count 10 ./cache/hybridcache/ > bench.txt
//	benchstat -col /impl bench.txt
func BenchmarkGet(b *testing.B) {
	r := redistest.New(b)
	dist := l2(b, r)
	h := newHybrid(b, r, func(c *hybridcache.Config) { c.Distributed = dist })
	ctx := context.Background()
	if _, err := h.Set(ctx, "user:1", benchUser{ID: 1, Name: "Ada", Email: "ada@example.com"}, cache.Expiration{}); err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name string
		c    cache.Client
	}{{"rediscache", dist}, {"hybrid-l1-hit", h}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := cache.Get[benchUser](ctx, impl.c, "user:1")
				if err != nil || v.Value.ID != 1 {
					b.Fatalf("Get = %+v, %v", v, err)
				}
			}
		})
	}
	if s := h.Stats(); s.LocalMisses != 0 {
		b.Fatalf("the hybrid missed L1 %d times; every read should hit", s.LocalMisses)
	}
}

type benchUser struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}
