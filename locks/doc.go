// Package locks provides distributed locks that are safe to finalize with:
// every acquisition carries a fencing token, and a Fence on the sink side
// rejects the writes of a holder whose lock has passed to someone else.
//
// A lock alone cannot make a write happen once. A holder can stall past its
// TTL (a GC pause, a stopped process, a network cut), the lock expires, a
// second holder takes it, and the first wakes up still believing it holds
// the lock. Tokens fix that: each acquisition of a resource gets an integer
// greater than every earlier one, and the sink accepts a write only when its
// token is at least the highest it has seen. Once the second holder has
// written, the first holder's writes are rejected with ErrFenced.
//
// # Provider
//
// A Provider runs on Redis (Config.Redis, the fast path) or on any
// cache.Client (Config.Cache, the generic path of Foundatio's
// CacheLockProvider: Add with a random owner id, ReplaceIfEqual to renew,
// RemoveIfEqual to release).
//
// On Redis, each operation is one Lua round trip:
//
//   - acquire: SET the lock to a random owner id, NX with its TTL, and when
//     that succeeds INCR the resource's token counter: the new value is the
//     lock's token. Otherwise return the holder's remaining TTL (and, for a
//     caller about to wait, mark the lock as waited for);
//   - renew: PEXPIRE only if the lock still holds our owner id (never
//     recreates the key);
//   - release: DEL only if the lock still holds our owner id, then, if the
//     lock is marked as waited for, PUBLISH the resource on the release
//     channel.
//
// While a lock is held, its token counter holds the holder's token. On the
// generic path the lock holds "<owner>:<token>": the token is taken after
// Add succeeds and written with ReplaceIfEqual, which proves the lock was
// still held when its token was issued.
//
// The lock key and the token counter share the resource's hash tag (see
// HashTag), so the scripts work on Redis Cluster.
//
// # Waiting
//
// Acquire waits without busy loops. Each Provider holds one pub/sub
// subscription to the release channel, shared by all its waiting calls; a
// release wakes the longest-waiting call for that resource in each Provider
// (a release by the same Provider wakes it directly). A waiter also retries
// after the holder's remaining TTL, clamped to [MinPoll, MaxPoll] (50 ms to
// 3 s), so a lost message costs at most that. On the generic path only
// releases by the same Provider wake waiters; others are found by polling.
//
// The release channel is a plain pub/sub channel, not a sharded one: on a
// Cluster a PUBLISH reaches the subscribers of every node, so one connection
// per Provider hears the releases of every slot. A release publishes only
// while the lock is marked as waited for, so uncontended locks cost no
// pub/sub traffic.
//
// AcquireAll takes several resources, all or nothing, in sorted order;
// while it waits for one, it renews the locks it already holds, so none
// expires meanwhile. A Lock tells when it was acquired (AcquiredAt), how
// long its caller waited (Waited) and how often it was renewed (Renewals).
//
// # Watchdog
//
// Lock.Watch renews a lock every third of its TTL while the holder works.
// Its Context is cancelled, with cause ErrLost, when the lock is lost, and
// Lost delivers the loss. Provider.Do acquires a lock, runs a function
// under its watchdog and releases it afterwards, also when the function
// panics (the panic then goes on to Do's caller).
//
// # Administrative release
//
// Provider.ForceRelease releases a resource without its handle, for
// operators clearing a lock whose holder is gone. It breaks mutual
// exclusion on purpose: a holder still running loses the lock without
// noticing until it next renews or releases; the fencing tokens keep its
// late writes out.
//
// # Fence
//
// Fence.CommitIfFenced writes a key only if the token is current, in one
// atomic step; the sink key must carry the resource's hash tag. Scripts of
// other packages embed the same check with FenceLua and FenceKey.
//
// # Throttling
//
// Throttling allows at most MaxHits acquisitions of a resource per period,
// like Foundatio's ThrottlingLockProvider.
//
// # Keys
//
// For resource R under KeyPrefix P (R is used as is when it already holds a
// hash tag, otherwise it is wrapped in braces; ResourceKeys lists them):
//
//	P lock:{R}           the lock: the owner id, with the lock's TTL
//	P lock:{R}:token     the token counter (no TTL unless Config.TokenTTL)
//	P lock:{R}:waiting   set (for 9 s) by an Acquire about to wait
//	P fence:{R}          the highest token the sink accepted
//	P throttle:{R}       Throttling's counter of the current period
//	P lock:released      the release channel; messages "<provider id>:<R>"
package locks
