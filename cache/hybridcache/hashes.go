package hybridcache

import (
	"context"
	"fmt"
	"iter"

	"github.com/fanin-dev/fanin/cache"
)

// hashes returns L2 as cache.Hashes. L1 holds no hashes: the hash
// operations go straight to L2 and publish nothing.
func (c *core) hashes(ctx context.Context, op, key string) (cache.Hashes, error) {
	if err := c.begin(ctx, op, key); err != nil {
		return nil, err
	}
	h, ok := c.l2.(cache.Hashes)
	if !ok {
		return nil, fmt.Errorf("hybridcache: %s: distributed cache %T does not implement cache.Hashes: %w", op, c.l2, cache.ErrUnsupported)
	}
	return h, nil
}

// HashSet sets field of the hash at key in L2.
func (c *core) HashSet(ctx context.Context, key, field string, value any) (bool, error) {
	h, err := c.hashes(ctx, "HashSet", key)
	if err != nil {
		return false, err
	}
	return h.HashSet(ctx, key, field, value)
}

// HashGet reads one field of the hash at key from L2.
func (c *core) HashGet(ctx context.Context, key, field string) (cache.Item, error) {
	h, err := c.hashes(ctx, "HashGet", key)
	if err != nil {
		return cache.Item{}, err
	}
	return h.HashGet(ctx, key, field)
}

// HashGetMany reads fields of the hash at key from L2.
func (c *core) HashGetMany(ctx context.Context, key string, fields []string) ([]cache.Item, error) {
	h, err := c.hashes(ctx, "HashGetMany", key)
	if err != nil {
		return nil, err
	}
	return h.HashGetMany(ctx, key, fields)
}

// HashLen returns the number of fields of the hash at key in L2.
func (c *core) HashLen(ctx context.Context, key string) (int64, error) {
	h, err := c.hashes(ctx, "HashLen", key)
	if err != nil {
		return 0, err
	}
	return h.HashLen(ctx, key)
}

// HashDelete deletes fields of the hash at key in L2.
func (c *core) HashDelete(ctx context.Context, key string, fields ...string) (int64, error) {
	h, err := c.hashes(ctx, "HashDelete", key)
	if err != nil {
		return 0, err
	}
	return h.HashDelete(ctx, key, fields...)
}

// HashScan streams the hash at key from L2.
func (c *core) HashScan(ctx context.Context, key string, pageSize int) iter.Seq2[cache.HashField, error] {
	h, err := c.hashes(ctx, "HashScan", key)
	if err != nil {
		return func(yield func(cache.HashField, error) bool) { yield(cache.HashField{}, err) }
	}
	return h.HashScan(ctx, key, pageSize)
}
