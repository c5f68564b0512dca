package hybridcache

import (
	"fmt"

	"github.com/fanin-dev/fanin/cache"
)

// Aware is a cache.Client and cache.Hashes over a distributed cache that
// keeps no L1 but publishes the same invalidation messages as Hybrid, so
// Hybrid instances elsewhere drop what it changes. Use it in services that
// write what others read. It is safe for concurrent use.
type Aware struct {
	*core
}

var (
	_ cache.Client = (*Aware)(nil)
	_ cache.Hashes = (*Aware)(nil)
)

// NewAware returns an Aware writing to distributed and publishing with
// publisher on cfg.Channel.
func NewAware(distributed cache.Client, publisher Publisher, cfg AwareConfig) (*Aware, error) {
	if distributed == nil {
		return nil, fmt.Errorf("%w: distributed cache is nil; want the L2 cache.Client (a rediscache.Cache)", ErrInvalidConfig)
	}
	if publisher == nil {
		return nil, fmt.Errorf("%w: publisher is nil; want a redis.UniversalClient", ErrInvalidConfig)
	}
	channel, id, err := identity(cfg.Channel, cfg.InstanceID)
	if err != nil {
		return nil, err
	}
	codec := cfg.Codec
	if codec == nil {
		codec = cache.JSONCodec{}
	}
	return &Aware{core: &core{l2: distributed, codec: codec, pub: publisher, channel: channel, id: id}}, nil
}
