package cache

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
)

// ErrUnsupported is returned by a wrapper asked for an operation its inner
// client does not implement, such as Scoped's hash methods over a Client
// that is not also Hashes.
var ErrUnsupported = errors.New("cache: operation not supported by the wrapped client")

// Scoped prefixes every key of an inner Client with its scope and ":", as
// Foundatio's ScopedCacheClient does, so several tenants or features can
// share one cache without seeing each other's keys. RemoveByPrefix(ctx, "")
// clears its scope only. Keys it returns (GetAll, GetAllExpiration) are
// given without the prefix. Hash fields are not prefixed, only keys.
//
// Scoped implements Hashes; the hash methods fail with ErrUnsupported when
// the inner client does not implement Hashes.
type Scoped struct {
	inner  Client
	scope  string
	prefix string
}

var (
	_ Client = (*Scoped)(nil)
	_ Hashes = (*Scoped)(nil)
)

// NewScoped returns c seen through scope. The scope must not be empty; it is
// used as given (not trimmed), and scopes nest: NewScoped(NewScoped(c, "a"),
// "b") stores key k as "a:b:k".
func NewScoped(c Client, scope string) (*Scoped, error) {
	if c == nil {
		return nil, errors.New("cache: NewScoped: client must not be nil")
	}
	if scope == "" {
		return nil, fmt.Errorf("cache: NewScoped: scope: %w", ErrEmptyKey)
	}
	return &Scoped{inner: c, scope: scope, prefix: scope + ":"}, nil
}

// Scope returns the scope given to NewScoped.
func (s *Scoped) Scope() string { return s.scope }

// Inner returns the wrapped client.
func (s *Scoped) Inner() Client { return s.inner }

// key prefixes one key, refusing an empty one (which would otherwise name
// the bare prefix).
func (s *Scoped) key(op, key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("cache: scoped %s: %w", op, ErrEmptyKey)
	}
	return s.prefix + key, nil
}

func (s *Scoped) keys(op string, keys []string) ([]string, error) {
	if keys == nil {
		return nil, nil // the inner client refuses it
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		pk, err := s.key(op, k)
		if err != nil {
			return nil, err
		}
		out[i] = pk
	}
	return out, nil
}

// unscope maps a result keyed by prefixed keys back to the caller's keys.
func unscope[V any](s *Scoped, in map[string]V) map[string]V {
	out := make(map[string]V, len(in))
	for k, v := range in {
		out[strings.TrimPrefix(k, s.prefix)] = v
	}
	return out
}

// scopedMap prefixes the keys of a map argument.
func scopedMap[V any](s *Scoped, op string, in map[string]V) (map[string]V, error) {
	if in == nil {
		return nil, nil // the inner client refuses it
	}
	out := make(map[string]V, len(in))
	for k, v := range in {
		pk, err := s.key(op, k)
		if err != nil {
			return nil, err
		}
		out[pk] = v
	}
	return out, nil
}

// Get reads key in the scope.
func (s *Scoped) Get(ctx context.Context, key string) (Item, error) {
	k, err := s.key("Get", key)
	if err != nil {
		return Item{}, err
	}
	return s.inner.Get(ctx, k)
}

// GetAll reads keys in the scope; the map is keyed by the keys given.
func (s *Scoped) GetAll(ctx context.Context, keys []string) (map[string]Item, error) {
	ks, err := s.keys("GetAll", keys)
	if err != nil {
		return nil, err
	}
	m, err := s.inner.GetAll(ctx, ks)
	if err != nil {
		return nil, err
	}
	return unscope(s, m), nil
}

// Add sets key in the scope only if it does not exist.
func (s *Scoped) Add(ctx context.Context, key string, value any, exp Expiration) (bool, error) {
	k, err := s.key("Add", key)
	if err != nil {
		return false, err
	}
	return s.inner.Add(ctx, k, value, exp)
}

// Set sets key in the scope.
func (s *Scoped) Set(ctx context.Context, key string, value any, exp Expiration) (bool, error) {
	k, err := s.key("Set", key)
	if err != nil {
		return false, err
	}
	return s.inner.Set(ctx, k, value, exp)
}

// SetAll sets every key of values in the scope.
func (s *Scoped) SetAll(ctx context.Context, values map[string]any, exp Expiration) (int, error) {
	m, err := scopedMap(s, "SetAll", values)
	if err != nil {
		return 0, err
	}
	return s.inner.SetAll(ctx, m, exp)
}

// Replace sets key in the scope only if it exists.
func (s *Scoped) Replace(ctx context.Context, key string, value any, exp Expiration) (bool, error) {
	k, err := s.key("Replace", key)
	if err != nil {
		return false, err
	}
	return s.inner.Replace(ctx, k, value, exp)
}

// ReplaceIfEqual sets key in the scope only if it holds expected.
func (s *Scoped) ReplaceIfEqual(ctx context.Context, key string, value, expected any, exp Expiration) (bool, error) {
	k, err := s.key("ReplaceIfEqual", key)
	if err != nil {
		return false, err
	}
	return s.inner.ReplaceIfEqual(ctx, k, value, expected, exp)
}

// Remove deletes key in the scope.
func (s *Scoped) Remove(ctx context.Context, key string) (bool, error) {
	k, err := s.key("Remove", key)
	if err != nil {
		return false, err
	}
	return s.inner.Remove(ctx, k)
}

// RemoveIfEqual deletes key in the scope only if it holds expected.
func (s *Scoped) RemoveIfEqual(ctx context.Context, key string, expected any) (bool, error) {
	k, err := s.key("RemoveIfEqual", key)
	if err != nil {
		return false, err
	}
	return s.inner.RemoveIfEqual(ctx, k, expected)
}

// RemoveAll deletes the given keys in the scope.
func (s *Scoped) RemoveAll(ctx context.Context, keys []string) (int, error) {
	ks, err := s.keys("RemoveAll", keys)
	if err != nil {
		return 0, err
	}
	return s.inner.RemoveAll(ctx, ks)
}

// RemoveByPrefix deletes every key of the scope starting with prefix; the
// empty prefix clears the scope, and only it.
func (s *Scoped) RemoveByPrefix(ctx context.Context, prefix string) (int, error) {
	return s.inner.RemoveByPrefix(ctx, s.prefix+prefix)
}

// Exists reports whether key exists in the scope.
func (s *Scoped) Exists(ctx context.Context, key string) (bool, error) {
	k, err := s.key("Exists", key)
	if err != nil {
		return false, err
	}
	return s.inner.Exists(ctx, k)
}

// Increment adds amount to the integer at key in the scope.
func (s *Scoped) Increment(ctx context.Context, key string, amount int64, exp Expiration) (int64, error) {
	k, err := s.key("Increment", key)
	if err != nil {
		return 0, err
	}
	return s.inner.Increment(ctx, k, amount, exp)
}

// IncrementFloat adds amount to the number at key in the scope.
func (s *Scoped) IncrementFloat(ctx context.Context, key string, amount float64, exp Expiration) (float64, error) {
	k, err := s.key("IncrementFloat", key)
	if err != nil {
		return 0, err
	}
	return s.inner.IncrementFloat(ctx, k, amount, exp)
}

// SetIfHigher sets key in the scope to value if higher.
func (s *Scoped) SetIfHigher(ctx context.Context, key string, value int64, exp Expiration) (int64, error) {
	k, err := s.key("SetIfHigher", key)
	if err != nil {
		return 0, err
	}
	return s.inner.SetIfHigher(ctx, k, value, exp)
}

// SetIfHigherFloat sets key in the scope to value if higher.
func (s *Scoped) SetIfHigherFloat(ctx context.Context, key string, value float64, exp Expiration) (float64, error) {
	k, err := s.key("SetIfHigherFloat", key)
	if err != nil {
		return 0, err
	}
	return s.inner.SetIfHigherFloat(ctx, k, value, exp)
}

// SetIfLower sets key in the scope to value if lower.
func (s *Scoped) SetIfLower(ctx context.Context, key string, value int64, exp Expiration) (int64, error) {
	k, err := s.key("SetIfLower", key)
	if err != nil {
		return 0, err
	}
	return s.inner.SetIfLower(ctx, k, value, exp)
}

// SetIfLowerFloat sets key in the scope to value if lower.
func (s *Scoped) SetIfLowerFloat(ctx context.Context, key string, value float64, exp Expiration) (float64, error) {
	k, err := s.key("SetIfLowerFloat", key)
	if err != nil {
		return 0, err
	}
	return s.inner.SetIfLowerFloat(ctx, k, value, exp)
}

// GetExpiration returns the remaining TTL of key in the scope.
func (s *Scoped) GetExpiration(ctx context.Context, key string) (Expiration, error) {
	k, err := s.key("GetExpiration", key)
	if err != nil {
		return Expiration{}, err
	}
	return s.inner.GetExpiration(ctx, k)
}

// GetAllExpiration returns the TTLs of keys in the scope, keyed by the keys
// given.
func (s *Scoped) GetAllExpiration(ctx context.Context, keys []string) (map[string]Expiration, error) {
	ks, err := s.keys("GetAllExpiration", keys)
	if err != nil {
		return nil, err
	}
	m, err := s.inner.GetAllExpiration(ctx, ks)
	if err != nil {
		return nil, err
	}
	return unscope(s, m), nil
}

// SetExpiration sets the TTL of key in the scope.
func (s *Scoped) SetExpiration(ctx context.Context, key string, exp Expiration) error {
	k, err := s.key("SetExpiration", key)
	if err != nil {
		return err
	}
	return s.inner.SetExpiration(ctx, k, exp)
}

// SetAllExpiration sets the TTLs of keys in the scope.
func (s *Scoped) SetAllExpiration(ctx context.Context, exps map[string]Expiration) error {
	m, err := scopedMap(s, "SetAllExpiration", exps)
	if err != nil {
		return err
	}
	return s.inner.SetAllExpiration(ctx, m)
}

// ListAdd adds values to the list at key in the scope.
func (s *Scoped) ListAdd(ctx context.Context, key string, values []any, exp Expiration) (int64, error) {
	k, err := s.key("ListAdd", key)
	if err != nil {
		return 0, err
	}
	return s.inner.ListAdd(ctx, k, values, exp)
}

// ListRemove removes values from the list at key in the scope.
func (s *Scoped) ListRemove(ctx context.Context, key string, values []any) (int64, error) {
	k, err := s.key("ListRemove", key)
	if err != nil {
		return 0, err
	}
	return s.inner.ListRemove(ctx, k, values)
}

// GetList returns a page of the list at key in the scope.
func (s *Scoped) GetList(ctx context.Context, key string, page Page) ([]Item, error) {
	k, err := s.key("GetList", key)
	if err != nil {
		return nil, err
	}
	return s.inner.GetList(ctx, k, page)
}

// hashes returns the inner client's Hashes and the prefixed key.
func (s *Scoped) hashes(op, key string) (Hashes, string, error) {
	h, ok := s.inner.(Hashes)
	if !ok {
		return nil, "", fmt.Errorf("cache: scoped %s: inner client %T does not implement cache.Hashes: %w", op, s.inner, ErrUnsupported)
	}
	k, err := s.key(op, key)
	if err != nil {
		return nil, "", err
	}
	return h, k, nil
}

// HashSet sets field of the hash at key in the scope.
func (s *Scoped) HashSet(ctx context.Context, key, field string, value any) (bool, error) {
	h, k, err := s.hashes("HashSet", key)
	if err != nil {
		return false, err
	}
	return h.HashSet(ctx, k, field, value)
}

// HashGet reads one field of the hash at key in the scope.
func (s *Scoped) HashGet(ctx context.Context, key, field string) (Item, error) {
	h, k, err := s.hashes("HashGet", key)
	if err != nil {
		return Item{}, err
	}
	return h.HashGet(ctx, k, field)
}

// HashGetMany reads fields of the hash at key in the scope.
func (s *Scoped) HashGetMany(ctx context.Context, key string, fields []string) ([]Item, error) {
	h, k, err := s.hashes("HashGetMany", key)
	if err != nil {
		return nil, err
	}
	return h.HashGetMany(ctx, k, fields)
}

// HashLen returns the number of fields of the hash at key in the scope.
func (s *Scoped) HashLen(ctx context.Context, key string) (int64, error) {
	h, k, err := s.hashes("HashLen", key)
	if err != nil {
		return 0, err
	}
	return h.HashLen(ctx, k)
}

// HashDelete deletes fields of the hash at key in the scope.
func (s *Scoped) HashDelete(ctx context.Context, key string, fields ...string) (int64, error) {
	h, k, err := s.hashes("HashDelete", key)
	if err != nil {
		return 0, err
	}
	return h.HashDelete(ctx, k, fields...)
}

// HashScan streams the hash at key in the scope.
func (s *Scoped) HashScan(ctx context.Context, key string, pageSize int) iter.Seq2[HashField, error] {
	h, k, err := s.hashes("HashScan", key)
	if err != nil {
		return func(yield func(HashField, error) bool) { yield(HashField{}, err) }
	}
	return h.HashScan(ctx, k, pageSize)
}
