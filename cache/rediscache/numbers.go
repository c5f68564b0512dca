package rediscache

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/internal/redisnum"
)

// Increment adds amount to the integer at key (a missing key counts as 0)
// with INCRBY and returns the new value, then sets the key's TTL to exp (no
// expiration: PERSIST), all in one Lua script. A stored value that is not an
// integer is an error wrapping cache.ErrNotNumber, and nothing changes. An
// expired exp removes the key and returns 0.
func (c *Cache) Increment(ctx context.Context, key string, amount int64, exp cache.Expiration) (int64, error) {
	if err := begin(ctx, "increment", key); err != nil {
		return 0, err
	}
	if exp.IsExpired() {
		return 0, c.unlink(ctx, "increment", key)
	}
	n, err := c.scripts.incr.Run(ctx, c.client, []string{c.key(key)}, amount, "i", millis(exp)).Int64()
	if err != nil {
		return 0, fail(ctx, "increment", key, err)
	}
	return n, nil
}

// IncrementFloat adds amount to the number at key (a missing key counts as
// 0) and returns the new value, then sets the key's TTL to exp, all in one
// Lua script. A whole-number amount (such as 2.0) uses INCRBY, which keeps
// an integer stored as an integer; INCRBYFLOAT is used for fractional
// amounts, and for whole ones when the stored number is not an integer. A
// stored value that is not a number is an error wrapping cache.ErrNotNumber.
// amount must be finite. An expired exp removes the key and returns 0.
func (c *Cache) IncrementFloat(ctx context.Context, key string, amount float64, exp cache.Expiration) (float64, error) {
	const op = "increment float"
	if err := begin(ctx, op, key); err != nil {
		return 0, err
	}
	if err := checkFinite(op, key, "amount", amount); err != nil {
		return 0, err
	}
	if exp.IsExpired() {
		return 0, c.unlink(ctx, op, key)
	}
	var cmd *redis.Cmd
	if whole, ok := redisnum.Whole(amount); ok {
		cmd = c.scripts.incr.Run(ctx, c.client, []string{c.key(key)}, whole, "w", millis(exp))
	} else {
		cmd = c.scripts.incr.Run(ctx, c.client, []string{c.key(key)}, cache.FormatFloat(amount), "f", millis(exp))
	}
	f, err := cmd.Float64()
	if err != nil {
		return 0, fail(ctx, op, key, err)
	}
	return f, nil
}

// checkFinite rejects NaN and infinities, which Redis cannot store.
func checkFinite(op, key, what string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("rediscache: %s %q: %s is %v; want a finite number", op, key, what, f)
	}
	return nil
}

// SetIfHigher sets key to value if value is higher than the stored number
// (or the key is missing) and returns new minus old: the value itself for a
// new key, 0 when nothing changed (value and TTL untouched). Integers are
// compared exactly, also beyond 2^53. An expired exp removes the key and
// returns 0.
func (c *Cache) SetIfHigher(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	return setIfNumber(c, ctx, "set if higher", key, value, strconv.AppendInt(nil, value, 10), "h", exp, redisnum.IntDelta)
}

// SetIfLower sets key to value if value is lower than the stored number (or
// the key is missing) and returns old minus new: the value itself for a new
// key, 0 when nothing changed. An expired exp removes the key and returns 0.
func (c *Cache) SetIfLower(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	return setIfNumber(c, ctx, "set if lower", key, value, strconv.AppendInt(nil, value, 10), "l", exp, redisnum.IntDelta)
}

// SetIfHigherFloat is SetIfHigher for floating-point values; value must be
// finite.
func (c *Cache) SetIfHigherFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	return setIfNumber(c, ctx, "set if higher float", key, value, cache.FormatFloat(value), "h", exp, redisnum.FloatDelta)
}

// SetIfLowerFloat is SetIfLower for floating-point values; value must be
// finite.
func (c *Cache) SetIfLowerFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	return setIfNumber(c, ctx, "set if lower float", key, value, cache.FormatFloat(value), "l", exp, redisnum.FloatDelta)
}

// setIfNumber is the SetIfs for either kind of number: text is value as
// the script stores it, dir "h" (higher) or "l" (lower), and delta computes
// the result from the previous text.
func setIfNumber[T int64 | float64](c *Cache, ctx context.Context, op, key string, value T, text []byte, dir string, exp cache.Expiration,
	delta func(T, string, bool) (T, bool)) (T, error) {
	if err := begin(ctx, op, key); err != nil {
		return 0, err
	}
	if err := checkFinite(op, key, "value", float64(value)); err != nil {
		return 0, err
	}
	old, set, err := c.setIf(ctx, op, key, text, dir, exp)
	if err != nil || !set {
		return 0, err
	}
	if old == "" {
		return value, nil
	}
	diff, ok := delta(value, old, dir == "h")
	if !ok {
		return 0, fmt.Errorf("rediscache: %s %q: previous value %q: %w", op, key, old, cache.ErrNotNumber)
	}
	return diff, nil
}

// setIf runs the set_if script and returns the previous text ("" for a
// missing key) and whether the value was set. The caller has checked key
// and ctx (begin).
func (c *Cache) setIf(ctx context.Context, op, key string, text []byte, dir string, exp cache.Expiration) (string, bool, error) {
	if exp.IsExpired() {
		return "", false, c.unlink(ctx, op, key)
	}
	reply, err := c.scripts.setIf.Run(ctx, c.client, []string{c.key(key)}, text, dir, millis(exp)).Slice()
	if err != nil {
		return "", false, fail(ctx, op, key, err)
	}
	if len(reply) == 0 || reply[0] != int64(1) {
		return "", false, nil
	}
	if len(reply) < 2 {
		return "", true, nil
	}
	old, _ := reply[1].(string)
	return old, true, nil
}
