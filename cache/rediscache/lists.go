package rediscache

import (
	"context"
	"fmt"
	"math"

	"github.com/fanin-dev/fanin/cache"
)

// neverScore is the score of a list value that never expires: the largest
// integer a double (and a Lua number) holds exactly.
const neverScore = "9007199254740991"

// A list is a sorted set whose members are the encoded values and whose
// scores are the values' expiry times in unix milliseconds, taken from the
// server clock (neverScore for values that never expire). The key itself
// lives as long as its longest-lived value.

// ListAdd adds values to the list at key, each value expiring on its own
// after exp, and returns how many were new (a value already in the list gets
// the new expiry). Expired values are purged, and the key's TTL is set to
// that of its longest-lived value (no TTL when one never expires); all in
// one Lua script. An expired exp removes the given values and returns 0. No
// value may be nil (cache.ErrNilValue).
func (c *Cache) ListAdd(ctx context.Context, key string, values []any, exp cache.Expiration) (int64, error) {
	const op = "list add"
	if err := begin(ctx, op, key); err != nil {
		return 0, err
	}
	args, err := c.listArgs(op, key, values, 2)
	if err != nil || len(values) == 0 {
		return 0, err
	}
	if exp.IsExpired() {
		_, err := c.listRemove(ctx, op, key, args[2:])
		return 0, err
	}
	args[0], args[1] = millis(exp), neverScore
	n, err := c.scripts.listAdd.Run(ctx, c.client, []string{c.key(key)}, args...).Int64()
	if err != nil {
		return 0, fail(ctx, op, key, err)
	}
	return n, nil
}

// listArgs encodes values into a script argument list, after skip leading
// slots left for the caller.
func (c *Cache) listArgs(op, key string, values []any, skip int) ([]any, error) {
	if values == nil {
		return nil, fmt.Errorf("rediscache: %s %q: %w", op, key, cache.NilCollection("values"))
	}
	args := make([]any, skip, skip+len(values))
	for i, v := range values {
		if cache.NewValueItem(v).IsNull() {
			return nil, fmt.Errorf("rediscache: %s %q: value %d of %d: %w", op, key, i+1, len(values), cache.ErrNilValue)
		}
		raw, err := c.encode(v)
		if err != nil {
			return nil, encodeErr(op, key, err)
		}
		args = append(args, raw)
	}
	return args, nil
}

// ListRemove removes values from the list and returns how many live values
// it removed; the key's expiration is unchanged. No value may be nil.
func (c *Cache) ListRemove(ctx context.Context, key string, values []any) (int64, error) {
	const op = "list remove"
	if err := begin(ctx, op, key); err != nil {
		return 0, err
	}
	args, err := c.listArgs(op, key, values, 0)
	if err != nil || len(values) == 0 {
		return 0, err
	}
	return c.listRemove(ctx, op, key, args)
}

func (c *Cache) listRemove(ctx context.Context, op, key string, encoded []any) (int64, error) {
	n, err := c.scripts.listRemove.Run(ctx, c.client, []string{c.key(key)}, encoded...).Int64()
	if err != nil {
		return 0, fail(ctx, op, key, err)
	}
	return n, nil
}

// GetList returns one page of the live values of the list at key, in order
// of expiry then value, or nil when it has none. The zero Page (or any Page
// of Size 0) selects every value.
func (c *Cache) GetList(ctx context.Context, key string, page cache.Page) ([]cache.Item, error) {
	const op = "get list"
	if err := begin(ctx, op, key); err != nil {
		return nil, err
	}
	if page.Number < 0 || page.Size < 0 {
		return nil, fmt.Errorf("rediscache: %s %q: page %+v; want Number >= 0 and Size >= 0 (0 = all values)", op, key, page)
	}
	offset, count := int64(0), int64(-1)
	if page.Size > 0 {
		if int64(page.Number) > math.MaxInt64/int64(page.Size) {
			return nil, nil // a page past any possible list
		}
		offset, count = int64(page.Number)*int64(page.Size), int64(page.Size)
	}
	vals, err := c.scripts.listGet.Run(ctx, c.client, []string{c.key(key)}, offset, count).StringSlice()
	if err != nil {
		return nil, fail(ctx, op, key, err)
	}
	if len(vals) == 0 {
		return nil, nil
	}
	items := make([]cache.Item, len(vals))
	for i, v := range vals {
		items[i] = cache.NewEncodedItem([]byte(v), c.codec)
	}
	return items, nil
}
