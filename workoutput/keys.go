package workoutput

import (
	"strings"

	"github.com/fanin-dev/fanin/locks"
)

// Every Redis key name workoutput uses is built in this file.
//
// The keys of one job share the hash tag {<jobID>}, so on a Redis Cluster
// they live in one slot and a Lua script can touch them together. The job
// index is global and lives in its own slot; no script touches it together
// with a job's keys.
//
// The coordinator locks the resource "job:{<jobID>}" with a locks.Provider
// whose KeyPrefix is the namespace, so the lock key, its token counter and
// the fence key (locks.FenceKey) carry the job's hash tag too: the commit
// script checks the fencing token in the job's own slot.

// jobKeys are the Redis keys of one job.
type jobKeys struct {
	meta     string // hash: kind, name, state, sealed, total, n, seq, times, ...
	outputs  string // hash: event ID -> encoded output
	failures string // hash: event ID -> encoded Failure
	events   string // set: caller-given event IDs (generated IDs are implied by seq)
	result   string // string: the committed result of the coordinator
	adds     string // hash: Add's idempotency key -> first sequence number reserved
	fence    string // string: the highest fencing token accepted (locks.FenceKey)
	token    string // string: the lock's fencing-token counter (see lockTokenKey)
	payloads string // hash: event ID -> payload of a failed event (for Retry)
	errors   string // hash: event ID -> its last failed attempt, while retried
	ids      string // list: caller-given event IDs in the order registered (Gather pages it)
}

// all returns every key of the job, in the order of the KEYS of commit.lua,
// cancel.lua and retry.lua: meta, outputs, failures, events, result, adds,
// fence, token, payloads, errors, ids.
func (k jobKeys) all() []string {
	return []string{k.meta, k.outputs, k.failures, k.events, k.result, k.adds, k.fence, k.token, k.payloads, k.errors, k.ids}
}

// keysOf returns the keys of job id under namespace ns.
func keysOf(ns, id string) jobKeys {
	base := ns + "job:{" + id + "}:"
	return jobKeys{
		meta:     base + "meta",
		outputs:  base + "outputs",
		failures: base + "failures",
		events:   base + "events",
		result:   base + "result",
		adds:     base + "adds",
		fence:    locks.FenceKey(ns, lockResource(id)),
		token:    lockTokenKey(ns, id),
		payloads: base + "payloads",
		errors:   base + "errors",
		ids:      base + "ids",
	}
}

// stagedIDsKeys returns the set and the list in which Open stages a large
// batch of caller-given event IDs of job id before the job exists (see
// Store.Open): under the job's hash tag, so that open.lua can rename them
// into the job's events set and ids list, and unique to one call by token,
// so that concurrent calls for the same job ID never share them.
func stagedIDsKeys(ns, id, token string) (set, list string) {
	base := ns + "job:{" + id + "}:staged:" + token + ":"
	return base + "events", base + "ids"
}

// lockResource is the locks resource of job id: it holds the job's hash tag,
// so every key locks derives from it lives in the job's slot.
func lockResource(id string) string { return "job:{" + id + "}" }

// lockTokenKey is the fencing-token counter locks keeps for the job's lock
// resource under key prefix ns. Commit gives it the job's retention, so it
// lives exactly as long as the job's fence and a job deleted at once leaves
// no key behind.
func lockTokenKey(ns, id string) string { return locks.TokenKey(ns, lockResource(id)) }

// indexKey is the sweeper's index: a sorted set of every job that is not
// finished, scored by the time (Unix ms) by which a sweep must look at it
// (see Store.Sweep).
func indexKey(ns string) string { return ns + "jobs" }

// notifyChannel is the pub/sub channel on which a job's completion is
// announced (message: the job ID), so an idle coordinator starts at once.
func notifyChannel(ns string) string { return ns + "completed" }

// metaPattern is the SCAN pattern matching the meta hash of every job in
// namespace ns (the namespace taken literally).
func metaPattern(ns string) string { return globEscape(ns) + "job:{*}:meta" }

// jobIDOfMeta returns the job ID of a meta key of namespace ns, or "" when
// key is not one.
func jobIDOfMeta(ns, key string) string {
	id, ok := strings.CutPrefix(key, ns+"job:{")
	if !ok {
		return ""
	}
	id, ok = strings.CutSuffix(id, "}:meta")
	if !ok {
		return ""
	}
	return id
}

// globEscape escapes the characters SCAN's MATCH treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// replicaSyncKey is the marker a replicated write sets in the slot of key,
// under key's hash tag (locks.HashTag): SET always reaches the replication
// stream, so the WAIT after it covers every write the master accepted
// before (see replicas.go). It lives one minute. ok is false when key has no
// tag and braces of its own, so no marker can share its slot.
func replicaSyncKey(ns, key string) (marker string, ok bool) {
	tag := locks.HashTag(key)
	if strings.ContainsAny(tag[1:len(tag)-1], "{}") {
		return "", false
	}
	return ns + "replsync:" + tag, true
}
