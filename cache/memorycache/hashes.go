package memorycache

import (
	"context"
	"fmt"
	"iter"

	"github.com/fanin-dev/fanin/cache"
)

// defaultScanPage is the HashScan page size used when none is given.
const defaultScanPage = 1000

func checkFields(op, key string, fields ...string) error {
	for _, f := range fields {
		if f == "" {
			return fmt.Errorf("memorycache: %s %q: hash field: %w", op, key, cache.ErrEmptyKey)
		}
	}
	return nil
}

// hashFor returns the live hash at key (nil when missing), or ErrWrongType.
func (c *Cache) hashFor(op, key string, now int64) (*entry, error) {
	e := c.live(key, now)
	if e != nil && e.kind != kindHash {
		return nil, wrongType(op, key, e)
	}
	return e, nil
}

// HashSet sets field of the hash at key and reports whether it is new. The
// key's expiration is unchanged.
func (c *Cache) HashSet(ctx context.Context, key, field string, value any) (bool, error) {
	if err := begin(ctx, "HashSet", key); err != nil {
		return false, err
	}
	if err := checkFields("HashSet", key, field); err != nil {
		return false, err
	}
	s, err := c.measure(value)
	if err != nil {
		return false, fmt.Errorf("memorycache: HashSet %q field %q: %w", key, field, err)
	}
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	c.sweep(now)
	e, err := c.hashFor("HashSet", key, now)
	if err != nil {
		return false, err
	}
	delta := int64(len(field)) + s.size
	size := int64(len(key)) + entryOverhead + delta
	if e != nil {
		size = e.size + delta
		if old, ok := e.hash[field]; ok {
			size -= int64(len(field)) + old.size
		}
	}
	if err := c.tooLarge("HashSet", key, size); err != nil {
		return false, err
	}
	if e == nil {
		e = c.create(key, kindHash)
		e.hash = make(map[string]stored)
	} else {
		c.touch(e)
	}
	old, exists := e.hash[field]
	if exists {
		delta -= int64(len(field)) + old.size
	}
	e.hash[field] = s
	c.resize(e, delta)
	c.evict(e)
	return !exists, nil
}

// HashGet reads one field of the hash at key.
func (c *Cache) HashGet(ctx context.Context, key, field string) (cache.Item, error) {
	items, err := c.hashGet(ctx, "HashGet", key, []string{field})
	if err != nil {
		return cache.Item{}, err
	}
	return items[0], nil
}

// HashGetMany reads fields of the hash at key, in the order given.
func (c *Cache) HashGetMany(ctx context.Context, key string, fields []string) ([]cache.Item, error) {
	return c.hashGet(ctx, "HashGetMany", key, fields)
}

func (c *Cache) hashGet(ctx context.Context, op, key string, fields []string) ([]cache.Item, error) {
	if err := begin(ctx, op, key); err != nil {
		return nil, err
	}
	if err := checkFields(op, key, fields...); err != nil {
		return nil, err
	}
	out := make([]cache.Item, len(fields))
	c.mu.Lock()
	defer c.unlock()
	e, err := c.hashFor(op, key, c.now())
	if e == nil || err != nil {
		return out, err
	}
	c.touch(e)
	for i, f := range fields {
		if s, ok := e.hash[f]; ok {
			out[i] = s.item(c.codec)
		}
	}
	return out, nil
}

// HashLen returns the number of fields of the hash at key.
func (c *Cache) HashLen(ctx context.Context, key string) (int64, error) {
	if err := begin(ctx, "HashLen", key); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.unlock()
	e, err := c.hashFor("HashLen", key, c.now())
	if e == nil || err != nil {
		return 0, err
	}
	return int64(len(e.hash)), nil
}

// HashDelete deletes fields of the hash at key and returns how many existed.
// The key goes when its last field does.
func (c *Cache) HashDelete(ctx context.Context, key string, fields ...string) (int64, error) {
	if err := begin(ctx, "HashDelete", key); err != nil {
		return 0, err
	}
	if err := checkFields("HashDelete", key, fields...); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.unlock()
	e, err := c.hashFor("HashDelete", key, c.now())
	if e == nil || err != nil {
		return 0, err
	}
	var n int64
	for _, f := range fields {
		if s, ok := e.hash[f]; ok {
			delete(e.hash, f)
			c.resize(e, -(int64(len(f)) + s.size))
			n++
		}
	}
	if len(e.hash) == 0 {
		c.drop(e)
	}
	return n, nil
}

// HashScan streams the hash at key pageSize fields at a time (pageSize <= 0
// means 1000). It notes the field names when it starts and reads their
// values page by page, so fields deleted meanwhile are skipped and fields
// added meanwhile may be missed. An error ends the sequence.
func (c *Cache) HashScan(ctx context.Context, key string, pageSize int) iter.Seq2[cache.HashField, error] {
	return func(yield func(cache.HashField, error) bool) {
		if err := begin(ctx, "HashScan", key); err != nil {
			yield(cache.HashField{}, err)
			return
		}
		if pageSize <= 0 {
			pageSize = defaultScanPage
		}
		names, err := c.hashFields(key)
		if err != nil {
			yield(cache.HashField{}, err)
			return
		}
		for len(names) > 0 {
			if err := ctx.Err(); err != nil {
				yield(cache.HashField{}, fmt.Errorf("memorycache: HashScan: %w", err))
				return
			}
			n := min(pageSize, len(names))
			page, err := c.hashPage(key, names[:n])
			if err != nil {
				yield(cache.HashField{}, err)
				return
			}
			names = names[n:]
			for _, f := range page {
				if !yield(f, nil) {
					return
				}
			}
		}
	}
}

// hashFields returns the field names of the hash at key.
func (c *Cache) hashFields(key string) ([]string, error) {
	c.mu.Lock()
	defer c.unlock()
	e, err := c.hashFor("HashScan", key, c.now())
	if e == nil || err != nil {
		return nil, err
	}
	c.touch(e)
	names := make([]string, 0, len(e.hash))
	for f := range e.hash {
		names = append(names, f)
	}
	return names, nil
}

// hashPage reads the named fields that still exist.
func (c *Cache) hashPage(key string, names []string) ([]cache.HashField, error) {
	c.mu.Lock()
	defer c.unlock()
	e, err := c.hashFor("HashScan", key, c.now())
	if e == nil || err != nil {
		return nil, err
	}
	out := make([]cache.HashField, 0, len(names))
	for _, f := range names {
		if s, ok := e.hash[f]; ok {
			out = append(out, cache.HashField{Field: f, Item: s.item(c.codec)})
		}
	}
	return out, nil
}
