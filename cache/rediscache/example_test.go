package rediscache_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/rediscache"
)

// The examples need a Redis at localhost:6379, so they are compiled but not
// run (they have no Output comment).

func Example() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	c, err := rediscache.New(client, rediscache.Config{KeyPrefix: "myapp:"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Stored under "myapp:user:1" for one hour.
	if _, err := c.Set(ctx, "user:1", map[string]string{"name": "Ada"}, cache.ExpiresIn(time.Hour)); err != nil {
		log.Fatal(err)
	}
	user, err := cache.Get[map[string]string](ctx, c, "user:1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.HasValue, user.Value["name"])

	// Counters and high-water marks are atomic.
	views, _ := c.Increment(ctx, "views", 1, cache.Expiration{})
	delta, _ := c.SetIfHigher(ctx, "max-users", 150, cache.Expiration{})
	fmt.Println(views, delta)
}

func ExampleCache_ListAdd() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	c, err := rediscache.New(client, rediscache.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Each search expires one hour after it was added, on its own.
	if _, err := c.ListAdd(ctx, "user:1:searches", []any{"redis", "lua"}, cache.ExpiresIn(time.Hour)); err != nil {
		log.Fatal(err)
	}
	first10, err := cache.GetList[string](ctx, c, "user:1:searches", cache.Page{Number: 0, Size: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first10)
}

func ExampleCache_HashScan() {
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"localhost:7000", "localhost:7001", "localhost:7002"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	c, err := rediscache.New(client, rediscache.Config{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// One hash per job, one field per event; stream it 500 fields at a time.
	for f, err := range c.HashScan(ctx, "job:{42}:outputs", 500) {
		if err != nil {
			log.Fatal(err)
		}
		var out string
		if err := f.Item.Decode(&out); err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Field, out)
	}
}

func ExampleNew() {
	// A failover (Sentinel) client is a *redis.Client too.
	client := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "mymaster",
		SentinelAddrs:         []string{"localhost:26379"},
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	c, err := rediscache.New(client, rediscache.Config{KeyPrefix: "tenant-a:", BatchSize: 500})
	if err != nil {
		log.Fatal(err)
	}
	n, err := c.RemoveByPrefix(context.Background(), "") // only tenant-a's keys
	fmt.Println(n, err)
}
