// Package memorycache is an in-process cache.Client and cache.Hashes: the Go
// counterpart of Foundatio's InMemoryCacheClient.
//
// It behaves like the Redis implementation wherever a caller can observe it
// (package cache lists the few intended differences): numbers and []byte
// are kept as the bytes Redis would hold, and Increment, IncrementFloat and
// SetIfHigher read, compare and write that text with Redis's own rules;
// lists keep a separate expiry per value; and an operation meeting a key of
// the wrong kind (a list under Increment, say) fails with ErrWrongType.
//
// By default values are stored by reference: a struct read back is the very
// struct that was written. Config.CloneValues stores the encoded bytes
// instead, so callers never share mutable state with the cache.
//
// Config.MaxItems and Config.MaxMemorySize bound the cache; the least
// recently used key (reads count as use) is evicted first. Config.SizeFunc
// measures values, Config.MaxEntrySize refuses an entry too large with
// ErrTooLarge, and Config.OnEvict hears of every entry the cache drops by
// itself (expired or evicted). Stats counts hits, misses, expirations and
// evictions, and gives the current size. Expired keys are invisible at once
// and reclaimed (and reported to OnEvict) on access of the key and by a
// sweep on every write, SetExpiration, Stats and Len, not by reads of other
// keys; there is no background goroutine (see Config.OnEvict).
package memorycache
