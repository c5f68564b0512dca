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
// # Values
//
// Values are encoded by a Codec (JSON by default). Integers and floats are
// always stored as plain decimal text, so Redis INCRBY and INCRBYFLOAT work on
// them and Get reads them back as numbers. A read returns an Item that tells
// a miss (HasValue false) from a value cached as null (IsNull true).
package cache
