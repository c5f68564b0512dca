package cache

import (
	"context"
	"errors"
	"strconv"
)

// Value is a typed read result, as Foundatio's CacheValue<T>.
type Value[T any] struct {
	// Value is the decoded value; the zero T on a miss or a null.
	Value T
	// HasValue reports whether the key existed (null counts).
	HasValue bool
	// IsNull reports whether the key held null.
	IsNull bool
}

// ValueOf decodes it into a Value[T].
func ValueOf[T any](it Item) (Value[T], error) {
	out := Value[T]{HasValue: it.HasValue(), IsNull: it.IsNull()}
	if err := it.Decode(&out.Value); err != nil {
		return Value[T]{}, err
	}
	return out, nil
}

// Get reads key from c and decodes it as T.
func Get[T any](ctx context.Context, c Client, key string) (Value[T], error) {
	it, err := c.Get(ctx, key)
	if err != nil {
		return Value[T]{}, err
	}
	return ValueOf[T](it)
}

// TryGet is Get for callers who want Foundatio's behaviour when a value
// cannot be deserialized: a value that cannot be decoded into T (an
// ErrDecode) is reported as absent, HasValue false, rather than as an
// error. Every other error (ErrUnavailable, ErrWrongType, ...) is returned.
func TryGet[T any](ctx context.Context, c Client, key string) (Value[T], error) {
	v, err := Get[T](ctx, c, key)
	if errors.Is(err, ErrDecode) {
		return Value[T]{}, nil
	}
	return v, err
}

// GetAll reads keys from c and decodes each present one as T. Missing keys
// are absent from the map.
func GetAll[T any](ctx context.Context, c Client, keys []string) (map[string]Value[T], error) {
	items, err := c.GetAll(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Value[T], len(items))
	for k, it := range items {
		if !it.HasValue() {
			continue
		}
		v, err := ValueOf[T](it)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// GetList reads a page of the list at key and decodes each value as T. It
// returns nil when the list is missing or has no live values.
func GetList[T any](ctx context.Context, c Client, key string, page Page) ([]T, error) {
	items, err := c.GetList(ctx, key, page)
	if err != nil || items == nil {
		return nil, err
	}
	out := make([]T, len(items))
	for i, it := range items {
		if err := it.Decode(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseNumberAny parses raw as an int64 or a float64, for decoding into an
// interface destination.
func parseNumberAny(raw []byte) (any, bool) {
	s := string(raw)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if len(s) > 0 && (s[0] == '-' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9')) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	return nil, false
}
