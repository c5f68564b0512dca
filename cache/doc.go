// Package cache is fanin's shared cache layer: a Go port of the behaviour of
// Foundatio's ICacheClient.
//
// Everything fanin stores in Redis goes through this package. The Client
// interface carries the whole Foundatio method set (get, add, set, replace,
// compare-and-swap, remove by prefix, counters, high/low-water marks,
// expirations and lists whose values expire one by one); Hashes adds the hash
// operations fanin's job store needs, including a streaming HSCAN iterator.
//
// Implementations live in sub-packages:
//
//   - cache/rediscache: Redis, on redis.UniversalClient (standalone, Sentinel
//     or Cluster), every conditional operation one atomic Lua round trip.
//   - cache/memorycache: in-process, with LRU eviction and optional cloning.
//   - cache/hybridcache: memory (L1) in front of a distributed cache (L2),
//     kept coherent with pub/sub invalidation.
//
// NewScoped, in this package, prefixes every key of any Client with a scope.
//
// # Expiration
//
// Every write takes an Expiration. Its zero value, Expiration{}, means "no
// expiration" and removes any TTL the key had. ExpiresIn(d) with d > 0 sets
// a TTL. ExpiresIn(d) with d <= 0 means "already expired": the key is removed
// and the call returns its failure value (false or 0), exactly as the
// expiration table of the Foundatio specification says.
//
// One deliberate departure: Foundatio reads TimeSpan.MaxValue as "no
// expiration", but ExpiresIn(math.MaxInt64) is a TTL like any other, about
// 292 years, and GetExpiration reports the time left of it, never the
// zero Expiration. A Duration has no reserved "forever" value, and giving
// the largest positive one a meaning of its own would surprise more than
// help; write Expiration{} for no expiration.
//
// GetExpiration never reports an existing key as expired: a key in its last
// millisecond on Redis reads as ExpiresIn(time.Millisecond), so passing the
// result back to SetExpiration does not delete it.
//
// # Values
//
// Values are encoded by a Codec (JSON by default). Integers and floats are
// always stored as plain decimal text, so Redis INCRBY and INCRBYFLOAT work on
// them and Get reads them back as numbers. A read returns an Item that tells
// a miss (HasValue false) from a value cached as null (IsNull true). Get
// decodes a value into a Go type and fails with ErrDecode when it cannot
// (a number read into an integer type is read exactly, so a fraction,
// however close to a whole number, or a value out of the type's range is
// ErrDecode naming the value and the type; a float type takes the nearest
// float and refuses only a value beyond its range); TryGet reports such a
// value as absent instead, as Foundatio does. SetUnix,
// SetUnixMilli, GetUnix and GetUnixMilli store and read instants as Unix
// seconds or milliseconds.
//
// # Differences between implementations
//
// The implementations answer every call alike: the same results, the same
// errors (by sentinel), the same stored bytes and TTLs. A differential test
// (differential_test.go) runs seeded random sequences of every method
// against all of them at once, including nil and empty collections,
// numeric edge values and TTLs up to math.MaxInt64, and requires that. The
// differences below are intended; the test tolerates each, and only these:
//
//   - IncrementFloat with a fractional amount (or on a number that is not
//     an integer): Redis adds in 80-bit long double and keeps the sum to 17
//     decimal places, memorycache adds in float64 and keeps the shortest
//     text that reads back as the sum. When the operands and the sum are
//     exact in both (multiples of 1/256 below 2^40, say) the stored text is
//     the same; otherwise its last digits can differ. A whole amount added
//     to an integer is an exact integer sum in both. The test compares
//     IncrementFloat only where both are exact.
//   - Remaining TTLs: Redis counts whole milliseconds (a write rounds its
//     TTL up), memorycache nanoseconds, and each reads its clock at its own
//     moment. memorycache counts expiries from its creation, so a TTL
//     within the cache's age of math.MaxInt64 is clamped and reads back
//     shorter by at most that age. The test compares remaining TTLs to
//     within the time its sequence has run.
//   - Values held by reference: memorycache without CloneValues keeps a
//     value other than a number, []byte or nil as the Go value itself, so
//     Item.Value and Decode into *any give that value (a struct stays a
//     struct) where Redis gives its JSON form (map[string]any), and a
//     caller mutating it mutates the cached value. Decoding into a concrete
//     type gives the same result. The test compares *any results by their
//     JSON form.
//   - Time: an entry whose TTL runs out is seen gone at slightly different
//     moments by each (memorycache by its clock, Redis by the server's),
//     so the test writes no TTL shorter than its run; the conformance suite
//     (cachetest) covers expiry over time.
//   - The hybrid's L1 across instances: after another instance's write, an
//     instance may serve its L1 copy until the invalidation message arrives
//     (at most Config.LocalTTL if the message is lost). A single instance,
//     as in the test, always agrees with its L2.
package cache
