package locks

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/redis/go-redis/v9"
)

var (
	//go:embed acquire.lua
	acquireLua string
	//go:embed renew.lua
	renewLua string
	//go:embed release.lua
	releaseLua string
	//go:embed force_release.lua
	forceReleaseLua string
)

// waitingMark is how long a failed attempt of a waiting Acquire marks the
// lock as waited for. A waiter attempts again at least every MaxPoll, so the
// mark lasts while anyone waits; a release publishes only when marked.
const waitingMark = 3 * MaxPoll

// attempt is the result of one acquisition attempt.
type attempt struct {
	ok     bool
	token  int64
	value  string        // the lock's stored value when ok
	remain time.Duration // holder's remaining TTL when !ok; <0 when unknown
}

// backend is the store a Provider runs on.
type backend interface {
	// acquire makes one attempt; waiting says the caller will wait for a
	// release if it fails.
	acquire(ctx context.Context, rk resourceKeys, owner string, ttl time.Duration, waiting bool) (attempt, error)
	renew(ctx context.Context, rk resourceKeys, value string, ttl time.Duration) (bool, error)
	release(ctx context.Context, rk resourceKeys, value string) (bool, error)
	// forceRelease releases the lock whoever holds it.
	forceRelease(ctx context.Context, rk resourceKeys) (bool, error)
	exists(ctx context.Context, lockKey string) (bool, error)
}

// lockValue is what a lock key holds: the owner and the token.
func lockValue(owner string, token int64) string {
	return owner + ":" + strconv.FormatInt(token, 10)
}

// redisBackend is the fast path: one Lua round trip per operation.
type redisBackend struct {
	rdb      redis.UniversalClient
	tokenTTL time.Duration
	channel  string // the release channel
	origin   string // provider id, so a provider can skip its own messages
	acq      *redis.Script
	ren      *redis.Script
	rel      *redis.Script
	force    *redis.Script
}

func newRedisBackend(rdb redis.UniversalClient, s settings, origin string) *redisBackend {
	return &redisBackend{
		rdb: rdb, tokenTTL: s.tokenTTL, channel: s.keys.releasedChannel(), origin: origin,
		acq:   redis.NewScript(acquireLua),
		ren:   redis.NewScript(renewLua),
		rel:   redis.NewScript(releaseLua),
		force: redis.NewScript(forceReleaseLua),
	}
}

func (b *redisBackend) acquire(ctx context.Context, rk resourceKeys, owner string, ttl time.Duration, waiting bool) (attempt, error) {
	var mark int64
	if waiting {
		mark = waitingMark.Milliseconds()
	}
	res, err := b.acq.Run(ctx, b.rdb, rk.keys,
		owner, ttl.Milliseconds(), b.tokenTTL.Milliseconds(), mark).Int64Slice()
	if err != nil {
		return attempt{}, err
	}
	if len(res) != 2 {
		return attempt{}, fmt.Errorf("acquire script returned %d values, want 2", len(res))
	}
	if res[0] == 1 {
		return attempt{ok: true, token: res[1], value: owner}, nil
	}
	return attempt{remain: time.Duration(res[1]) * time.Millisecond}, nil
}

func (b *redisBackend) renew(ctx context.Context, rk resourceKeys, value string, ttl time.Duration) (bool, error) {
	n, err := b.ren.Run(ctx, b.rdb, rk.keys[:1], value, ttl.Milliseconds()).Int64()
	return n == 1, err
}

func (b *redisBackend) release(ctx context.Context, rk resourceKeys, value string) (bool, error) {
	n, err := b.rel.Run(ctx, b.rdb, rk.keys[:2], value, b.channel, b.origin+":"+rk.resource).Int64()
	return n == 1, err
}

func (b *redisBackend) forceRelease(ctx context.Context, rk resourceKeys) (bool, error) {
	n, err := b.force.Run(ctx, b.rdb, rk.keys[:2], b.channel, b.origin+":"+rk.resource).Int64()
	return n == 1, err
}

func (b *redisBackend) exists(ctx context.Context, lockKey string) (bool, error) {
	n, err := b.rdb.Exists(ctx, lockKey).Result()
	return n == 1, err
}

// cacheBackend is the generic path on any cache.Client, as Foundatio's
// CacheLockProvider.
type cacheBackend struct {
	c        cache.Client
	tokenTTL time.Duration
}

func (b *cacheBackend) acquire(ctx context.Context, rk resourceKeys, owner string, ttl time.Duration, _ bool) (attempt, error) {
	key := rk.lock()
	added, err := b.c.Add(ctx, key, owner, cache.ExpiresIn(ttl))
	if err != nil {
		return attempt{}, err
	}
	if !added {
		exp, err := b.c.GetExpiration(ctx, key)
		if err != nil {
			return attempt{}, err
		}
		remain := exp.TTL()
		if exp.IsNone() {
			remain = -1
		}
		return attempt{remain: remain}, nil
	}
	// The token is taken while the lock is held, so tokens follow the order
	// of acquisitions; writing it into the lock with ReplaceIfEqual proves
	// the lock was still ours after the increment.
	tokenExp := cache.Expiration{}
	if b.tokenTTL > 0 {
		tokenExp = cache.ExpiresIn(b.tokenTTL)
	}
	token, err := b.c.Increment(ctx, rk.keys[2], 1, tokenExp)
	if err != nil {
		_, _ = b.c.RemoveIfEqual(context.WithoutCancel(ctx), key, owner)
		return attempt{}, err
	}
	value := lockValue(owner, token)
	ok, err := b.c.ReplaceIfEqual(ctx, key, value, owner, cache.ExpiresIn(ttl))
	if err != nil {
		_, _ = b.c.RemoveIfEqual(context.WithoutCancel(ctx), key, owner)
		return attempt{}, err
	}
	if !ok { // expired between Add and ReplaceIfEqual: a failed attempt
		return attempt{remain: 0}, nil
	}
	return attempt{ok: true, token: token, value: value}, nil
}

func (b *cacheBackend) renew(ctx context.Context, rk resourceKeys, value string, ttl time.Duration) (bool, error) {
	return b.c.ReplaceIfEqual(ctx, rk.lock(), value, value, cache.ExpiresIn(ttl))
}

func (b *cacheBackend) release(ctx context.Context, rk resourceKeys, value string) (bool, error) {
	return b.c.RemoveIfEqual(ctx, rk.lock(), value)
}

func (b *cacheBackend) forceRelease(ctx context.Context, rk resourceKeys) (bool, error) {
	return b.c.Remove(ctx, rk.lock())
}

func (b *cacheBackend) exists(ctx context.Context, lockKey string) (bool, error) {
	return b.c.Exists(ctx, lockKey)
}
