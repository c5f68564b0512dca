package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

type profile struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// loadUser stands for an expensive lookup (a database, a remote service).
func loadUser(id int) profile {
	fmt.Println("loading user", id, "from the database")
	return profile{ID: id, Name: "Alice"}
}

// getUser is the cache-aside pattern: try the cache, and on a miss load the
// value and cache it for later callers.
func getUser(ctx context.Context, c cache.Client, id int) (profile, error) {
	key := fmt.Sprintf("user:%d", id)
	cached, err := cache.Get[profile](ctx, c, key)
	if err != nil {
		return profile{}, err
	}
	if cached.HasValue {
		return cached.Value, nil
	}
	u := loadUser(id)
	if _, err := c.Set(ctx, key, u, cache.ExpiresIn(30*time.Minute)); err != nil {
		return profile{}, err
	}
	return u, nil
}

// Cache-aside: the first read loads and caches, the second is a hit.
func Example_cacheAside() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{MaxItems: 1000})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		u, err := getUser(ctx, c, 123)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("got", u.Name)
	}
	// Output:
	// loading user 123 from the database
	// got Alice
	// got Alice
}

// Counters and high-water marks: Increment returns the new value, and
// SetIfHigher returns by how much the mark rose (0 when it did not).
func Example_counters() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{})
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if _, err := c.Increment(ctx, "api:calls:today", 1, cache.ExpiresIn(24*time.Hour)); err != nil {
			log.Fatal(err)
		}
	}
	calls, err := cache.Get[int64](ctx, c, "api:calls:today")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("calls:", calls.Value)

	for _, users := range []int64{100, 150, 120} {
		rise, err := c.SetIfHigher(ctx, "max-concurrent-users", users, cache.Expiration{})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d users: mark rose by %d\n", users, rise)
	}
	peak, err := cache.Get[int64](ctx, c, "max-concurrent-users")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("peak:", peak.Value)
	// Output:
	// calls: 3
	// 100 users: mark rose by 100
	// 150 users: mark rose by 50
	// 120 users: mark rose by 0
	// peak: 150
}

// One cache shared by tenants: each sees only its own keys, and clearing a
// tenant leaves the others alone.
func ExampleNewScoped() {
	ctx := context.Background()
	shared, err := memorycache.New(memorycache.Config{})
	if err != nil {
		log.Fatal(err)
	}
	abc, err := cache.NewScoped(shared, "tenant:abc")
	if err != nil {
		log.Fatal(err)
	}
	xyz, err := cache.NewScoped(shared, "tenant:xyz")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := abc.Set(ctx, "theme", "dark", cache.Expiration{}); err != nil {
		log.Fatal(err)
	}
	if _, err := xyz.Set(ctx, "theme", "light", cache.Expiration{}); err != nil {
		log.Fatal(err)
	}
	for _, tenant := range []*cache.Scoped{abc, xyz} {
		theme, err := cache.Get[string](ctx, tenant, "theme")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tenant.Scope(), "theme:", theme.Value)
	}
	raw, err := cache.Get[string](ctx, shared, "tenant:abc:theme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored as tenant:abc:theme =", raw.Value)

	removed, err := abc.RemoveByPrefix(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	left, err := cache.Get[string](ctx, xyz, "theme")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("cleared tenant:abc:", removed, "key; tenant:xyz theme still", left.Value)
	// Output:
	// tenant:abc theme: dark
	// tenant:xyz theme: light
	// stored as tenant:abc:theme = dark
	// cleared tenant:abc: 1 key; tenant:xyz theme still light
}

// TryGet reports a value that cannot be decoded into the type asked for as
// absent, as Foundatio's GetAsync does, where Get returns ErrDecode.
func ExampleTryGet() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Set(ctx, "visits", "many", cache.Expiration{}); err != nil {
		log.Fatal(err)
	}
	_, err = cache.Get[int](ctx, c, "visits")
	fmt.Println("Get:", errors.Is(err, cache.ErrDecode))
	v, err := cache.TryGet[int](ctx, c, "visits")
	fmt.Println("TryGet:", v.HasValue, err)
	// Output:
	// Get: true
	// TryGet: false <nil>
}

// Instants stored as Unix milliseconds are integers: SetIfHigher keeps the
// latest.
func ExampleSetUnixMilli() {
	ctx := context.Background()
	c, err := memorycache.New(memorycache.Config{})
	if err != nil {
		log.Fatal(err)
	}
	seen := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if _, err := cache.SetUnixMilli(ctx, c, "last-seen", seen, cache.Expiration{}); err != nil {
		log.Fatal(err)
	}
	for _, t := range []time.Time{seen.Add(-time.Hour), seen.Add(time.Minute)} {
		if _, err := c.SetIfHigher(ctx, "last-seen", t.UnixMilli(), cache.Expiration{}); err != nil {
			log.Fatal(err)
		}
	}
	v, err := cache.GetUnixMilli(ctx, c, "last-seen")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Value)
	// Output:
	// 2026-05-01 12:01:00 +0000 UTC
}
