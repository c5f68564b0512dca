package memorycache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

// A bounded cache evicts the least recently used key; reading counts as use.
func ExampleNew() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{MaxItems: 2})
	if err != nil {
		log.Fatal(err)
	}
	must := func(_ bool, err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(c.Set(ctx, "a", 1, cache.Expiration{}))
	must(c.Set(ctx, "b", 2, cache.Expiration{}))
	if _, err := c.Get(ctx, "a"); err != nil { // a is now more recent than b
		log.Fatal(err)
	}
	must(c.Set(ctx, "c", 3, cache.Expiration{})) // evicts b
	for _, k := range []string{"a", "b", "c"} {
		ok, err := c.Exists(ctx, k)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(k, ok)
	}
	// Output:
	// a true
	// b false
	// c true
}

// CloneValues keeps the cache safe from callers mutating what they wrote or
// read.
func ExampleConfig_cloneValues() {
	type account struct{ Balance float64 }
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{CloneValues: true})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Set(ctx, "account:1", &account{Balance: 100}, cache.Expiration{}); err != nil {
		log.Fatal(err)
	}
	got, err := cache.Get[*account](ctx, c, "account:1")
	if err != nil {
		log.Fatal(err)
	}
	got.Value.Balance = 0 // changes this copy only
	again, err := cache.Get[account](ctx, c, "account:1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Value.Balance)
	// Output: 100
}

// A list whose values expire one by one; the Clock is moved by hand here.
func ExampleCache_ListAdd() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := memorycache.New(memorycache.Config{Clock: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	add := func(v string, d time.Duration) {
		if _, err := c.ListAdd(ctx, "recent-searches", []any{v}, cache.ExpiresIn(d)); err != nil {
			log.Fatal(err)
		}
	}
	add("go generics", time.Minute)
	add("redis streams", time.Hour)
	now = now.Add(2 * time.Minute)
	searches, err := cache.GetList[string](ctx, c, "recent-searches", cache.Page{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(searches)
	// Output: [redis streams]
}

// Stats counts hits and misses and gives the current size estimate.
func ExampleCache_Stats() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{MaxMemorySize: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Set(ctx, "greeting", "hello", cache.Expiration{}); err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"greeting", "greeting", "missing"} {
		if _, err := c.Get(ctx, k); err != nil {
			log.Fatal(err)
		}
	}
	st := c.Stats()
	// 8 bytes of key, 7 of JSON ("hello"), 64 of bookkeeping.
	fmt.Println("hits:", st.Hits, "misses:", st.Misses, "items:", st.Items, "bytes:", st.MemorySize)
	// Output:
	// hits: 2 misses: 1 items: 1 bytes: 79
}

// SizeFunc measures values without encoding them; MaxEntrySize refuses an
// entry too large with ErrTooLarge, naming both sizes.
func ExampleConfig_maxEntrySize() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{
		MaxMemorySize: 64 << 10,
		MaxEntrySize:  1 << 10,
		SizeFunc: func(v any) int64 {
			if b, ok := v.([]byte); ok {
				return int64(len(b))
			}
			return 16
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Set(ctx, "blob", make([]byte, 4096), cache.Expiration{})
	fmt.Println(errors.Is(err, memorycache.ErrTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// memorycache: Set "blob": memorycache: entry larger than MaxEntrySize: the entry would be 4164 bytes; MaxEntrySize is 1024
}

// OnEvict hears of the entries the cache drops by itself.
func ExampleConfig_onEvict() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{
		MaxItems: 1,
		OnEvict: func(key string, reason memorycache.EvictReason) {
			fmt.Println("dropped", key, reason)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{"first", "second"} {
		if _, err := c.Set(ctx, k, 1, cache.Expiration{}); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// dropped first evicted
}
