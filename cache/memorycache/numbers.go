package memorycache

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/internal/redisnum"
)

// Numbers are kept as the decimal text Redis keeps, and every numeric
// operation parses and compares that text with Redis's own rules
// (package redisnum), so the answers, errors and stored text are Redis's.
// The one exception is IncrementFloat's arithmetic; see its comment.

// numberUpdate computes the new text from the current one (nil for a
// missing key) and whether to store it.
type numberUpdate func(cur []byte) (next []byte, store bool, err error)

// updateNumber applies fn to the text at key under the lock. An expired
// exp removes the key without calling fn.
func (c *Cache) updateNumber(key string, op string, exp cache.Expiration, fn numberUpdate) error {
	c.mu.Lock()
	defer c.unlock()
	now := c.now()
	c.sweep(now)
	e := c.live(key, now)
	if exp.IsExpired() {
		if e != nil {
			c.drop(e)
		}
		return nil
	}
	var cur []byte
	if e != nil {
		if e.kind != kindValue {
			return wrongType(op, key, e)
		}
		t, err := c.text(e.val)
		if err != nil {
			return fmt.Errorf("memorycache: %s %q: %w", op, key, err)
		}
		cur = t
	}
	next, ok, err := fn(cur)
	if !ok || err != nil {
		return err
	}
	c.put(key, encodedValue(next), deadline(exp, now))
	return nil
}

// notNumber is the error of a numeric operation on text that is not the
// kind of number it needs.
func notNumber(op, key string, cur []byte, want string) error {
	return fmt.Errorf("memorycache: %s %q: %w: %q is not %s", op, key, cache.ErrNotNumber, cur, want)
}

// addInt adds amount to the integer text cur (0 when nil), as INCRBY does.
func addInt(op, key string, cur []byte, amount int64) (int64, error) {
	var n int64
	if cur != nil {
		var ok bool
		if n, ok = redisnum.Int(cur); !ok {
			return 0, notNumber(op, key, cur, "an integer")
		}
	}
	if (amount > 0 && n > math.MaxInt64-amount) || (amount < 0 && n < math.MinInt64-amount) {
		return 0, fmt.Errorf("memorycache: %s %q: increment or decrement would overflow (%d + %d)", op, key, n, amount)
	}
	return n + amount, nil
}

// Increment adds amount to the integer at key. Text that is not an integer
// as Redis INCRBY reads it (a fraction, "007", beyond int64) is
// ErrNotNumber.
func (c *Cache) Increment(ctx context.Context, key string, amount int64, exp cache.Expiration) (int64, error) {
	if err := begin(ctx, "Increment", key); err != nil {
		return 0, err
	}
	var result int64
	err := c.updateNumber(key, "Increment", exp, func(cur []byte) ([]byte, bool, error) {
		n, err := addInt("Increment", key, cur, amount)
		result = n
		return strconv.AppendInt(nil, n, 10), err == nil, err
	})
	return result, err
}

// IncrementFloat adds amount, which must be finite, to the number at key.
// As in Redis, a whole amount added to an integer stays an exact integer
// sum (an overflow is an error); otherwise the sum is computed in float64
// and kept as the shortest text that reads back as it. Redis computes that
// sum in long double and keeps it to 17 decimal places: for sums that are
// not exact in both, the last digits of the stored text can differ (see
// "Differences between implementations" in package cache).
func (c *Cache) IncrementFloat(ctx context.Context, key string, amount float64, exp cache.Expiration) (float64, error) {
	const op = "IncrementFloat"
	if err := begin(ctx, op, key); err != nil {
		return 0, err
	}
	if err := checkFinite(op, key, "amount", amount); err != nil {
		return 0, err
	}
	var result float64
	err := c.updateNumber(key, op, exp, func(cur []byte) ([]byte, bool, error) {
		if whole, ok := redisnum.Whole(amount); ok {
			if _, isInt := redisnum.Int(cur); cur == nil || isInt {
				n, err := addInt(op, key, cur, whole)
				result = float64(n)
				return strconv.AppendInt(nil, n, 10), err == nil, err
			}
		}
		var f float64
		if cur != nil {
			var ok bool
			if f, ok = redisnum.Float(cur); !ok {
				return nil, false, notNumber(op, key, cur, "a number")
			}
		}
		result = f + amount
		if math.IsNaN(result) || math.IsInf(result, 0) {
			return nil, false, fmt.Errorf("memorycache: %s %q: increment would produce NaN or Infinity (%v + %v)", op, key, f, amount)
		}
		return cache.FormatFloat(result), true, nil
	})
	if err != nil {
		return 0, err
	}
	return result, nil
}

// checkFinite rejects NaN and infinities, as rediscache does before
// sending anything.
func checkFinite(op, key, what string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("memorycache: %s %q: %s is %v; want a finite number", op, key, what, f)
	}
	return nil
}

// setIf stores text when the key is missing or text compares to the
// current number as want says (1: higher, -1: lower), as the set_if
// script does, and returns the previous text (nil for a missing key) and
// whether it stored.
func (c *Cache) setIf(op, key string, text []byte, want int, exp cache.Expiration) (old []byte, set bool, err error) {
	err = c.updateNumber(key, op, exp, func(cur []byte) ([]byte, bool, error) {
		if cur != nil {
			if _, ok := redisnum.LuaNumber(cur); !ok {
				return nil, false, notNumber(op, key, cur, "a number")
			}
			if redisnum.Compare(text, cur) != want {
				return nil, false, nil
			}
		}
		old, set = cur, true
		return text, true, nil
	})
	return old, set, err
}

// SetIfHigher sets key to value if higher, returning new minus old.
func (c *Cache) SetIfHigher(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	return setIfNumber(c, ctx, "SetIfHigher", key, value, strconv.AppendInt(nil, value, 10), 1, exp, redisnum.IntDelta)
}

// SetIfLower sets key to value if lower, returning old minus new.
func (c *Cache) SetIfLower(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	return setIfNumber(c, ctx, "SetIfLower", key, value, strconv.AppendInt(nil, value, 10), -1, exp, redisnum.IntDelta)
}

// SetIfHigherFloat sets key to value, which must be finite, if higher,
// returning new minus old.
func (c *Cache) SetIfHigherFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	return setIfNumber(c, ctx, "SetIfHigherFloat", key, value, cache.FormatFloat(value), 1, exp, redisnum.FloatDelta)
}

// SetIfLowerFloat sets key to value, which must be finite, if lower,
// returning old minus new.
func (c *Cache) SetIfLowerFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	return setIfNumber(c, ctx, "SetIfLowerFloat", key, value, cache.FormatFloat(value), -1, exp, redisnum.FloatDelta)
}

// setIfNumber is the SetIfs for either kind of number: text is value as
// Redis would hold it, and delta computes the result from the previous
// text, as rediscache does.
func setIfNumber[T int64 | float64](c *Cache, ctx context.Context, op, key string, value T, text []byte, want int, exp cache.Expiration,
	delta func(T, string, bool) (T, bool)) (T, error) {
	if err := begin(ctx, op, key); err != nil {
		return 0, err
	}
	if err := checkFinite(op, key, "value", float64(value)); err != nil {
		return 0, err
	}
	old, set, err := c.setIf(op, key, text, want, exp)
	switch {
	case err != nil || !set:
		return 0, err
	case old == nil:
		return value, nil
	}
	d, ok := delta(value, string(old), want == 1)
	if !ok {
		return 0, notNumber(op, key, old, "a number")
	}
	return d, nil
}
