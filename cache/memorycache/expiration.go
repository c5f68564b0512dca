package memorycache

import (
	"context"
	"fmt"

	"github.com/fanin-dev/fanin/cache"
)

// GetExpiration returns the remaining TTL of key; the zero Expiration when
// it is missing or has none.
func (c *Cache) GetExpiration(ctx context.Context, key string) (cache.Expiration, error) {
	if err := begin(ctx, "GetExpiration", key); err != nil {
		return cache.Expiration{}, err
	}
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	if e := c.live(key, now); e != nil {
		return remaining(e.expiresAt, now), nil
	}
	return cache.Expiration{}, nil
}

// GetAllExpiration returns the TTL of each existing key given.
func (c *Cache) GetAllExpiration(ctx context.Context, keys []string) (map[string]cache.Expiration, error) {
	if err := beginKeys(ctx, "GetAllExpiration", keys); err != nil {
		return nil, err
	}
	out := make(map[string]cache.Expiration, len(keys))
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	for _, k := range keys {
		if e := c.live(k, now); e != nil {
			out[k] = remaining(e.expiresAt, now)
		}
	}
	return out, nil
}

// SetExpiration sets the TTL of an existing key; a missing key is left
// missing.
func (c *Cache) SetExpiration(ctx context.Context, key string, exp cache.Expiration) error {
	if err := begin(ctx, "SetExpiration", key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.unlock()
	c.expire(key, exp, c.now())
	return nil
}

// SetAllExpiration applies SetExpiration to every key of exps.
func (c *Cache) SetAllExpiration(ctx context.Context, exps map[string]cache.Expiration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memorycache: SetAllExpiration: %w", err)
	}
	if exps == nil {
		return fmt.Errorf("memorycache: SetAllExpiration: %w", cache.NilCollection("expirations"))
	}
	for k := range exps {
		if k == "" {
			return fmt.Errorf("memorycache: SetAllExpiration: %w", cache.ErrEmptyKey)
		}
	}
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	for k, exp := range exps {
		c.expire(k, exp, now)
	}
	return nil
}

func (c *Cache) expire(key string, exp cache.Expiration, now int64) {
	c.sweep(now)
	e := c.live(key, now)
	switch {
	case e == nil:
	case exp.IsExpired():
		c.drop(e)
	default:
		c.setExpiry(e, deadline(exp, now))
	}
}
