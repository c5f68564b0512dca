package hybridcache_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/hybridcache"
	"github.com/fanin-dev/fanin/cache/rediscache"
)

// The examples need a Redis at localhost:6379, so they are compiled but not
// run (they have no Output comment).

// Each process builds one Hybrid over the shared Redis; a read served from
// L1 costs no network round trip, and a write anywhere drops the key from
// every other process's L1.
func Example() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	l2, err := rediscache.New(client, rediscache.Config{KeyPrefix: "myapp:"})
	if err != nil {
		log.Fatal(err)
	}
	h, err := hybridcache.New(ctx, hybridcache.Config{
		Distributed:   l2,
		Publisher:     client,
		Channel:       "myapp:cache:invalidate",
		LocalMaxItems: 1000,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	if _, err := h.Set(ctx, "user:123", map[string]string{"name": "Ada"}, cache.ExpiresIn(time.Hour)); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		user, err := cache.Get[map[string]string](ctx, h, "user:123")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(user.Value["name"])
	}
	s := h.Stats()
	fmt.Println("local hits:", s.LocalHits, "misses:", s.LocalMisses)
}

// A background worker that only writes uses Aware: no L1, but the Hybrid
// instances of the readers still hear about its writes.
func ExampleNewAware() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	l2, err := rediscache.New(client, rediscache.Config{KeyPrefix: "myapp:"})
	if err != nil {
		log.Fatal(err)
	}
	writer, err := hybridcache.NewAware(l2, client, hybridcache.AwareConfig{Channel: "myapp:cache:invalidate"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := writer.Set(ctx, "config:theme", "dark", cache.Expiration{}); err != nil {
		log.Fatal(err)
	}
}
