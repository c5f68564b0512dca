package rediscache

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
)

// ErrInvalidConfig is returned by New when its arguments are unusable; the
// message names the field and what was expected.
var ErrInvalidConfig = errors.New("rediscache: invalid config")

// DefaultBatchSize is the batch size used when Config.BatchSize is 0.
const DefaultBatchSize = 1000

// Config configures a Cache. The zero value is usable: JSON values, no key
// prefix, batches of 1000 keys.
type Config struct {
	// Codec encodes the values that are not numbers, nil or []byte.
	// Default: cache.JSONCodec{}.
	Codec cache.Codec

	// KeyPrefix is a namespace prepended to every key the Cache writes or
	// reads, so several caches (tenants, tests, deployments) can share one
	// Redis. RemoveByPrefix(ctx, "") removes only the keys under it, and
	// GetAll returns keys without it. It must not contain '{' or '}', which
	// would override the cluster hash tags of the keys. Default: "" (no
	// namespace).
	KeyPrefix string

	// BatchSize is the number of keys per SCAN page and per multi-key
	// command (MGET, UNLINK) of the bulk operations. Default:
	// DefaultBatchSize (1000).
	BatchSize int
}

// Cache is a cache.Client and cache.Hashes on Redis. It is safe for
// concurrent use. Create it with New.
type Cache struct {
	client redis.UniversalClient
	codec  cache.Codec
	prefix string
	batch  int
	// singleNode reports that client talks to one node (standalone or
	// Sentinel), where multi-key commands may name any keys; on a cluster or
	// ring every key is sent on its own, in a pipeline.
	singleNode bool
	scripts    scripts
}

var (
	_ cache.Client = (*Cache)(nil)
	_ cache.Hashes = (*Cache)(nil)
)

// New returns a Cache on client, which may be a standalone, Sentinel
// (failover) or Cluster client. The Cache does not own client: closing it is
// the caller's job. Set ContextTimeoutEnabled on the client's options so
// context deadlines are honoured.
func New(client redis.UniversalClient, cfg Config) (*Cache, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: client is nil; want a redis.UniversalClient (redis.NewClient, redis.NewClusterClient, ...)", ErrInvalidConfig)
	}
	if strings.ContainsAny(cfg.KeyPrefix, "{}") {
		return nil, fmt.Errorf("%w: KeyPrefix %q contains '{' or '}'; want a prefix without cluster hash-tag braces", ErrInvalidConfig, cfg.KeyPrefix)
	}
	if cfg.BatchSize < 0 {
		return nil, fmt.Errorf("%w: BatchSize is %d; want 0 (default %d) or a positive number of keys", ErrInvalidConfig, cfg.BatchSize, DefaultBatchSize)
	}
	c := &Cache{
		client:  client,
		codec:   cfg.Codec,
		prefix:  cfg.KeyPrefix,
		batch:   cfg.BatchSize,
		scripts: newScripts(),
	}
	if c.codec == nil {
		c.codec = cache.JSONCodec{}
	}
	if c.batch == 0 {
		c.batch = DefaultBatchSize
	}
	_, c.singleNode = client.(*redis.Client)
	return c, nil
}
