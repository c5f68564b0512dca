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
//	<ns>job:{<id>}:result    (written by the coordinator)
//	<ns>jobs                 zset  job ID scored by deadline: the sweeper's index
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
//	open | complete ──Cancel──> cancelled
//
// Only the script call that moves a job from open to complete reports it
// (WriteResult.Completed or Seal's result), so the hand-off to the
// coordinator happens exactly once however often events are delivered.
// The coordinator drives complete → collecting → done/partial/failed with
// Transition.
//
// # Reads
//
// Outputs, Output and Failures read through the cache layer (cache.Hashes).
package workoutput
