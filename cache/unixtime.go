package cache

import (
	"context"
	"time"
)

// Instants stored as integers: Unix seconds or milliseconds, as
// Foundatio's SetUnixTimeSecondsAsync and SetUnixTimeMillisecondsAsync
// store them. Being numbers, they can be compared in place with SetIfHigher
// and SetIfLower (keep the latest or earliest instant).

// SetUnix stores t at key as whole Unix seconds (t is truncated).
func SetUnix(ctx context.Context, c Client, key string, t time.Time, exp Expiration) (bool, error) {
	return c.Set(ctx, key, t.Unix(), exp)
}

// SetUnixMilli stores t at key as whole Unix milliseconds (t is truncated).
func SetUnixMilli(ctx context.Context, c Client, key string, t time.Time, exp Expiration) (bool, error) {
	return c.Set(ctx, key, t.UnixMilli(), exp)
}

// GetUnix reads an instant stored as Unix seconds, in UTC. A value that is
// not an integer is an error wrapping ErrDecode.
func GetUnix(ctx context.Context, c Client, key string) (Value[time.Time], error) {
	return getInstant(ctx, c, key, func(n int64) time.Time { return time.Unix(n, 0) })
}

// GetUnixMilli reads an instant stored as Unix milliseconds, in UTC.
func GetUnixMilli(ctx context.Context, c Client, key string) (Value[time.Time], error) {
	return getInstant(ctx, c, key, time.UnixMilli)
}

func getInstant(ctx context.Context, c Client, key string, at func(int64) time.Time) (Value[time.Time], error) {
	n, err := Get[int64](ctx, c, key)
	if err != nil || !n.HasValue || n.IsNull {
		return Value[time.Time]{HasValue: n.HasValue, IsNull: n.IsNull}, err
	}
	return Value[time.Time]{Value: at(n.Value).UTC(), HasValue: true}, nil
}
