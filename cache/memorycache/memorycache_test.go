package memorycache_test

import (
	"testing"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/cachetest"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

func newCache(t *testing.T, cfg memorycache.Config) *memorycache.Cache {
	t.Helper()
	c, err := memorycache.New(cfg)
	if err != nil {
		t.Fatalf("memorycache.New(%+v): %v", cfg, err)
	}
	return c
}

func TestConformance(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cache.Client {
		return newCache(t, memorycache.Config{})
	}, cachetest.Options{Hashes: true})
}

func TestConformanceCloneValues(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cache.Client {
		return newCache(t, memorycache.Config{CloneValues: true})
	}, cachetest.Options{Hashes: true})
}

func TestConformanceBounded(t *testing.T) {
	t.Parallel()
	// Bounds far above what any test stores: eviction must never show.
	cachetest.Run(t, func(t *testing.T) cache.Client {
		return newCache(t, memorycache.Config{MaxItems: 100_000, MaxMemorySize: 1 << 30})
	}, cachetest.Options{Hashes: true})
}
