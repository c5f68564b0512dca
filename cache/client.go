package cache

import (
	"context"
	"iter"
)

// Client is a cache: the method set of Foundatio's ICacheClient.
//
// Every method takes a context first and honours its deadline. Keys must be
// non-empty (ErrEmptyKey). Collection arguments (keys, values, maps) must
// not be nil (ErrInvalidArgument); an empty one is valid and does nothing.
// Write methods take an Expiration; see the package documentation for its
// three states. Errors from the backing store wrap ErrUnavailable.
type Client interface {
	// Get reads key. A miss is an Item whose HasValue is false.
	Get(ctx context.Context, key string) (Item, error)
	// GetAll reads keys; every key given is in the map, misses included.
	GetAll(ctx context.Context, keys []string) (map[string]Item, error)

	// Add sets key only if it does not exist, and reports whether it did.
	Add(ctx context.Context, key string, value any, exp Expiration) (bool, error)
	// Set sets key, and reports success (false when exp is already expired).
	Set(ctx context.Context, key string, value any, exp Expiration) (bool, error)
	// SetAll sets every key of values and returns how many were set.
	SetAll(ctx context.Context, values map[string]any, exp Expiration) (int, error)
	// Replace sets key only if it exists.
	Replace(ctx context.Context, key string, value any, exp Expiration) (bool, error)
	// ReplaceIfEqual sets key to value only if it currently holds expected.
	ReplaceIfEqual(ctx context.Context, key string, value, expected any, exp Expiration) (bool, error)

	// Remove deletes key and reports whether it existed.
	Remove(ctx context.Context, key string) (bool, error)
	// RemoveIfEqual deletes key only if it holds expected.
	RemoveIfEqual(ctx context.Context, key string, expected any) (bool, error)
	// RemoveAll deletes the given keys and returns how many existed. Unlike
	// Foundatio it never clears the whole cache: use RemoveByPrefix(ctx, "").
	RemoveAll(ctx context.Context, keys []string) (int, error)
	// RemoveByPrefix deletes every key that starts with prefix, taken
	// literally (no glob or regex meaning), and returns how many it deleted.
	RemoveByPrefix(ctx context.Context, prefix string) (int, error)
	// Exists reports whether key exists.
	Exists(ctx context.Context, key string) (bool, error)

	// Increment adds amount to the integer at key (a missing key counts as
	// 0) and returns the new value; 0 when exp is already expired.
	Increment(ctx context.Context, key string, amount int64, exp Expiration) (int64, error)
	// IncrementFloat adds amount to the number at key and returns the new
	// value; 0 when exp is already expired.
	IncrementFloat(ctx context.Context, key string, amount float64, exp Expiration) (float64, error)
	// SetIfHigher sets key to value if value is higher than the current one
	// (or the key is missing) and returns new minus old: the value itself for
	// a new key, 0 when nothing changed (value and TTL untouched).
	SetIfHigher(ctx context.Context, key string, value int64, exp Expiration) (int64, error)
	// SetIfHigherFloat is SetIfHigher for floating-point values.
	SetIfHigherFloat(ctx context.Context, key string, value float64, exp Expiration) (float64, error)
	// SetIfLower sets key to value if value is lower than the current one (or
	// the key is missing) and returns old minus new: the value itself for a
	// new key, 0 when nothing changed.
	SetIfLower(ctx context.Context, key string, value int64, exp Expiration) (int64, error)
	// SetIfLowerFloat is SetIfLower for floating-point values.
	SetIfLowerFloat(ctx context.Context, key string, value float64, exp Expiration) (float64, error)

	// GetExpiration returns the remaining TTL of key; the zero Expiration
	// when the key is missing or has no TTL.
	GetExpiration(ctx context.Context, key string) (Expiration, error)
	// GetAllExpiration returns the TTL of each existing key given; missing
	// keys are absent, keys without TTL map to the zero Expiration.
	GetAllExpiration(ctx context.Context, keys []string) (map[string]Expiration, error)
	// SetExpiration sets the TTL of an existing key: the zero Expiration
	// removes it, an expired one removes the key.
	SetExpiration(ctx context.Context, key string, exp Expiration) error
	// SetAllExpiration applies SetExpiration to every key of exps.
	SetAllExpiration(ctx context.Context, exps map[string]Expiration) error

	// ListAdd adds values to the list at key, each value expiring on its own
	// after exp, and returns how many were new. The key lives as long as its
	// longest-lived value. An expired exp removes the given values and
	// returns 0.
	ListAdd(ctx context.Context, key string, values []any, exp Expiration) (int64, error)
	// ListRemove removes values from the list and returns how many it
	// removed; the key's expiration is unchanged.
	ListRemove(ctx context.Context, key string, values []any) (int64, error)
	// GetList returns one page of the live values of the list at key (in
	// order of expiry, then value), or nil when it has none.
	GetList(ctx context.Context, key string, page Page) ([]Item, error)
}

// Page selects part of a list. The zero Page selects every value.
type Page struct {
	// Number is the 0-based page index.
	Number int
	// Size is the number of values per page; 0 means all values.
	Size int
}

// HashField is one field of a hash, as yielded by Hashes.HashScan.
type HashField struct {
	// Field is the field name.
	Field string
	// Item is the field's value.
	Item Item
}

// Hashes are the hash operations fanin's job store needs: one hash per job,
// one field per unit of work.
type Hashes interface {
	// HashSet sets field of the hash at key and reports whether the field is
	// new.
	HashSet(ctx context.Context, key, field string, value any) (bool, error)
	// HashGet reads one field; a miss is an Item whose HasValue is false.
	HashGet(ctx context.Context, key, field string) (Item, error)
	// HashGetMany reads fields, in the order given; misses included.
	HashGetMany(ctx context.Context, key string, fields []string) ([]Item, error)
	// HashLen returns the number of fields of the hash (0 when missing).
	HashLen(ctx context.Context, key string) (int64, error)
	// HashDelete deletes fields and returns how many existed.
	HashDelete(ctx context.Context, key string, fields ...string) (int64, error)
	// HashScan streams the hash page by page (HSCAN with COUNT pageSize;
	// pageSize <= 0 means 1000), so a caller never holds the whole hash. A
	// field present for the whole scan is yielded at least once; an error
	// ends the sequence as its last pair.
	HashScan(ctx context.Context, key string, pageSize int) iter.Seq2[HashField, error]
}
