package rediscache

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// The benchmarks compare each operation through the Cache (impl=fanin) with
// the bare go-redis call (impl=go-redis), on the same Redis in the same run;
// see docs/BENCHMARKS.md. benchstat -col /impl puts them side by side:
//
//	go test -run '^$' -bench . -benchmem -count 10 ./cache/rediscache/ > bench.txt
//	benchstat -col /impl bench.txt

// benchValue is the value the Set benchmarks write: a short string, which
// the Cache stores as JSON and the bare call as given.
const benchValue = "hello, fanin"

// benchPair runs fanin and goRedis as the sub-benchmarks impl=go-redis and
// impl=fanin.
func benchPair(b *testing.B, goRedis, fanin func() error) {
	b.Helper()
	for _, impl := range []struct {
		name string
		op   func() error
	}{{"go-redis", goRedis}, {"fanin", fanin}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := impl.op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchSetup(b *testing.B) (*redistest.Redis, *Cache, context.Context) {
	b.Helper()
	r := redistest.New(b)
	return r, newCache(b, r), context.Background()
}

// BenchmarkGet reads a short value: GET, and Cache.Get (GET, then an Item
// around the bytes).
func BenchmarkGet(b *testing.B) {
	r, c, ctx := benchSetup(b)
	if _, err := c.Set(ctx, "k", benchValue, cache.Expiration{}); err != nil {
		b.Fatal(err)
	}
	key := r.Key("k")
	benchPair(b,
		func() error { return r.Client.Get(ctx, key).Err() },
		func() error { _, err := c.Get(ctx, "k"); return err })
}

// BenchmarkSet writes a short string without expiration: SET, and
// Cache.Set (JSON encoding, then SET).
func BenchmarkSet(b *testing.B) {
	r, c, ctx := benchSetup(b)
	key := r.Key("k")
	benchPair(b,
		func() error { return r.Client.Set(ctx, key, benchValue, 0).Err() },
		func() error { _, err := c.Set(ctx, "k", benchValue, cache.Expiration{}); return err })
}

// BenchmarkIncrement adds 1 without expiration: INCRBY, and
// Cache.Increment (the incr.lua script: INCRBY then PERSIST, atomically, as
// the specification wants any TTL removed). Two more bare go-redis variants
// tell the cost of those semantics from the cost of the wrapper:
// impl=go-redis-lua runs the same script through redis.Script, and
// impl=go-redis-tx does the same atomic work with MULTI, INCRBY, PERSIST,
// EXEC.
func BenchmarkIncrement(b *testing.B) {
	r, c, ctx := benchSetup(b)
	key := r.Key("n")
	keys := []string{key}
	script := redis.NewScript(incrLua)
	benchPair(b,
		func() error { return r.Client.IncrBy(ctx, key, 1).Err() },
		func() error { _, err := c.Increment(ctx, "n", 1, cache.Expiration{}); return err })
	b.Run("impl=go-redis-lua", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := script.Run(ctx, r.Client, keys, 1, "i", 0).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=go-redis-tx", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := r.Client.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.IncrBy(ctx, key, 1)
				p.Persist(ctx, key)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
