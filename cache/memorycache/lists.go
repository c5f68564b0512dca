package memorycache

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/fanin-dev/fanin/cache"
)

// memberOverhead is the bookkeeping, in bytes, added to the size estimate of
// every list value (its expiry).
const memberOverhead = 8

// members encodes list values; they are compared in encoded form, as Redis
// compares sorted-set members.
func (c *Cache) members(op, key string, values []any) ([]string, error) {
	if values == nil {
		return nil, fmt.Errorf("memorycache: %s %q: %w", op, key, cache.NilCollection("values"))
	}
	out := make([]string, len(values))
	for i, v := range values {
		if cache.NewValueItem(v).IsNull() {
			return nil, fmt.Errorf("memorycache: %s %q: value %d of %d: %w", op, key, i, len(values), cache.ErrNilValue)
		}
		raw, err := c.encode(v)
		if err != nil {
			return nil, fmt.Errorf("memorycache: %s %q: value %d of %d: %w", op, key, i, len(values), err)
		}
		out[i] = string(raw)
	}
	return out, nil
}

// listFor returns the live list at key (nil when missing), or ErrWrongType.
func (c *Cache) listFor(op, key string, now int64) (*entry, error) {
	e := c.live(key, now)
	if e != nil && e.kind != kindList {
		return nil, wrongType(op, key, e)
	}
	return e, nil
}

// removeMember deletes one value of the list e.
func (c *Cache) removeMember(e *entry, m string) {
	delete(e.list, m)
	c.resize(e, -int64(len(m)+memberOverhead))
}

// removeMembers deletes ms from the list e, dropping e when it empties, and
// returns how many it deleted.
func (c *Cache) removeMembers(e *entry, ms []string) int64 {
	var n int64
	for _, m := range ms {
		if _, ok := e.list[m]; ok {
			c.removeMember(e, m)
			n++
		}
	}
	if len(e.list) == 0 {
		c.drop(e)
	}
	return n
}

// ListAdd adds values to the list at key, each expiring on its own after
// exp, and returns how many were new. Re-adding a value updates its expiry.
// The key lives as long as its longest-lived value. An expired exp removes
// the given values and returns 0.
func (c *Cache) ListAdd(ctx context.Context, key string, values []any, exp cache.Expiration) (int64, error) {
	if err := begin(ctx, "ListAdd", key); err != nil {
		return 0, err
	}
	ms, err := c.members("ListAdd", key, values)
	if err != nil || len(ms) == 0 {
		return 0, err // no values: nothing to do, whatever key holds
	}
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	c.sweep(now)
	e, err := c.listFor("ListAdd", key, now)
	if err != nil {
		return 0, err
	}
	if exp.IsExpired() {
		if e != nil {
			c.removeMembers(e, ms)
		}
		return 0, nil
	}
	size := int64(len(key)) + entryOverhead
	if e != nil {
		size = e.size
	}
	for _, m := range ms {
		if e == nil || !hasMember(e, m) {
			size += int64(len(m) + memberOverhead)
		}
	}
	if err := c.tooLarge("ListAdd", key, size); err != nil {
		return 0, err
	}
	if e == nil {
		e = c.create(key, kindList)
		e.list = make(map[string]int64, len(ms))
	} else {
		c.touch(e)
	}
	at := deadline(exp, now)
	var added int64
	for _, m := range ms {
		if !hasMember(e, m) {
			added++
			c.resize(e, int64(len(m)+memberOverhead))
		}
		e.list[m] = at
	}
	keyAt := int64(math.MinInt64)
	for _, a := range e.list {
		keyAt = max(keyAt, a) // never, when one value never expires
	}
	c.setExpiry(e, keyAt)
	c.evict(e)
	return added, nil
}

func hasMember(e *entry, m string) bool {
	_, ok := e.list[m]
	return ok
}

// ListRemove removes values from the list at key and returns how many it
// removed; the key's expiration is unchanged.
func (c *Cache) ListRemove(ctx context.Context, key string, values []any) (int64, error) {
	if err := begin(ctx, "ListRemove", key); err != nil {
		return 0, err
	}
	ms, err := c.members("ListRemove", key, values)
	if err != nil || len(ms) == 0 {
		return 0, err // no values: nothing to do, whatever key holds
	}
	c.mu.Lock()
	defer c.unlock()
	e, err := c.listFor("ListRemove", key, c.now())
	if e == nil || err != nil {
		return 0, err
	}
	return c.removeMembers(e, ms), nil
}

// GetList returns one page of the live values of the list at key, in order
// of expiry (values that never expire last), then of encoded value; nil
// when the page is empty.
func (c *Cache) GetList(ctx context.Context, key string, page cache.Page) ([]cache.Item, error) {
	if err := begin(ctx, "GetList", key); err != nil {
		return nil, err
	}
	if page.Number < 0 || page.Size < 0 {
		return nil, fmt.Errorf("memorycache: GetList %q: page %+v: Number and Size must be 0 or more", key, page)
	}
	if page.Size > 0 && page.Number > math.MaxInt/page.Size {
		return nil, nil // a page past any possible list, whatever key holds
	}
	c.mu.Lock()
	defer c.unlock()
	e, err := c.listFor("GetList", key, c.now())
	if e == nil || err != nil {
		return nil, err
	}
	c.touch(e)
	type member struct {
		m  string
		at int64
	}
	all := make([]member, 0, len(e.list))
	for m, at := range e.list {
		all = append(all, member{m, at}) // never sorts last
	}
	slices.SortFunc(all, func(a, b member) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.m, b.m))
	})
	if page.Size > 0 {
		start := page.Number * page.Size
		if start >= len(all) {
			return nil, nil
		}
		all = all[start:min(start+page.Size, len(all))]
	}
	out := make([]cache.Item, len(all))
	for i, m := range all {
		out[i] = cache.NewEncodedItem([]byte(m.m), c.codec)
	}
	return out, nil
}
