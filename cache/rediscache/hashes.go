package rediscache

import (
	"context"
	"fmt"
	"iter"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
)

// DefaultHashScanPageSize is the HSCAN COUNT HashScan uses when given a
// page size <= 0.
const DefaultHashScanPageSize = 1000

// checkFields rejects empty hash fields.
func checkFields(op, key string, fields []string) error {
	for i, f := range fields {
		if f == "" {
			return fmt.Errorf("rediscache: %s %q: field %d of %d: %w", op, key, i+1, len(fields), cache.ErrEmptyKey)
		}
	}
	return nil
}

// HashSet sets field of the hash at key (HSET) and reports whether the field
// is new. A nil value is stored as null.
func (c *Cache) HashSet(ctx context.Context, key, field string, value any) (bool, error) {
	const op = "hash set"
	if err := begin(ctx, op, key); err != nil {
		return false, err
	}
	if err := checkFields(op, key, []string{field}); err != nil {
		return false, err
	}
	raw, err := c.encode(value)
	if err != nil {
		return false, encodeErr(op, key, err)
	}
	n, err := c.client.HSet(ctx, c.key(key), field, raw).Result()
	if err != nil {
		return false, fail(ctx, op, key, err)
	}
	return n == 1, nil
}

// HashGet reads one field (HGET); a miss is an Item whose HasValue is false.
func (c *Cache) HashGet(ctx context.Context, key, field string) (cache.Item, error) {
	const op = "hash get"
	if err := begin(ctx, op, key); err != nil {
		return cache.Item{}, err
	}
	if err := checkFields(op, key, []string{field}); err != nil {
		return cache.Item{}, err
	}
	raw, err := c.client.HGet(ctx, c.key(key), field).Bytes()
	if err != nil {
		if err == redis.Nil {
			return cache.Item{}, nil
		}
		return cache.Item{}, fail(ctx, op, key, err)
	}
	return cache.NewEncodedItem(raw, c.codec), nil
}

// HashGetMany reads fields (HMGET), in the order given; misses included.
func (c *Cache) HashGetMany(ctx context.Context, key string, fields []string) ([]cache.Item, error) {
	const op = "hash get many"
	if err := begin(ctx, op, key); err != nil {
		return nil, err
	}
	if err := checkFields(op, key, fields); err != nil {
		return nil, err
	}
	items := make([]cache.Item, len(fields))
	if len(fields) == 0 {
		return items, nil
	}
	vals, err := c.client.HMGet(ctx, c.key(key), fields...).Result()
	if err != nil {
		return nil, fail(ctx, op, key, err)
	}
	for i, v := range vals {
		items[i] = c.item(v)
	}
	return items, nil
}

// HashLen returns the number of fields of the hash (HLEN; 0 when missing).
func (c *Cache) HashLen(ctx context.Context, key string) (int64, error) {
	if err := begin(ctx, "hash len", key); err != nil {
		return 0, err
	}
	n, err := c.client.HLen(ctx, c.key(key)).Result()
	if err != nil {
		return 0, fail(ctx, "hash len", key, err)
	}
	return n, nil
}

// HashDelete deletes fields (HDEL) and returns how many existed.
func (c *Cache) HashDelete(ctx context.Context, key string, fields ...string) (int64, error) {
	const op = "hash delete"
	if err := begin(ctx, op, key); err != nil {
		return 0, err
	}
	if err := checkFields(op, key, fields); err != nil || len(fields) == 0 {
		return 0, err
	}
	n, err := c.client.HDel(ctx, c.key(key), fields...).Result()
	if err != nil {
		return 0, fail(ctx, op, key, err)
	}
	return n, nil
}

// HashScan streams the hash page by page (HSCAN with COUNT pageSize;
// pageSize <= 0 means DefaultHashScanPageSize), so a caller never holds the
// whole hash. A field present for the whole scan is yielded at least once
// (HSCAN may yield a field twice when the hash changes during the scan). It
// stops as soon as the consumer breaks. An error, including the end of ctx,
// ends the sequence as its last pair.
func (c *Cache) HashScan(ctx context.Context, key string, pageSize int) iter.Seq2[cache.HashField, error] {
	const op = "hash scan"
	if pageSize <= 0 {
		pageSize = DefaultHashScanPageSize
	}
	return func(yield func(cache.HashField, error) bool) {
		if err := begin(ctx, op, key); err != nil {
			yield(cache.HashField{}, err)
			return
		}
		full := c.key(key)
		var cursor uint64
		for {
			kv, next, err := c.client.HScan(ctx, full, cursor, "", int64(pageSize)).Result()
			if err != nil {
				yield(cache.HashField{}, fail(ctx, op, key, err))
				return
			}
			for i := 0; i+1 < len(kv); i += 2 {
				f := cache.HashField{Field: kv[i], Item: cache.NewEncodedItem([]byte(kv[i+1]), c.codec)}
				if !yield(f, nil) {
					return
				}
			}
			if next == 0 {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(cache.HashField{}, fmt.Errorf("rediscache: %s %q: %w", op, key, err))
				return
			}
			cursor = next
		}
	}
}
