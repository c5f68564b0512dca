package rediscache

import (
	"testing"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/cachetest"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// conformance runs the cache conformance suite on Caches built on the Redis
// views newRedis returns, wrapped by wrap.
func conformance(t *testing.T, newRedis func(testing.TB) *redistest.Redis, wrap func(*testing.T, *Cache) cache.Client) {
	t.Helper()
	cachetest.Run(t, func(t *testing.T) cache.Client { return wrap(t, newCache(t, newRedis(t))) }, cachetest.Options{
		Hashes: true,
		NewSharedPair: func(t *testing.T) (cache.Client, cache.Client) {
			r := newRedis(t)
			return wrap(t, newCache(t, r)), wrap(t, newCache(t, r))
		},
	})
}

func bare(_ *testing.T, c *Cache) cache.Client { return c }

func scoped(t *testing.T, c *Cache) cache.Client {
	s, err := cache.NewScoped(c, "tenant")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Run("standalone", func(t *testing.T) { conformance(t, redistest.New, bare) })
	t.Run("cluster", func(t *testing.T) { conformance(t, redistest.NewCluster, bare) })
	t.Run("scoped", func(t *testing.T) { conformance(t, redistest.New, scoped) })
	t.Run("scoped-cluster", func(t *testing.T) { conformance(t, redistest.NewCluster, scoped) })
}
