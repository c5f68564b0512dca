package locks

import (
	"fmt"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/redis/go-redis/v9"
)

// Defaults of Config and AcquireOptions.
const (
	// DefaultTTL is the lock TTL when neither AcquireOptions.TTL nor
	// Config.DefaultTTL is set.
	DefaultTTL = 30 * time.Second
	// DefaultAcquireTimeout is how long Acquire waits when given nil options
	// and Config.AcquireTimeout is not set (Foundatio's default too).
	DefaultAcquireTimeout = 30 * time.Second
	// MinPoll and MaxPoll bound the fallback poll of a waiting Acquire: it
	// retries after the holder's remaining TTL, clamped to [MinPoll,
	// MaxPoll], even when no release message arrives.
	MinPoll = 50 * time.Millisecond
	// MaxPoll is the longest a waiter sleeps between two attempts.
	MaxPoll = 3 * time.Second
)

// Config configures a Provider. Set Redis, or Cache, or both. The zero value
// of every other field selects the default named in its comment. New never
// modifies a Config.
type Config struct {
	// Redis selects the Redis fast path: acquire and token issue in one Lua
	// round trip, owner-checked renew and release in Lua, and waiters woken
	// by a pub/sub message on release (published only while someone waits). Works on a standalone server,
	// Sentinel or Cluster (all keys of a resource share a hash tag). When
	// Redis is set, Cache is ignored.
	Redis redis.UniversalClient

	// Cache selects the generic path, as Foundatio's CacheLockProvider: Add
	// with a random owner to acquire, Increment of a counter for the token
	// (taken while the lock is held, then written into the lock with
	// ReplaceIfEqual), ReplaceIfEqual to renew, RemoveIfEqual to release.
	// Waiters are woken by releases of the same Provider and otherwise poll;
	// there is no cross-process wake-up on this path.
	Cache cache.Client

	// KeyPrefix starts every key and channel name (see FenceKey). It must
	// not contain '{' or '}'. Default: "" (no prefix).
	KeyPrefix string

	// DefaultTTL is the lock TTL when AcquireOptions.TTL is 0. Default:
	// DefaultTTL (30 s). At least 1 ms.
	DefaultTTL time.Duration

	// AcquireTimeout is how long Acquire waits when given nil options.
	// Default: DefaultAcquireTimeout (30 s). Negative: until the context
	// ends.
	AcquireTimeout time.Duration

	// TokenTTL, when positive, makes a resource's token counter expire that
	// long after its last acquisition, so per-job resources leave no key
	// behind. A counter that expired restarts at 1; a Fence that saw higher
	// tokens then rejects the new holder's writes (it fails closed), so keep
	// TokenTTL longer than any fence of the resource lives. Default: 0, the
	// counter never expires.
	TokenTTL time.Duration
}

// AcquireOptions are the options of one Acquire or TryAcquire. A nil
// *AcquireOptions means: Config.DefaultTTL and Config.AcquireTimeout.
type AcquireOptions struct {
	// TTL is how long the lock lives unless renewed. 0 means
	// Config.DefaultTTL. At least 1 ms (Redis counts milliseconds).
	TTL time.Duration

	// Timeout is how long Acquire waits for the lock. 0 means exactly one
	// attempt, like TryAcquire; a negative value waits until the context
	// ends. TryAcquire ignores it.
	Timeout time.Duration
}

// settings are the validated settings of a Provider.
type settings struct {
	keys           keyspace
	defaultTTL     time.Duration
	acquireTimeout time.Duration
	tokenTTL       time.Duration
}

func (c Config) settings() (settings, error) {
	if c.Redis == nil && c.Cache == nil {
		return settings{}, fmt.Errorf("%w: Config needs Redis (fast path) or Cache (generic path); both are nil", ErrInvalid)
	}
	if err := checkPrefix(c.KeyPrefix); err != nil {
		return settings{}, err
	}
	s := settings{
		keys:           keyspace{prefix: c.KeyPrefix},
		defaultTTL:     c.DefaultTTL,
		acquireTimeout: c.AcquireTimeout,
		tokenTTL:       c.TokenTTL,
	}
	if s.defaultTTL == 0 {
		s.defaultTTL = DefaultTTL
	}
	if err := checkTTL("Config.DefaultTTL", s.defaultTTL); err != nil {
		return settings{}, err
	}
	if s.acquireTimeout == 0 {
		s.acquireTimeout = DefaultAcquireTimeout
	}
	if s.tokenTTL < 0 {
		return settings{}, fmt.Errorf("%w: Config.TokenTTL is %v; want 0 (never expires) or a positive duration", ErrInvalid, s.tokenTTL)
	}
	if s.tokenTTL > 0 {
		if err := checkTTL("Config.TokenTTL", s.tokenTTL); err != nil {
			return settings{}, err
		}
	}
	return s, nil
}

// resolve returns the TTL and timeout of one call.
func (s settings) resolve(opts *AcquireOptions) (ttl, timeout time.Duration, err error) {
	if opts == nil {
		return s.defaultTTL, s.acquireTimeout, nil
	}
	ttl = opts.TTL
	if ttl == 0 {
		ttl = s.defaultTTL
	}
	if err := checkTTL("AcquireOptions.TTL", ttl); err != nil {
		return 0, 0, err
	}
	return ttl, opts.Timeout, nil
}

// checkTTL validates a lock TTL: Redis counts whole milliseconds.
func checkTTL(name string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("%w: %s is %v; want at least 1ms", ErrInvalid, name, ttl)
	}
	return nil
}
