package memorycache

import (
	"context"
	"fmt"
	"math"

	"github.com/fanin-dev/fanin/cache"
)

// numberUpdate computes the new number from the current one (exists false
// for a missing key) and whether to store it.
type numberUpdate func(cur number, exists bool) (next number, store bool, err error)

// updateNumber applies fn to the number at key under the lock. An expired
// exp removes the key without calling fn.
func (c *Cache) updateNumber(ctx context.Context, op, key string, exp cache.Expiration, fn numberUpdate) error {
	if err := begin(ctx, op, key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.sweep(now)
	e := c.live(key, now)
	if exp.IsExpired() {
		if e != nil {
			c.drop(e)
		}
		return nil
	}
	var cur number
	if e != nil {
		if e.kind != kindValue {
			return wrongType(op, key, e)
		}
		n, ok := numberOf(e.val)
		if !ok {
			return fmt.Errorf("memorycache: %s %q: %w", op, key, cache.ErrNotNumber)
		}
		cur = n
	}
	next, ok, err := fn(cur, e != nil)
	if !ok || err != nil {
		return err
	}
	s := stored{v: next.value()}
	if c.maxSize > 0 {
		raw, _ := c.encode(s.v) // numbers always encode
		s.size = int64(len(raw))
	}
	c.put(key, s, deadline(exp, now))
	return nil
}

// Increment adds amount to the integer at key. A key holding a number with
// a fractional part is ErrNotNumber, as Redis INCRBY refuses it.
func (c *Cache) Increment(ctx context.Context, key string, amount int64, exp cache.Expiration) (int64, error) {
	var result int64
	err := c.updateNumber(ctx, "Increment", key, exp, func(cur number, exists bool) (number, bool, error) {
		if cur.isFloat {
			return number{}, false, fmt.Errorf("memorycache: Increment %q: %w: %v is not an integer", key, cache.ErrNotNumber, cur.f)
		}
		if (amount > 0 && cur.i > math.MaxInt64-amount) || (amount < 0 && cur.i < math.MinInt64-amount) {
			return number{}, false, fmt.Errorf("memorycache: Increment %q: %d + %d overflows int64", key, cur.i, amount)
		}
		result = cur.i + amount
		return intNumber(result), true, nil
	})
	return result, err
}

// IncrementFloat adds amount to the number at key.
func (c *Cache) IncrementFloat(ctx context.Context, key string, amount float64, exp cache.Expiration) (float64, error) {
	var result float64
	err := c.updateNumber(ctx, "IncrementFloat", key, exp, func(cur number, exists bool) (number, bool, error) {
		result = cur.float() + amount
		if math.IsNaN(result) || math.IsInf(result, 0) {
			return number{}, false, fmt.Errorf("memorycache: IncrementFloat %q: result would be %v", key, result)
		}
		return floatNumber(result), true, nil
	})
	return result, err
}

// compare returns the sign of value - cur, exactly for integers.
func compare(value, cur number) int {
	if !value.isFloat && !cur.isFloat {
		switch {
		case value.i > cur.i:
			return 1
		case value.i < cur.i:
			return -1
		}
		return 0
	}
	switch a, b := value.float(), cur.float(); {
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}

// setIf stores value when the key is missing or compare(value, cur) has
// sign want, and returns |value - cur| (the value itself for a new key).
func (c *Cache) setIf(ctx context.Context, op, key string, value number, want int, exp cache.Expiration) (number, error) {
	var diff number
	err := c.updateNumber(ctx, op, key, exp, func(cur number, exists bool) (number, bool, error) {
		if !exists {
			diff = value
			return value, true, nil
		}
		if compare(value, cur) != want {
			return number{}, false, nil
		}
		if !value.isFloat && !cur.isFloat {
			diff = intNumber((value.i - cur.i) * int64(want))
		} else {
			diff = floatNumber((value.float() - cur.float()) * float64(want))
		}
		return value, true, nil
	})
	return diff, err
}

// SetIfHigher sets key to value if higher, returning new minus old.
func (c *Cache) SetIfHigher(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	d, err := c.setIf(ctx, "SetIfHigher", key, intNumber(value), 1, exp)
	return asInt(d), err
}

// SetIfHigherFloat sets key to value if higher, returning new minus old.
func (c *Cache) SetIfHigherFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	d, err := c.setIf(ctx, "SetIfHigherFloat", key, floatNumber(value), 1, exp)
	return d.float(), err
}

// SetIfLower sets key to value if lower, returning old minus new.
func (c *Cache) SetIfLower(ctx context.Context, key string, value int64, exp cache.Expiration) (int64, error) {
	d, err := c.setIf(ctx, "SetIfLower", key, intNumber(value), -1, exp)
	return asInt(d), err
}

// SetIfLowerFloat sets key to value if lower, returning old minus new.
func (c *Cache) SetIfLowerFloat(ctx context.Context, key string, value float64, exp cache.Expiration) (float64, error) {
	d, err := c.setIf(ctx, "SetIfLowerFloat", key, floatNumber(value), -1, exp)
	return d.float(), err
}

func asInt(n number) int64 {
	if n.isFloat {
		return int64(n.f)
	}
	return n.i
}
