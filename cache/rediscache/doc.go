// Package rediscache is the Redis implementation of cache.Client and
// cache.Hashes.
//
// It runs on any redis.UniversalClient: standalone, Sentinel (failover) or
// Cluster. Create a Cache with New; Config's zero value is usable, and
// Config.KeyPrefix namespaces every key so several caches, tenants or test
// runs can share one Redis.
//
// # Atomicity
//
// Every conditional or read-modify-write operation is one atomic round trip:
// Add is SET NX, Replace is SET XX, and ReplaceIfEqual, RemoveIfEqual,
// Increment, IncrementFloat, SetIfHigher, SetIfLower and the list operations
// are Lua scripts (embedded from scripts/*.lua, sent with EVALSHA and EVAL
// as fallback). Each script touches exactly one key, so it runs on a cluster
// whatever the key's slot.
//
// # Storage
//
// Values are encoded with cache.Encode: numbers as decimal text, so INCRBY
// and INCRBYFLOAT work on them and Get reads them back as numbers; []byte as
// given; other values through Config.Codec (JSON by default). Increment uses INCRBY;
// IncrementFloat uses INCRBY for whole amounts such as 2.0 and INCRBYFLOAT
// otherwise.
//
// A list is a sorted set: member = encoded value, score = the value's expiry
// time in unix milliseconds on the server clock (2^53-1 for a value that
// never expires). Reads return only the values whose expiry is in the
// future; writes purge the expired ones and set the key's TTL to that of its
// longest-lived value.
//
// # Expiration
//
// The zero cache.Expiration stores a key without TTL and removes any TTL it
// had (SET without PX, or PERSIST); a positive one sets a TTL in
// milliseconds, rounded up; an expired one deletes the key and the
// operation returns its failure value (false or 0).
//
// # Bulk operations on a cluster
//
// GetAll, SetAll, RemoveAll and the expiration bulk methods never send a
// multi-key command whose keys may lie in different slots: on a single node
// they use MGET or UNLINK with up to Config.BatchSize keys, on a cluster one
// command per key in a pipeline (one round trip per node). RemoveByPrefix
// SCANs every master with a MATCH pattern in which the prefix is escaped, so
// it is taken literally, and UNLINKs each page.
//
// # Errors
//
// An empty key is cache.ErrEmptyKey, a nil value where one is needed
// cache.ErrNilValue, a stored value that is not a number under a numeric
// operation cache.ErrNotNumber, a key of another Redis type ErrWrongType.
// Every failure to talk to Redis (network, server down, timeout) wraps
// cache.ErrUnavailable and the go-redis error; when the context ended, its
// error (context.Canceled or context.DeadlineExceeded) is in the chain too.
// A context that has already ended fails a call before anything is sent,
// with its error. Give the client ContextTimeoutEnabled so deadlines cut
// blocked calls short.
package rediscache
