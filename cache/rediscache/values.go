package rediscache

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/internal/redisnum"
)

// ttlOf returns the TTL Redis is given for exp: 0 for no expiration,
// otherwise exp rounded up to a whole millisecond (PX has millisecond
// precision; rounding up keeps a positive TTL positive).
func ttlOf(exp cache.Expiration) time.Duration {
	return time.Duration(millis(exp)) * time.Millisecond
}

// millis returns exp in whole milliseconds, rounded up (redisnum.Millis);
// 0 for no expiration. Callers handle expired Expirations before.
func millis(exp cache.Expiration) int64 { return redisnum.Millis(exp.TTL()) }

// Get reads key. A miss is an Item whose HasValue is false.
func (c *Cache) Get(ctx context.Context, key string) (cache.Item, error) {
	if err := begin(ctx, "get", key); err != nil {
		return cache.Item{}, err
	}
	raw, err := c.client.Get(ctx, c.key(key)).Bytes()
	if err != nil {
		if err == redis.Nil {
			return cache.Item{}, nil
		}
		return cache.Item{}, fail(ctx, "get", key, err)
	}
	return cache.NewEncodedItem(raw, c.codec), nil
}

// GetAll reads keys; every key given is in the map, misses included (as
// Items whose HasValue is false), and a key holding a list or a hash reads
// as a miss. Keys are returned without KeyPrefix. On a single node it sends
// MGET in batches of BatchSize keys; on a cluster, one GET per key in a
// pipeline (one round trip per node).
func (c *Cache) GetAll(ctx context.Context, keys []string) (map[string]cache.Item, error) {
	if err := checkKeys(ctx, "get all", "keys", keys); err != nil {
		return nil, err
	}
	out := make(map[string]cache.Item, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if c.singleNode {
		for start := 0; start < len(keys); start += c.batch {
			part := keys[start:min(start+c.batch, len(keys))]
			vals, err := c.client.MGet(ctx, c.keys(part)...).Result()
			if err != nil {
				return nil, fail(ctx, "get all", "", err)
			}
			for i, k := range part {
				out[k] = c.item(vals[i])
			}
		}
		return out, nil
	}
	// The pipeline's error is that of its first failed GET; each is looked
	// at below. A key holding a list or a hash reads as a miss, as in MGET.
	cmds, _ := perKey(ctx, c.client, c.keys(keys), redis.Pipeliner.Get)
	for i, k := range keys {
		raw, err := cmds[i].Bytes()
		switch {
		case err == redis.Nil, isWrongType(err):
			out[k] = cache.Item{}
		case err != nil:
			return nil, fail(ctx, "get all", k, err)
		default:
			out[k] = cache.NewEncodedItem(raw, c.codec)
		}
	}
	return out, nil
}

// item turns one value of an MGET or HMGET reply into an Item.
func (c *Cache) item(v any) cache.Item {
	s, ok := v.(string)
	if !ok {
		return cache.Item{}
	}
	return cache.NewEncodedItem([]byte(s), c.codec)
}

// Add sets key only if it does not exist (SET NX), and reports whether it
// did. An expired exp removes the key and returns false.
func (c *Cache) Add(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	return c.set(ctx, "add", key, value, exp)
}

// Set sets key (SET, with PX when exp has a TTL; without, so any previous
// TTL is removed) and reports success. An expired exp removes the key and
// returns false.
func (c *Cache) Set(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	return c.set(ctx, "set", key, value, exp)
}

// Replace sets key only if it exists (SET XX). An expired exp removes the
// key and returns false.
func (c *Cache) Replace(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	return c.set(ctx, "replace", key, value, exp)
}

// set runs SET for op "set", SET NX for "add" and SET XX for "replace".
func (c *Cache) set(ctx context.Context, op, key string, value any, exp cache.Expiration) (bool, error) {
	if err := begin(ctx, op, key); err != nil {
		return false, err
	}
	if exp.IsExpired() {
		return false, c.unlink(ctx, op, key)
	}
	raw, err := c.encode(value)
	if err != nil {
		return false, encodeErr(op, key, err)
	}
	ok := true
	switch op {
	case "add":
		ok, err = c.client.SetNX(ctx, c.key(key), raw, ttlOf(exp)).Result()
	case "replace":
		ok, err = c.client.SetXX(ctx, c.key(key), raw, ttlOf(exp)).Result()
	default:
		err = c.client.Set(ctx, c.key(key), raw, ttlOf(exp)).Err()
	}
	if err != nil && err != redis.Nil {
		return false, fail(ctx, op, key, err)
	}
	return ok && err == nil, nil
}

// SetAll sets every key of values, in a pipeline (one round trip per node),
// and returns how many were set. An expired exp removes the keys and
// returns 0. Every value is encoded before anything is written.
func (c *Cache) SetAll(ctx context.Context, values map[string]any, exp cache.Expiration) (int, error) {
	if values == nil {
		return 0, fmt.Errorf("rediscache: set all: %w", cache.NilCollection("values"))
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	if err := checkKeys(ctx, "set all", "values", keys); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	if exp.IsExpired() {
		_, err := c.removeAll(ctx, "set all", keys)
		return 0, err
	}
	raws := make([][]byte, len(keys))
	for i, k := range keys {
		raw, err := c.encode(values[k])
		if err != nil {
			return 0, encodeErr("set all", k, err)
		}
		raws[i] = raw
	}
	ttl := ttlOf(exp)
	cmds, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			p.Set(ctx, c.key(k), raws[i], ttl)
		}
		return nil
	})
	n := 0
	for _, cmd := range cmds {
		if cmd.Err() == nil {
			n++
		}
	}
	if err != nil {
		return n, fail(ctx, "set all", "", err)
	}
	return n, nil
}

// ReplaceIfEqual sets key to value only if it currently holds expected
// (compared as encoded bytes, atomically in a Lua script). expected must not
// be nil. An expired exp removes the key and returns false.
func (c *Cache) ReplaceIfEqual(ctx context.Context, key string, value, expected any, exp cache.Expiration) (bool, error) {
	const op = "replace if equal"
	if err := begin(ctx, op, key); err != nil {
		return false, err
	}
	if expected == nil {
		return false, fmt.Errorf("rediscache: %s %q: expected: %w", op, key, cache.ErrNilValue)
	}
	if exp.IsExpired() {
		return false, c.unlink(ctx, op, key)
	}
	want, err := c.encode(expected)
	if err != nil {
		return false, encodeErr(op, key, err)
	}
	raw, err := c.encode(value)
	if err != nil {
		return false, encodeErr(op, key, err)
	}
	n, err := c.scripts.replaceIfEqual.Run(ctx, c.client, []string{c.key(key)}, want, raw, millis(exp)).Int()
	if err != nil {
		return false, fail(ctx, op, key, err)
	}
	return n == 1, nil
}

// Remove deletes key (UNLINK) and reports whether it existed.
func (c *Cache) Remove(ctx context.Context, key string) (bool, error) {
	return c.countKey(ctx, "remove", key, c.client.Unlink)
}

// countKey runs a one-key command that counts keys (UNLINK, EXISTS) and
// reports whether it counted key.
func (c *Cache) countKey(ctx context.Context, op, key string, cmd func(context.Context, ...string) *redis.IntCmd) (bool, error) {
	if err := begin(ctx, op, key); err != nil {
		return false, err
	}
	n, err := cmd(ctx, c.key(key)).Result()
	if err != nil {
		return false, fail(ctx, op, key, err)
	}
	return n > 0, nil
}

// unlink deletes key for an operation whose expiration is already expired.
func (c *Cache) unlink(ctx context.Context, op, key string) error {
	if err := c.client.Unlink(ctx, c.key(key)).Err(); err != nil {
		return fail(ctx, op, key, err)
	}
	return nil
}

// RemoveIfEqual deletes key only if it holds expected (compared as encoded
// bytes, atomically in a Lua script). expected must not be nil.
func (c *Cache) RemoveIfEqual(ctx context.Context, key string, expected any) (bool, error) {
	const op = "remove if equal"
	if err := begin(ctx, op, key); err != nil {
		return false, err
	}
	if expected == nil {
		return false, fmt.Errorf("rediscache: %s %q: expected: %w", op, key, cache.ErrNilValue)
	}
	want, err := c.encode(expected)
	if err != nil {
		return false, encodeErr(op, key, err)
	}
	n, err := c.scripts.removeIfEqual.Run(ctx, c.client, []string{c.key(key)}, want).Int()
	if err != nil {
		return false, fail(ctx, op, key, err)
	}
	return n == 1, nil
}

// RemoveAll deletes the given keys and returns how many existed. On a single
// node it sends UNLINK in batches of BatchSize keys; on a cluster, one UNLINK
// per key in a pipeline, so keys of different slots never meet in one
// command. It never clears the whole cache: use RemoveByPrefix(ctx, "").
func (c *Cache) RemoveAll(ctx context.Context, keys []string) (int, error) {
	if err := checkKeys(ctx, "remove all", "keys", keys); err != nil {
		return 0, err
	}
	return c.removeAll(ctx, "remove all", keys)
}

// removeAll unlinks the Redis keys of cache keys.
func (c *Cache) removeAll(ctx context.Context, op string, keys []string) (int, error) {
	n, err := unlinkKeys(ctx, c.client, c.keys(keys), c.singleNode, c.batch)
	if err != nil {
		return int(n), fail(ctx, op, "", err)
	}
	return int(n), nil
}

// unlinkKeys unlinks Redis keys through node and returns how many existed:
// with multi-key UNLINKs of up to batch keys when multiKey, otherwise one
// UNLINK per key in a pipeline.
func unlinkKeys(ctx context.Context, node redis.Cmdable, keys []string, multiKey bool, batch int) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	var total int64
	if multiKey {
		for start := 0; start < len(keys); start += batch {
			n, err := node.Unlink(ctx, keys[start:min(start+batch, len(keys))]...).Result()
			total += n
			if err != nil {
				return total, err
			}
		}
		return total, nil
	}
	cmds, err := perKey(ctx, node, keys, func(p redis.Pipeliner, ctx context.Context, k string) *redis.IntCmd {
		return p.Unlink(ctx, k)
	})
	for _, cmd := range cmds {
		total += cmd.Val()
	}
	return total, err
}

// perKey sends cmd for each of the Redis keys in one pipeline through node
// (one round trip per node of a cluster) and returns the commands, in the
// order of keys, with the pipeline's first error.
func perKey[C redis.Cmder](ctx context.Context, node redis.Cmdable, keys []string,
	cmd func(redis.Pipeliner, context.Context, string) C) ([]C, error) {
	cmds := make([]C, len(keys))
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = cmd(p, ctx, k)
		}
		return nil
	})
	return cmds, err
}

// RemoveByPrefix deletes every key that starts with prefix (taken
// literally: glob characters are escaped) under KeyPrefix, and returns how
// many it deleted. It SCANs with MATCH, never KEYS, and UNLINKs each page;
// on a cluster it does so on every master.
func (c *Cache) RemoveByPrefix(ctx context.Context, prefix string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("rediscache: remove by prefix %q: %w", prefix, err)
	}
	pattern := c.prefixPattern(prefix)
	var total atomic.Int64
	scan := func(ctx context.Context, node redis.Cmdable, multiKey bool) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, pattern, int64(c.batch)).Result()
			if err != nil {
				return err
			}
			n, err := unlinkKeys(ctx, node, keys, multiKey, c.batch)
			total.Add(n)
			if err != nil {
				return err
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	var err error
	switch cl := c.client.(type) {
	case *redis.ClusterClient:
		// Keys on one master may be in different slots: one UNLINK each.
		err = cl.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return scan(ctx, m, false) })
	case *redis.Ring:
		err = cl.ForEachShard(ctx, func(ctx context.Context, s *redis.Client) error { return scan(ctx, s, true) })
	default: // one node, or a client of unknown topology (then one UNLINK per key)
		err = scan(ctx, c.client, c.singleNode)
	}
	if err != nil {
		return int(total.Load()), fail(ctx, "remove by prefix", prefix, err)
	}
	return int(total.Load()), nil
}

// Exists reports whether key exists.
func (c *Cache) Exists(ctx context.Context, key string) (bool, error) {
	return c.countKey(ctx, "exists", key, c.client.Exists)
}

// encode returns the bytes stored for v.
func (c *Cache) encode(v any) ([]byte, error) { return cache.Encode(c.codec, v) }
