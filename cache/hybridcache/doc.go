// Package hybridcache puts an in-process cache (L1, a memorycache) in front
// of a distributed cache (L2, usually rediscache), the Go counterpart of
// Foundatio's HybridCacheClient and HybridAwareCacheClient.
//
// Reads try L1 first and fall back to L2, copying what they find into L1
// for no longer than its remaining TTL in L2 (and no longer than
// Config.LocalTTL). Writes go to L2 first and reach L1 only when L2
// succeeded: the value written, or the new number of Increment and the
// SetIfs. Every write or removal then publishes an invalidation message on
// a Redis pub/sub channel naming just the keys it touched (a prefix for
// RemoveByPrefix, "all" for RemoveByPrefix(ctx, "")), with, for each key
// left holding a known value, a digest of the bytes L2 now holds and their
// TTL. Every other instance drops those keys from its L1, except a copy
// that holds exactly those bytes: that one is fresh, and is kept with the
// new TTL. An instance ignores its own messages.
//
// A read that fills L1 while writes or messages arrive stores what it read
// only if no change since it began left its key with other bytes, so a
// message overtaking the read never makes L1 stale, and a message that
// only confirms the read does not cost the copy.
//
// L1 holds values encoded, exactly as L2 does: a hit decodes just as an L2
// read would, and callers mutating what they read or wrote can never make
// L1 and L2 disagree. Lists, hashes, Exists and expirations are always read
// from L2.
//
// Pub/sub delivers at most once: a message published while an instance's
// subscription is down is lost. An instance therefore empties its L1
// whenever its subscription breaks or is re-established, and LocalTTL bounds
// how long any L1 entry can outlive a lost message.
//
// Aware (NewAware) is the writer-only variant: it writes to L2 and publishes
// the same messages, keeping no L1, for services that write what Hybrid
// instances elsewhere read.
package hybridcache
