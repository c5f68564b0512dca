package memorycache

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/fanin-dev/fanin/cache"
)

// Get reads key. A list or hash at key is ErrWrongType.
func (c *Cache) Get(ctx context.Context, key string) (cache.Item, error) {
	if err := begin(ctx, "Get", key); err != nil {
		return cache.Item{}, err
	}
	c.mu.Lock()
	defer c.unlock()
	e := c.live(key, c.now())
	if e == nil {
		c.misses++
		return cache.Item{}, nil
	}
	if e.kind != kindValue {
		return cache.Item{}, wrongType("Get", key, e)
	}
	c.hits++
	c.touch(e)
	return e.val.item(c.codec), nil
}

// GetAll reads keys; every key given is in the map. As Redis MGET does, a
// list or hash reads as a miss.
func (c *Cache) GetAll(ctx context.Context, keys []string) (map[string]cache.Item, error) {
	if err := beginKeys(ctx, "GetAll", keys); err != nil {
		return nil, err
	}
	out := make(map[string]cache.Item, len(keys))
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	for _, k := range keys {
		e := c.live(k, now)
		if e == nil || e.kind != kindValue {
			c.misses++
			out[k] = cache.Item{}
			continue
		}
		c.hits++
		c.touch(e)
		out[k] = e.val.item(c.codec)
	}
	return out, nil
}

// prepare validates a write of value at key and readies the value.
func (c *Cache) prepare(ctx context.Context, op, key string, value any) (stored, error) {
	if err := begin(ctx, op, key); err != nil {
		return stored{}, err
	}
	s, err := c.measure(value)
	if err != nil {
		return stored{}, fmt.Errorf("memorycache: %s %q: %w", op, key, err)
	}
	if err := c.tooLarge(op, key, int64(len(key))+entryOverhead+s.size); err != nil {
		return stored{}, err
	}
	return s, nil
}

// write runs a single-key write: it removes key when exp is expired, else
// stores s when cond (given the live entry, or nil) allows.
func (c *Cache) write(key string, s stored, exp cache.Expiration, cond func(e *entry) (bool, error)) (bool, error) {
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	c.sweep(now)
	if exp.IsExpired() {
		c.dropKey(key, now)
		return false, nil
	}
	if cond != nil {
		ok, err := cond(c.live(key, now))
		if !ok || err != nil {
			return false, err
		}
	}
	c.put(key, s, deadline(exp, now))
	return true, nil
}

// Add sets key only if it does not exist.
func (c *Cache) Add(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	s, err := c.prepare(ctx, "Add", key, value)
	if err != nil {
		return false, err
	}
	return c.write(key, s, exp, func(e *entry) (bool, error) { return e == nil, nil })
}

// Set sets key, whatever it held.
func (c *Cache) Set(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	s, err := c.prepare(ctx, "Set", key, value)
	if err != nil {
		return false, err
	}
	return c.write(key, s, exp, nil)
}

// SetAll sets every key of values and returns how many were set.
func (c *Cache) SetAll(ctx context.Context, values map[string]any, exp cache.Expiration) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memorycache: SetAll: %w", err)
	}
	if values == nil {
		return 0, fmt.Errorf("memorycache: SetAll: %w", cache.NilCollection("values"))
	}
	ready := make(map[string]stored, len(values))
	for k, v := range values {
		s, err := c.prepare(ctx, "SetAll", k, v)
		if err != nil {
			return 0, err
		}
		ready[k] = s
	}
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	c.sweep(now)
	if exp.IsExpired() {
		for k := range ready {
			c.dropKey(k, now)
		}
		return 0, nil
	}
	at := deadline(exp, now)
	for k, s := range ready {
		c.put(k, s, at)
	}
	return len(ready), nil
}

// Replace sets key only if it exists.
func (c *Cache) Replace(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	s, err := c.prepare(ctx, "Replace", key, value)
	if err != nil {
		return false, err
	}
	return c.write(key, s, exp, func(e *entry) (bool, error) { return e != nil, nil })
}

// ReplaceIfEqual sets key to value only if it holds expected, compared in
// encoded form as Redis compares.
func (c *Cache) ReplaceIfEqual(ctx context.Context, key string, value, expected any, exp cache.Expiration) (bool, error) {
	s, err := c.prepare(ctx, "ReplaceIfEqual", key, value)
	if err != nil {
		return false, err
	}
	want, err := c.expected("ReplaceIfEqual", key, expected)
	if err != nil {
		return false, err
	}
	return c.write(key, s, exp, func(e *entry) (bool, error) { return c.holds("ReplaceIfEqual", e, want) })
}

// expected encodes the expected value of a compare-and-swap.
func (c *Cache) expected(op, key string, expected any) ([]byte, error) {
	if expected == nil {
		return nil, fmt.Errorf("memorycache: %s %q: expected value: %w", op, key, cache.ErrNilValue)
	}
	want, err := c.encode(expected)
	if err != nil {
		return nil, fmt.Errorf("memorycache: %s %q: expected value: %w", op, key, err)
	}
	return want, nil
}

// holds reports whether the live entry e holds the encoded value want.
func (c *Cache) holds(op string, e *entry, want []byte) (bool, error) {
	if e == nil {
		return false, nil
	}
	if e.kind != kindValue {
		return false, wrongType(op, e.key, e)
	}
	got := e.val.raw
	var err error
	if !e.val.encoded {
		got, err = c.encode(e.val.v)
	}
	if err != nil {
		return false, fmt.Errorf("memorycache: %s %q: %w", op, e.key, err)
	}
	return bytes.Equal(got, want), nil
}

// Remove deletes key and reports whether it existed.
func (c *Cache) Remove(ctx context.Context, key string) (bool, error) {
	if err := begin(ctx, "Remove", key); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.unlock()
	return c.dropKey(key, c.now()), nil
}

// RemoveIfEqual deletes key only if it holds expected.
func (c *Cache) RemoveIfEqual(ctx context.Context, key string, expected any) (bool, error) {
	if err := begin(ctx, "RemoveIfEqual", key); err != nil {
		return false, err
	}
	want, err := c.expected("RemoveIfEqual", key, expected)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.unlock()
	e := c.live(key, c.now())
	ok, err := c.holds("RemoveIfEqual", e, want)
	if ok {
		c.drop(e)
	}
	return ok, err
}

// RemoveAll deletes the given keys and returns how many existed.
func (c *Cache) RemoveAll(ctx context.Context, keys []string) (int, error) {
	if err := beginKeys(ctx, "RemoveAll", keys); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	n := 0
	for _, k := range keys {
		if c.dropKey(k, now) {
			n++
		}
	}
	return n, nil
}

// RemoveByPrefix deletes every key starting with prefix, taken literally;
// the empty prefix clears the cache.
func (c *Cache) RemoveByPrefix(ctx context.Context, prefix string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memorycache: RemoveByPrefix: %w", err)
	}
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	n := 0
	for k := range c.items {
		if strings.HasPrefix(k, prefix) && c.dropKey(k, now) {
			n++
		}
	}
	return n, nil
}

// Exists reports whether key exists.
func (c *Cache) Exists(ctx context.Context, key string) (bool, error) {
	if err := begin(ctx, "Exists", key); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.unlock()
	return c.live(key, c.now()) != nil, nil
}
