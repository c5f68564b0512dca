package locks

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// target is one kind of Redis the suite runs on.
type target struct {
	name    string
	cluster bool
	open    func(testing.TB) *redistest.Redis
}

// targets returns the kinds of Redis the suite runs on.
func targets() []target {
	return []target{
		{name: "standalone", open: redistest.New},
		{name: "cluster", cluster: true, open: redistest.NewCluster},
	}
}

// eachRedis runs f on a standalone server and on the 3-master cluster.
func eachRedis(t *testing.T, f func(t *testing.T, tg target, r *redistest.Redis)) {
	t.Helper()
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			f(t, tg, tg.open(t))
		})
	}
}

// newProvider returns a Redis Provider on r's client and prefix.
func newProvider(t *testing.T, r *redistest.Redis) *Provider {
	t.Helper()
	return newProviderOn(t, r.Client, r.Prefix)
}

func newProviderOn(t *testing.T, rdb redis.UniversalClient, prefix string) *Provider {
	t.Helper()
	p, err := New(Config{Redis: rdb, KeyPrefix: prefix})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// scriptCounter counts the acquire-script runs going through a client.
type scriptCounter struct{ acquires atomic.Int64 }

func (c *scriptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *scriptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		name := cmd.Name()
		if (name == "evalsha" || name == "eval") && !isNoScript(err) && len(cmd.Args()) > 5 {
			if key, _ := cmd.Args()[5].(string); strings.HasSuffix(key, ":token") {
				c.acquires.Add(1) // only the acquire script takes the token key
			}
		}
		return err
	}
}

func (c *scriptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// mustBe fails t unless err matches target.
func mustBe(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one matching %v", what, err, target)
	}
}

// store is one store a Provider runs on: newProvider returns Providers
// over the same store (as in several processes).
type store struct {
	name        string
	newProvider func(t *testing.T) *Provider
}

// eachBackend runs f, in parallel, on every backend: the Redis fast path
// on a standalone server and on a cluster, and the cache path on
// memorycache and on rediscache.
func eachBackend(t *testing.T, f func(t *testing.T, s store)) {
	t.Helper()
	for _, tg := range targets() {
		t.Run("redis-"+tg.name, func(t *testing.T) {
			t.Parallel()
			r := tg.open(t)
			f(t, store{"redis-" + tg.name, func(t *testing.T) *Provider { return newProvider(t, r) }})
		})
	}
	eachCache(t, func(t *testing.T, c cache.Client) {
		f(t, store{"cache", func(t *testing.T) *Provider { return newCacheProvider(t, c) }})
	})
}
