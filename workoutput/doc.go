// Package workoutput owns the state of fanin jobs in Redis: key names, Lua
// scripts, reads and writes.
//
// A job is a set of events (units of work) whose outputs are gathered into
// one Redis hash, one field per event, as in "Caching Distributed Work
// Output in Redis": workers write their outputs on their own schedule, with
// no locking and no last-write-wins clobbering, and the job completes when
// every event has an output or a failure.
//
// # Keys
//
// Every key of a job shares the hash tag {<jobID>}, so on a Redis Cluster a
// job lives in one slot and its scripts are atomic:
//
//	<ns>job:{<id>}:meta      hash  kind, name, state, sealed, total, n, seq,
//	                               created, deadline, retention, chunk,
//	                               maxretry, policy, expires, completed
//	<ns>job:{<id>}:outputs   hash  event ID -> output
//	<ns>job:{<id>}:failures  hash  event ID -> failure (reason, attempts, time)
//	<ns>job:{<id>}:events    set   caller-given event IDs
//	<ns>job:{<id>}:result    string the committed result
//	<ns>fence:job:{<id>}     string highest fencing token accepted (locks)
//	<ns>lock:job:{<id>}      string the coordinator's lock (locks)
//	<ns>lock:job:{<id>}:token string the lock's token counter (locks)
//	<ns>jobs                 zset  job ID scored by deadline: the sweeper's index
//	<ns>completed            pub/sub channel announcing completed jobs
//	<ns>replsync:{<tag>}     string marker of a replicated write (Config.ReplicaAcks), 1 min
//
// Generated event IDs are "#" and a base-36 sequence number; they are
// implied by meta.seq and never stored in the events set.
//
// Every key gets a safety TTL when it is created (deadline + retention +
// Config.SafetyMargin), so an abandoned job never leaks memory.
//
// # States
//
//	open ──(sealed and outputs+failures = total)──> complete ──> collecting ──> done | partial | failed
//	open ──(past its deadline)──> collecting
//	open | complete ──Cancel──> cancelled
//
// Only the script call that moves a job from open to complete reports it
// (WriteResult.Completed or Seal's result), so the hand-off to the
// coordinator happens exactly once however often events are delivered.
// The coordinator drives the rest under the job's lock (LockResource):
// Claim moves a job to collecting under the lock's fencing token (from
// complete; from open past its deadline; from collecting when the previous
// coordinator lost its lock; from done, partial or failed for a replay),
// Gather streams its outputs, and Commit writes the result, the final
// state and the retention TTLs in one script that rejects a stale token.
//
// # Reads
//
// Outputs, Output and Failures read through the cache layer (cache.Hashes).
//
// # Replicated writes
//
// Redis replicates asynchronously, so a failover can lose writes the master
// acknowledged. With Config.ReplicaAcks, every write of the Store runs on
// its slot's master together with a Redis WAIT, in one round trip, and is
// reported done only once that many replicas have it; otherwise it returns
// ErrNotReplicated, to be retried (see replicas.go and docs/RELIABILITY.md).
// SyncReplicas does the same for writes made by other clients, such as
// Asynq's enqueues.
package workoutput
