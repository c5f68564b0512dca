package locks

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/redis/go-redis/v9"
)

//go:embed throttle.lua
var throttleLua string

// Defaults of ThrottlingConfig, those of Foundatio's ThrottlingLockProvider.
const (
	// DefaultMaxHits is the default number of acquisitions per period.
	DefaultMaxHits = 100
	// DefaultPeriod is the default throttling period.
	DefaultPeriod = 15 * time.Minute
)

// ThrottlingConfig configures a Throttling. Set Redis or Cache.
type ThrottlingConfig struct {
	// Redis selects the Lua path: the check and the count are one atomic
	// step, and periods follow the Redis server's clock. When set, Cache is
	// ignored.
	Redis redis.Scripter
	// Cache selects the generic path, as Foundatio: a counter per period
	// (Get, then Increment expiring at the period's end) on the local
	// clock. Under contention a period may briefly count more hits than
	// MaxHits, but never grants more than MaxHits.
	Cache cache.Client
	// KeyPrefix starts every key; no '{' or '}'. Default: "".
	KeyPrefix string
	// MaxHits is the number of acquisitions allowed per resource per
	// period. Default: DefaultMaxHits (100).
	MaxHits int64
	// Period is the length of a period; periods are aligned on multiples
	// of it since the Unix epoch. Default: DefaultPeriod (15 min). At least
	// 1 ms.
	Period time.Duration
}

// Throttling allows at most MaxHits acquisitions of a resource per period,
// as Foundatio's ThrottlingLockProvider. An acquisition is not released: it
// counts until its period ends.
type Throttling struct {
	rdb    redis.Scripter
	c      cache.Client
	keys   keyspace
	max    int64
	period time.Duration
	script *redis.Script
}

// NewThrottling returns a Throttling, or an error wrapping ErrInvalid.
func NewThrottling(cfg ThrottlingConfig) (*Throttling, error) {
	if cfg.Redis == nil && cfg.Cache == nil {
		return nil, fmt.Errorf("%w: ThrottlingConfig needs Redis or Cache; both are nil", ErrInvalid)
	}
	if err := checkPrefix(cfg.KeyPrefix); err != nil {
		return nil, err
	}
	t := &Throttling{rdb: cfg.Redis, keys: keyspace{prefix: cfg.KeyPrefix}, max: cfg.MaxHits, period: cfg.Period}
	if cfg.Redis == nil {
		t.c = cfg.Cache
	}
	if t.max == 0 {
		t.max = DefaultMaxHits
	}
	if t.max < 0 {
		return nil, fmt.Errorf("%w: ThrottlingConfig.MaxHits is %d; want a positive number", ErrInvalid, t.max)
	}
	if t.period == 0 {
		t.period = DefaultPeriod
	}
	if err := checkTTL("ThrottlingConfig.Period", t.period); err != nil {
		return nil, err
	}
	t.script = redis.NewScript(throttleLua)
	return t, nil
}

// TryAcquire counts one acquisition of resource if the current period has
// room, and otherwise returns an error wrapping ErrNotObtained.
func (t *Throttling) TryAcquire(ctx context.Context, resource string) error {
	if err := checkResource(resource); err != nil {
		return err
	}
	ok, _, err := t.hit(ctx, resource, true)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: resource %q reached %d acquisitions this period", ErrNotObtained, resource, t.max)
	}
	return nil
}

// Acquire counts one acquisition of resource, waiting for the next period
// while the current one is full, until ctx ends or timeout passes (an error
// wrapping ErrNotObtained). A timeout of 0 makes one attempt; a negative one
// waits until ctx ends.
func (t *Throttling) Acquire(ctx context.Context, resource string, timeout time.Duration) error {
	if err := checkResource(resource); err != nil {
		return err
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for {
		ok, wait, err := t.hit(ctx, resource, true)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if timeout == 0 {
			return fmt.Errorf("%w: resource %q reached %d acquisitions this period", ErrNotObtained, resource, t.max)
		}
		wait += time.Millisecond // land inside the next period
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return fmt.Errorf("%w: resource %q still throttled after waiting %v", ErrNotObtained, resource, timeout)
			}
			wait = min(wait, left)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("locks: throttle %q: %w", resource, ctx.Err())
		case <-timer.C:
		}
	}
}

// IsLocked reports whether the current period of resource is full.
func (t *Throttling) IsLocked(ctx context.Context, resource string) (bool, error) {
	if err := checkResource(resource); err != nil {
		return false, err
	}
	ok, _, err := t.hit(ctx, resource, false)
	return !ok, err
}

// hit checks the current period and, when count is set and it has room,
// counts one acquisition. It returns whether there was room and how long
// until the next period.
func (t *Throttling) hit(ctx context.Context, resource string, count bool) (bool, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return false, 0, fmt.Errorf("locks: throttle %q: %w", resource, err)
	}
	var (
		ok   bool
		wait time.Duration
		err  error
	)
	if t.rdb != nil {
		ok, wait, err = t.hitRedis(ctx, resource, count)
	} else {
		ok, wait, err = t.hitCache(ctx, resource, count)
	}
	if err != nil {
		return false, 0, fmt.Errorf("locks: throttle %q: %w", resource, err)
	}
	return ok, wait, nil
}

func (t *Throttling) hitRedis(ctx context.Context, resource string, count bool) (bool, time.Duration, error) {
	flag := "0"
	if count {
		flag = "1"
	}
	res, err := t.script.Run(ctx, t.rdb, []string{t.keys.throttle(resource)}, t.max, t.period.Milliseconds(), flag).Int64Slice()
	if err != nil {
		return false, 0, err
	}
	if len(res) != 3 {
		return false, 0, fmt.Errorf("throttle script returned %d values, want 3", len(res))
	}
	return res[0] == 1, time.Duration(res[2]) * time.Millisecond, nil
}

func (t *Throttling) hitCache(ctx context.Context, resource string, count bool) (bool, time.Duration, error) {
	now := time.Now()
	index := now.UnixMilli() / t.period.Milliseconds()
	wait := time.UnixMilli((index + 1) * t.period.Milliseconds()).Sub(now)
	key := t.keys.throttlePeriod(resource, index)
	v, err := cache.Get[int64](ctx, t.c, key)
	if err != nil {
		return false, 0, err
	}
	if v.Value >= t.max {
		return false, wait, nil
	}
	if !count {
		return true, wait, nil
	}
	n, err := t.c.Increment(ctx, key, 1, cache.ExpiresIn(wait+time.Second))
	if err != nil {
		return false, 0, err
	}
	return n <= t.max, wait, nil
}
