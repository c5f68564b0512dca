// Package memorycache is an in-process cache.Client and cache.Hashes: the Go
// counterpart of Foundatio's InMemoryCacheClient.
//
// It behaves like the Redis implementation wherever a caller can observe it:
// numbers are kept as int64 or float64 (a float with no fractional part reads
// back as an integer, as Redis text would), Increment and SetIfHigher work on
// them, lists keep a separate expiry per value, and an operation meeting a
// key of the wrong kind (a list under Increment, say) fails with
// ErrWrongType.
//
// By default values are stored by reference: a struct read back is the very
// struct that was written. Config.CloneValues stores the encoded bytes
// instead, so callers never share mutable state with the cache.
//
// Config.MaxItems and Config.MaxMemorySize bound the cache; the least
// recently used key (reads count as use) is evicted first. Expired keys are
// invisible at once and reclaimed on access and by a sweep on every write;
// there is no background goroutine.
package memorycache
