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
//	                               maxretry, policy, expires, completed, ...
//	<ns>job:{<id>}:outputs   hash  event ID -> output
//	<ns>job:{<id>}:failures  hash  event ID -> failure (reason, attempts, time)
//	<ns>job:{<id>}:events    set   caller-given event IDs
//	<ns>job:{<id>}:ids       list  caller-given event IDs in the order registered,
//	                               paged by Gather
//	<ns>job:{<id>}:result    string the committed result
//	<ns>job:{<id>}:adds      hash  Add's idempotency key -> first sequence number
//	<ns>job:{<id>}:payloads  hash  event ID -> payload of a failed event, for Retry
//	<ns>job:{<id>}:errors    hash  event ID -> last failed attempt, while retried (Note)
//	<ns>job:{<id>}:staged:<call>:events, ...:ids
//	                         set, list  caller-given IDs an Open stages before it
//	                               creates the job (over a thousand), 10 min
//	<ns>fence:job:{<id>}     string highest fencing token accepted (locks)
//	<ns>lock:job:{<id>}      string the coordinator's lock (locks)
//	<ns>lock:job:{<id>}:token string the lock's token counter (locks)
//	<ns>jobs                 zset  unfinished job IDs scored by the time a sweep
//	                               must look at them: the sweeper's index
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
// lifecycle.go owns the state machine (Transitions); every script moves a
// job only through it:
//
//	open ──Seal──> running ──(last event finished)──> complete ──Claim──> collecting ──Commit──> done | partial | failed
//	open | running ──(Claim past the deadline)──> collecting
//	collecting ──(Claim by a newer token)──> collecting
//	done | partial | failed ──(Claim in ClaimReplay mode)──> collecting
//	open | running | complete ──Cancel──> cancelled
//	partial | failed ──Retry──> running
//
// Only the script call that moves a job from running to complete reports it
// (WriteResult.Completed or Seal's result), so the hand-off to the
// coordinator happens once however often events are delivered. Every write
// is idempotent: a retry after a lost reply gets the first call's answer
// (Open by its request's fingerprint, Add by Batch.Key, Write by Record.ID,
// Claim and Commit by the token, Retry by its key). Write accepts registered event IDs only;
// Commit accepts only the claim's token and a final state true to the
// events (done needs a sealed job whose every event has an output).
//
// # The index
//
// The sweeper's index holds every unfinished job, scored by the time a sweep
// must look at it: its deadline plus Config.SweepDelay, sooner once it is
// announced complete (Notify, MarkDue), the end of a claim's lease once
// claimed. Sweep takes the due jobs only, leasing each, so its cost follows
// what is due and two coordinators never take the same job.
//
// # Failed attempts and retries
//
// Note records failed attempts of events that will be retried, at once
// (Status.Retrying, Status.LastError, Attempts): of registered events that
// have neither an output nor a failure yet. Retry is idempotent by its key:
// the job remembers every retry's key and first answer. A failure written with its
// event's payload (Failure.Payload) keeps it until the event has an
// output, so Retry can put a failed or partial job's failed events back to
// work (the caller enqueues them again: Retryable, Payloads).
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
