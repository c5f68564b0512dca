package hybridcache

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
)

// Defaults of Config.
const (
	// DefaultLocalMaxItems bounds L1 when neither LocalMaxItems nor
	// LocalMaxMemorySize is set.
	DefaultLocalMaxItems = 10_000
	// DefaultLocalTTL is the longest an entry stays in L1 when
	// Config.LocalTTL is 0.
	DefaultLocalTTL = 5 * time.Minute
)

// Publisher publishes invalidation messages; redis.UniversalClient is one.
type Publisher interface {
	Publish(ctx context.Context, channel string, message any) *redis.IntCmd
}

// Subscriber subscribes to invalidation messages; redis.UniversalClient is
// one.
type Subscriber interface {
	Subscribe(ctx context.Context, channels ...string) *redis.PubSub
}

// Config configures a Hybrid.
type Config struct {
	// Distributed is L2, the source of truth, usually a rediscache.Cache.
	// Required. Its hash operations are offered when it implements
	// cache.Hashes.
	Distributed cache.Client

	// Publisher publishes the invalidation messages. Required.
	Publisher Publisher

	// Subscriber receives the invalidation messages of other instances.
	// Default: Publisher, when it is also a Subscriber (a
	// redis.UniversalClient is both).
	Subscriber Subscriber

	// Channel is the pub/sub channel of invalidation messages; every
	// instance over the same L2 namespace must use the same one. Default:
	// DefaultChannel.
	Channel string

	// InstanceID identifies this instance in the messages it publishes, so
	// it can ignore its own. Default: random; set it only to recognise an
	// instance in messages.
	InstanceID string

	// Codec decodes L1 hits; it must be the codec of Distributed. Default:
	// cache.JSONCodec{}.
	Codec cache.Codec

	// LocalMaxItems bounds the number of keys in L1 (least recently used
	// evicted first). Default: DefaultLocalMaxItems when LocalMaxMemorySize
	// is 0 too, else unlimited. Negative is invalid.
	LocalMaxItems int

	// LocalMaxMemorySize bounds the size of L1 in bytes, estimated as
	// memorycache does. Default: 0, unlimited. Negative is invalid.
	LocalMaxMemorySize int64

	// LocalTTL is the longest an entry stays in L1, whatever its TTL in L2:
	// it bounds how stale L1 can be after an invalidation message is lost.
	// Default: DefaultLocalTTL. Negative is invalid.
	LocalTTL time.Duration
}

// validate returns cfg with defaults applied, or why it is unusable.
func (cfg Config) validate() (Config, error) {
	switch {
	case cfg.Distributed == nil:
		return cfg, fmt.Errorf("%w: Distributed is nil; want the L2 cache.Client (a rediscache.Cache)", ErrInvalidConfig)
	case cfg.Publisher == nil:
		return cfg, fmt.Errorf("%w: Publisher is nil; want a redis.UniversalClient", ErrInvalidConfig)
	case cfg.LocalMaxItems < 0:
		return cfg, fmt.Errorf("%w: LocalMaxItems is %d; want 0 (default %d) or more", ErrInvalidConfig, cfg.LocalMaxItems, DefaultLocalMaxItems)
	case cfg.LocalMaxMemorySize < 0:
		return cfg, fmt.Errorf("%w: LocalMaxMemorySize is %d; want 0 (unlimited) or more bytes", ErrInvalidConfig, cfg.LocalMaxMemorySize)
	case cfg.LocalTTL < 0:
		return cfg, fmt.Errorf("%w: LocalTTL is %v; want 0 (default %v) or more", ErrInvalidConfig, cfg.LocalTTL, DefaultLocalTTL)
	}
	if cfg.Subscriber == nil {
		s, ok := cfg.Publisher.(Subscriber)
		if !ok {
			return cfg, fmt.Errorf("%w: Subscriber is nil and Publisher %T cannot subscribe; want a redis.UniversalClient", ErrInvalidConfig, cfg.Publisher)
		}
		cfg.Subscriber = s
	}
	var err error
	if cfg.Channel, cfg.InstanceID, err = identity(cfg.Channel, cfg.InstanceID); err != nil {
		return cfg, err
	}
	if cfg.Codec == nil {
		cfg.Codec = cache.JSONCodec{}
	}
	if cfg.LocalMaxItems == 0 && cfg.LocalMaxMemorySize == 0 {
		cfg.LocalMaxItems = DefaultLocalMaxItems
	}
	if cfg.LocalTTL == 0 {
		cfg.LocalTTL = DefaultLocalTTL
	}
	return cfg, nil
}

// AwareConfig configures an Aware.
type AwareConfig struct {
	// Channel is the pub/sub channel of the Hybrid instances to notify.
	// Default: DefaultChannel.
	Channel string

	// InstanceID identifies this writer in its messages. Default: random.
	InstanceID string

	// Codec must be the codec of the distributed cache: the messages carry
	// digests of the bytes it stores. Default: cache.JSONCodec{}.
	Codec cache.Codec
}
