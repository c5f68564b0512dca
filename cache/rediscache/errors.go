package rediscache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
)

// ErrWrongType is returned (wrapping Redis's WRONGTYPE reply) when an
// operation meets a key holding another kind of value: a list or a hash
// under Get or Increment, a plain value under ListAdd or HashSet.
// It is cache.ErrWrongType, shared by every implementation.
var ErrWrongType = cache.ErrWrongType

// begin checks the arguments every keyed operation shares: a non-empty key
// and a live context.
func begin(ctx context.Context, op, key string) error {
	if key == "" {
		return fmt.Errorf("rediscache: %s: %w", op, cache.ErrEmptyKey)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rediscache: %s %q: %w", op, key, err)
	}
	return nil
}

// checkKeys checks that keys (named what) is not nil and none of them is
// empty, and that ctx is live.
func checkKeys(ctx context.Context, op, what string, keys []string) error {
	if keys == nil {
		return fmt.Errorf("rediscache: %s: %w", op, cache.NilCollection(what))
	}
	for i, k := range keys {
		if k == "" {
			return fmt.Errorf("rediscache: %s: key %d of %d: %w", op, i+1, len(keys), cache.ErrEmptyKey)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rediscache: %s: %w", op, err)
	}
	return nil
}

// fail turns an error from a Redis call into the error the cache returns:
//
//   - a stored value that is not a number (INCRBY, INCRBYFLOAT, the set_if
//     script) wraps cache.ErrNotNumber;
//   - WRONGTYPE (the key holds another kind of value) wraps ErrWrongType;
//   - an increment that would overflow or give NaN or an infinity is
//     returned as Redis said it, with the operation and key;
//   - everything else (network, server down or loading, timeouts) wraps
//     cache.ErrUnavailable, and also the context's error when the context
//     ended, so errors.Is(err, context.DeadlineExceeded) holds after a
//     deadline.
//
// The Redis error is always in the chain.
func fail(ctx context.Context, op, key string, err error) error {
	where := op
	if key != "" {
		where = fmt.Sprintf("%s %q", op, key)
	}
	msg := err.Error()
	var reply redis.Error
	if errors.As(err, &reply) {
		switch {
		case strings.Contains(msg, "not an integer"), strings.Contains(msg, "not a valid float"),
			strings.HasPrefix(msg, "NOTNUMBER"):
			return fmt.Errorf("rediscache: %s: %w: %w", where, cache.ErrNotNumber, err)
		case isWrongType(err):
			return fmt.Errorf("rediscache: %s: %w: %w", where, ErrWrongType, err)
		case strings.Contains(msg, "would overflow"),
			strings.Contains(msg, "NaN or Infinity"):
			return fmt.Errorf("rediscache: %s: %w", where, err)
		}
	}
	if cerr := contextErr(ctx); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("rediscache: %s: %w: %w: %w", where, cache.ErrUnavailable, cerr, err)
	}
	return fmt.Errorf("rediscache: %s: %w: %w", where, cache.ErrUnavailable, err)
}

// isWrongType reports Redis's WRONGTYPE reply: the key holds another kind
// of value.
func isWrongType(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply) && strings.HasPrefix(err.Error(), "WRONGTYPE")
}

// contextErr returns ctx.Err(), or context.DeadlineExceeded when the
// deadline has passed but the context's timer has not fired yet: the client
// sets the connection deadline to the context's, so a network timeout can be
// seen a moment before ctx.Err() reports it.
func contextErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// encodeErr reports a value the codec could not encode.
func encodeErr(op, key string, err error) error {
	return fmt.Errorf("rediscache: %s %q: %w", op, key, err)
}
