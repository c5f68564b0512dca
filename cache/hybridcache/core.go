package hybridcache

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

// core is what Hybrid and Aware share: L2, the publisher and, for Hybrid,
// L1. Its methods are the cache.Client and cache.Hashes method sets.
type core struct {
	l2       cache.Client
	codec    cache.Codec // L2's: the bytes L2 holds are cache.Encode(codec, value)
	pub      Publisher
	channel  string
	id       string
	l1       *memorycache.Cache // nil for Aware
	localTTL time.Duration
	closed   atomic.Bool

	// mu orders the changes of L1 made on behalf of writes, reads and
	// invalidations. epoch counts those changes, and log remembers the
	// last ones: a read or write that started at an earlier epoch stores
	// what it saw in L1 only if no change since has made it stale.
	mu    sync.Mutex
	epoch atomic.Uint64
	log   [logSize]logEntry

	// sums holds the digest of what L1 holds at each key, under sumMu
	// alone: L1's OnEvict callback forgets keys while c.mu may be held.
	sumMu sync.Mutex
	sums  map[string]digest

	hits, misses, invalidations, kept, publishErrors, resubscriptions atomic.Int64
}

// begin checks what every operation checks first.
func (c *core) begin(ctx context.Context, op string, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("hybridcache: %s: %w", op, err)
	}
	if c.closed.Load() {
		return fmt.Errorf("hybridcache: %s: %w", op, ErrClosed)
	}
	for _, k := range keys {
		if k == "" {
			return fmt.Errorf("hybridcache: %s: %w", op, cache.ErrEmptyKey)
		}
	}
	return nil
}

// beginMany is begin for an operation on a collection named what, which
// must not be nil.
func (c *core) beginMany(ctx context.Context, op, what string, isNil bool, keys []string) error {
	if isNil {
		return fmt.Errorf("hybridcache: %s: %w", op, cache.NilCollection(what))
	}
	return c.begin(ctx, op, keys...)
}

// localExp is the L1 expiration of a value whose L2 expiration is exp.
func (c *core) localExp(exp cache.Expiration) cache.Expiration {
	if exp.IsNone() || exp.TTL() > c.localTTL {
		return cache.ExpiresIn(c.localTTL)
	}
	return exp
}

// publish tells the other instances about ch. The write it reports has
// already succeeded, so a failure is counted (Stats.PublishErrors) rather
// than returned: the other instances' L1 entries then live at most
// LocalTTL.
func (c *core) publish(ctx context.Context, ch change) {
	payload, err := json.Marshal(newMessage(c.id, ch))
	if err == nil {
		err = c.pub.Publish(context.WithoutCancel(ctx), c.channel, payload).Err()
	}
	if err != nil {
		c.publishErrors.Add(1)
	}
}

// --- reads ---

// Get reads key from L1, else from L2 (copying it into L1).
func (c *core) Get(ctx context.Context, key string) (cache.Item, error) {
	if err := c.begin(ctx, "Get", key); err != nil {
		return cache.Item{}, err
	}
	if c.l1 == nil {
		return c.l2.Get(ctx, key)
	}
	if it, err := c.l1.Get(ctx, key); err == nil && it.HasValue() {
		c.hits.Add(1)
		return it, nil
	}
	c.misses.Add(1)
	snap := c.epoch.Load()
	it, err := c.l2.Get(ctx, key)
	if err != nil || !it.HasValue() {
		return it, err
	}
	if exp, err := c.l2.GetExpiration(ctx, key); err == nil {
		c.populate(snap, map[string]cache.Item{key: it}, map[string]cache.Expiration{key: exp})
	}
	return it, nil
}

// GetAll reads keys from L1, and those it misses from L2 (copying them
// into L1).
func (c *core) GetAll(ctx context.Context, keys []string) (map[string]cache.Item, error) {
	if err := c.beginMany(ctx, "GetAll", "keys", keys == nil, keys); err != nil {
		return nil, err
	}
	if c.l1 == nil {
		return c.l2.GetAll(ctx, keys)
	}
	local, err := c.l1.GetAll(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]cache.Item, len(local))
	var missed []string
	for k, it := range local {
		if it.HasValue() {
			out[k] = it
		} else {
			missed = append(missed, k)
		}
	}
	c.hits.Add(int64(len(out)))
	c.misses.Add(int64(len(missed)))
	if len(missed) == 0 {
		return out, nil
	}
	snap := c.epoch.Load()
	remote, err := c.l2.GetAll(ctx, missed)
	if err != nil {
		return nil, err
	}
	found := make(map[string]cache.Item, len(remote))
	for k, it := range remote {
		out[k] = it
		if it.HasValue() {
			found[k] = it
		}
	}
	if len(found) > 0 {
		names := make([]string, 0, len(found))
		for k := range found {
			names = append(names, k)
		}
		if exps, err := c.l2.GetAllExpiration(ctx, names); err == nil {
			c.populate(snap, found, exps)
		}
	}
	return out, nil
}

// Exists reports whether key exists in L2.
func (c *core) Exists(ctx context.Context, key string) (bool, error) {
	if err := c.begin(ctx, "Exists", key); err != nil {
		return false, err
	}
	return c.l2.Exists(ctx, key)
}

// GetExpiration returns the TTL of key in L2.
func (c *core) GetExpiration(ctx context.Context, key string) (cache.Expiration, error) {
	if err := c.begin(ctx, "GetExpiration", key); err != nil {
		return cache.Expiration{}, err
	}
	return c.l2.GetExpiration(ctx, key)
}

// GetAllExpiration returns the TTLs of keys in L2.
func (c *core) GetAllExpiration(ctx context.Context, keys []string) (map[string]cache.Expiration, error) {
	if err := c.beginMany(ctx, "GetAllExpiration", "keys", keys == nil, keys); err != nil {
		return nil, err
	}
	return c.l2.GetAllExpiration(ctx, keys)
}

// GetList reads a page of the list at key from L2.
func (c *core) GetList(ctx context.Context, key string, page cache.Page) ([]cache.Item, error) {
	if err := c.begin(ctx, "GetList", key); err != nil {
		return nil, err
	}
	return c.l2.GetList(ctx, key, page)
}

// --- writes ---

// encoded returns the bytes L2 holds for v after writing it, and whether
// they could be computed (a value the codec cannot encode was not written
// either).
func (c *core) encoded(v any) ([]byte, bool) {
	raw, err := cache.Encode(c.codec, v)
	return raw, err == nil
}

// setOne runs a single-key conditional write (Add, Replace, ...): ok tells
// whether L2 stored the value; an expired exp removed the key either way.
func (c *core) setOne(ctx context.Context, op, key string, v any, exp cache.Expiration, write func() (bool, error)) (bool, error) {
	if err := c.begin(ctx, op, key); err != nil {
		return false, err
	}
	snap := c.epoch.Load()
	ok, err := write()
	ch := change{keys: []string{key}, published: ok || exp.IsExpired()}
	if ok {
		if raw, enc := c.encoded(v); enc {
			ch = change{vals: []value{known(key, raw, exp)}, published: true}
		}
	}
	c.wrote(ctx, snap, err, ch)
	return ok, err
}

// Add sets key only if it does not exist.
func (c *core) Add(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	return c.setOne(ctx, "Add", key, value, exp, func() (bool, error) { return c.l2.Add(ctx, key, value, exp) })
}

// Set sets key.
func (c *core) Set(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	return c.setOne(ctx, "Set", key, value, exp, func() (bool, error) { return c.l2.Set(ctx, key, value, exp) })
}

// Replace sets key only if it exists.
func (c *core) Replace(ctx context.Context, key string, value any, exp cache.Expiration) (bool, error) {
	return c.setOne(ctx, "Replace", key, value, exp, func() (bool, error) { return c.l2.Replace(ctx, key, value, exp) })
}

// ReplaceIfEqual sets key only if it holds expected.
func (c *core) ReplaceIfEqual(ctx context.Context, key string, value, expected any, exp cache.Expiration) (bool, error) {
	return c.setOne(ctx, "ReplaceIfEqual", key, value, exp, func() (bool, error) {
		return c.l2.ReplaceIfEqual(ctx, key, value, expected, exp)
	})
}

// SetAll sets every key of values.
func (c *core) SetAll(ctx context.Context, values map[string]any, exp cache.Expiration) (int, error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	if err := c.beginMany(ctx, "SetAll", "values", values == nil, keys); err != nil {
		return 0, err
	}
	snap := c.epoch.Load()
	n, err := c.l2.SetAll(ctx, values, exp)
	ch := change{keys: keys, published: len(keys) > 0 && (n > 0 || exp.IsExpired())}
	if n == len(keys) && n > 0 {
		ch.keys = nil
		for _, k := range keys {
			if raw, ok := c.encoded(values[k]); ok {
				ch.vals = append(ch.vals, known(k, raw, exp))
			} else {
				ch.keys = append(ch.keys, k)
			}
		}
	}
	c.wrote(ctx, snap, err, ch)
	return n, err
}

// removal runs a write that removes or changes keys in L2 in a way L1 does
// not mirror: L1 drops them, and the other instances are told when changed
// says L2 changed.
func (c *core) removal(ctx context.Context, keys []string, write func() (changed bool, err error)) error {
	snap := c.epoch.Load()
	changed, err := write()
	c.wrote(ctx, snap, err, change{keys: keys, published: changed})
	return err
}

// Remove deletes key.
func (c *core) Remove(ctx context.Context, key string) (bool, error) {
	if err := c.begin(ctx, "Remove", key); err != nil {
		return false, err
	}
	var ok bool
	err := c.removal(ctx, []string{key}, func() (bool, error) {
		var err error
		ok, err = c.l2.Remove(ctx, key)
		return ok, err
	})
	return ok, err
}

// RemoveIfEqual deletes key only if it holds expected.
func (c *core) RemoveIfEqual(ctx context.Context, key string, expected any) (bool, error) {
	if err := c.begin(ctx, "RemoveIfEqual", key); err != nil {
		return false, err
	}
	var ok bool
	err := c.removal(ctx, []string{key}, func() (bool, error) {
		var err error
		ok, err = c.l2.RemoveIfEqual(ctx, key, expected)
		return ok, err
	})
	return ok, err
}

// RemoveAll deletes the given keys.
func (c *core) RemoveAll(ctx context.Context, keys []string) (int, error) {
	if err := c.beginMany(ctx, "RemoveAll", "keys", keys == nil, keys); err != nil {
		return 0, err
	}
	var n int
	err := c.removal(ctx, keys, func() (bool, error) {
		var err error
		n, err = c.l2.RemoveAll(ctx, keys)
		return n > 0, err
	})
	return n, err
}

// RemoveByPrefix deletes every key starting with prefix.
func (c *core) RemoveByPrefix(ctx context.Context, prefix string) (int, error) {
	if err := c.begin(ctx, "RemoveByPrefix"); err != nil {
		return 0, err
	}
	snap := c.epoch.Load()
	n, err := c.l2.RemoveByPrefix(ctx, prefix)
	c.wrote(ctx, snap, err, change{prefix: prefix, byPrefix: true, published: n > 0})
	return n, err
}

// number runs a numeric write. newText returns the text L2 now holds at
// key, given the write's result, and whether it is known (L1 then stores
// it); changed says whether L2 changed, so the other instances are told.
func number[T int64 | float64](c *core, ctx context.Context, op, key string, exp cache.Expiration,
	write func() (T, error), newText func(T) ([]byte, bool), changed func(T) bool) (T, error) {
	if err := c.begin(ctx, op, key); err != nil {
		return 0, err
	}
	snap := c.epoch.Load()
	result, err := write()
	ch := change{keys: []string{key}, published: exp.IsExpired() || changed(result)}
	if raw, ok := newText(result); ok && !exp.IsExpired() {
		ch = change{vals: []value{known(key, raw, exp)}, published: true}
	}
	c.wrote(ctx, snap, err, ch)
	return result, err
}

func always[T any](T) bool                { return true }
func nonZero[T int64 | float64](v T) bool { return v != 0 }

// intText is the text INCRBY leaves: the result itself.
func intText(n int64) ([]byte, bool) { return strconv.AppendInt(nil, n, 10), true }

// floatText is the text IncrementFloat leaves when it is known: a whole
// result below 2^53 is written the same by INCRBY, by Redis's INCRBYFLOAT
// and by memorycache; any other is kept only by the store that computed
// it (Redis formats its long double sum its own way), so L1 drops the key.
func floatText(f float64) ([]byte, bool) {
	if f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
		return nil, false
	}
	return strconv.AppendInt(nil, int64(f), 10), true
}

// valueText returns, for a SetIfHigher-like result, the text of value when
// the result says it was stored (not 0: a 0 may also mean "stored 0", or a
// difference lost to rounding, so L1 drops the key).
func valueText[T int64 | float64](v T) func(T) ([]byte, bool) {
	return func(result T) ([]byte, bool) {
		if result == 0 {
			return nil, false
		}
		raw, err := cache.Encode(nil, v)
		return raw, err == nil
	}
}

// Increment adds amount to the integer at key; L1 stores the new value.
func (c *core) Increment(ctx context.Context, key string, amount int64, exp cache.Expiration) (int64, error) {
	return number(c, ctx, "Increment", key, exp, func() (int64, error) { return c.l2.Increment(ctx, key, amount, exp) }, intText, always[int64])
}

// IncrementFloat adds amount to the number at key; L1 stores the new value
// when its text is known (see floatText).
func (c *core) IncrementFloat(ctx context.Context, key string, amount float64, exp cache.Expiration) (float64, error) {
	return number(c, ctx, "IncrementFloat", key, exp, func() (float64, error) { return c.l2.IncrementFloat(ctx, key, amount, exp) }, floatText, always[float64])
}

// SetIfHigher sets key to value if higher; L1 stores value when it was set.
// A result of 0 (nothing changed) publishes nothing.
func (c *core) SetIfHigher(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	return number(c, ctx, "SetIfHigher", key, exp, func() (int64, error) { return c.l2.SetIfHigher(ctx, key, value, exp) }, valueText(value), nonZero[int64])
}

// SetIfHigherFloat sets key to value if higher.
func (c *core) SetIfHigherFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	return number(c, ctx, "SetIfHigherFloat", key, exp, func() (float64, error) { return c.l2.SetIfHigherFloat(ctx, key, value, exp) }, valueText(value), nonZero[float64])
}

// SetIfLower sets key to value if lower.
func (c *core) SetIfLower(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	return number(c, ctx, "SetIfLower", key, exp, func() (int64, error) { return c.l2.SetIfLower(ctx, key, value, exp) }, valueText(value), nonZero[int64])
}

// SetIfLowerFloat sets key to value if lower.
func (c *core) SetIfLowerFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	return number(c, ctx, "SetIfLowerFloat", key, exp, func() (float64, error) { return c.l2.SetIfLowerFloat(ctx, key, value, exp) }, valueText(value), nonZero[float64])
}

// SetExpiration sets the TTL of key in L2; L1 drops key.
func (c *core) SetExpiration(ctx context.Context, key string, exp cache.Expiration) error {
	if err := c.begin(ctx, "SetExpiration", key); err != nil {
		return err
	}
	return c.removal(ctx, []string{key}, func() (bool, error) { return true, c.l2.SetExpiration(ctx, key, exp) })
}

// SetAllExpiration sets the TTLs of keys in L2; L1 drops them.
func (c *core) SetAllExpiration(ctx context.Context, exps map[string]cache.Expiration) error {
	keys := make([]string, 0, len(exps))
	for k := range exps {
		keys = append(keys, k)
	}
	if err := c.beginMany(ctx, "SetAllExpiration", "expirations", exps == nil, keys); err != nil {
		return err
	}
	return c.removal(ctx, keys, func() (bool, error) { return len(keys) > 0, c.l2.SetAllExpiration(ctx, exps) })
}

// ListAdd adds values to the list at key in L2. L1 holds no lists, so
// nothing is published.
func (c *core) ListAdd(ctx context.Context, key string, values []any, exp cache.Expiration) (int64, error) {
	if err := c.begin(ctx, "ListAdd", key); err != nil {
		return 0, err
	}
	return c.l2.ListAdd(ctx, key, values, exp)
}

// ListRemove removes values from the list at key in L2.
func (c *core) ListRemove(ctx context.Context, key string, values []any) (int64, error) {
	if err := c.begin(ctx, "ListRemove", key); err != nil {
		return 0, err
	}
	return c.l2.ListRemove(ctx, key, values)
}
