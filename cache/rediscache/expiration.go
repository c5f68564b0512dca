package rediscache

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
)

// GetExpiration returns the remaining TTL of key (PTTL); the zero
// Expiration when the key is missing or has no TTL. The TTL of a key that
// exists is never zero: at least 1 ms (see expirationOf).
func (c *Cache) GetExpiration(ctx context.Context, key string) (cache.Expiration, error) {
	if err := begin(ctx, "get expiration", key); err != nil {
		return cache.Expiration{}, err
	}
	d, err := c.client.PTTL(ctx, c.key(key)).Result()
	if err != nil {
		return cache.Expiration{}, fail(ctx, "get expiration", key, err)
	}
	exp, _ := expirationOf(d)
	return exp, nil
}

// expirationOf converts a PTTL reply: -2 (missing) gives false, -1 (no TTL)
// the zero Expiration.
//
// A key in its last millisecond still exists (Redis deletes a key once its
// expiry instant is strictly past) while PTTL answers 0. ExpiresIn(0) would
// say "already expired", and handed back to SetExpiration or a write it
// would delete the key, so a key that exists is reported with at least
// 1 ms left, the unit PTTL counts in. No test can catch that millisecond
// from outside Redis, hence TestExpirationOfLastMillisecond on this
// function itself.
func expirationOf(d time.Duration) (cache.Expiration, bool) {
	switch d {
	case -2:
		return cache.Expiration{}, false
	case -1:
		return cache.Expiration{}, true
	}
	return cache.ExpiresIn(max(d, time.Millisecond)), true
}

// GetAllExpiration returns the TTL of each existing key given (PTTL in a
// pipeline); missing keys are absent, keys without TTL map to the zero
// Expiration.
func (c *Cache) GetAllExpiration(ctx context.Context, keys []string) (map[string]cache.Expiration, error) {
	const op = "get all expiration"
	if err := checkKeys(ctx, op, "keys", keys); err != nil {
		return nil, err
	}
	out := make(map[string]cache.Expiration, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	cmds, err := perKey(ctx, c.client, c.keys(keys), redis.Pipeliner.PTTL)
	if err != nil {
		return nil, fail(ctx, op, "", err)
	}
	for i, k := range keys {
		if exp, ok := expirationOf(cmds[i].Val()); ok {
			out[k] = exp
		}
	}
	return out, nil
}

// SetExpiration sets the TTL of an existing key (PEXPIRE); the zero
// Expiration removes it (PERSIST), an expired one removes the key. A missing
// key stays missing.
func (c *Cache) SetExpiration(ctx context.Context, key string, exp cache.Expiration) error {
	if err := begin(ctx, "set expiration", key); err != nil {
		return err
	}
	if err := expire(ctx, c.client, c.key(key), exp).Err(); err != nil {
		return fail(ctx, "set expiration", key, err)
	}
	return nil
}

// expire sends the command that gives key the expiration exp.
func expire(ctx context.Context, r redis.Cmdable, key string, exp cache.Expiration) redis.Cmder {
	switch {
	case exp.IsNone():
		return r.Persist(ctx, key)
	case exp.IsExpired():
		return r.Unlink(ctx, key)
	}
	return r.PExpire(ctx, key, ttlOf(exp))
}

// SetAllExpiration applies SetExpiration to every key of exps, in a pipeline
// (one round trip per node).
func (c *Cache) SetAllExpiration(ctx context.Context, exps map[string]cache.Expiration) error {
	const op = "set all expiration"
	if exps == nil {
		return fmt.Errorf("rediscache: %s: %w", op, cache.NilCollection("expirations"))
	}
	for k := range exps {
		if k == "" {
			return fmt.Errorf("rediscache: %s: %w", op, cache.ErrEmptyKey)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rediscache: %s: %w", op, err)
	}
	if len(exps) == 0 {
		return nil
	}
	_, err := c.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for k, exp := range exps {
			expire(ctx, p, c.key(k), exp)
		}
		return nil
	})
	if err != nil {
		return fail(ctx, op, "", err)
	}
	return nil
}
