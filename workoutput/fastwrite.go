package workoutput

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The fast path of Write: a chunk's outputs without failures, on a Store
// without ReplicaAcks, the case of almost every write.
//
// write.lua receives every output as an argument of the script, and Redis
// turns each into a Lua string and back into a Redis string to store it:
// that costs Redis more than storing it (docs/BENCHMARKS.md). Here the
// outputs go to a plain HSET in a MULTI/EXEC transaction, under WATCH of the
// job's meta hash, which every change of the job's state writes, and of the
// hashes an output replaces entries of:
//
//  1. WATCH meta, failures, payloads, errors; read the job's state, seq and
//     completedby, which of those hashes exist, and for caller-given IDs
//     whether they are registered (one round trip);
//  2. check as write.lua does: a job that is not accepting writes is
//     skipped, a retry of the write that completed the job gets its answer,
//     an unregistered ID rejects the call (seq and the events set only grow,
//     so a check that passed stays true);
//  3. MULTI; HSET the outputs; HDEL the same events from the failures, the
//     kept payloads and the notes of failed attempts that exist (an output
//     replaces them); finish.lua by its SHA (EVALSHA: an EVAL would send and
//     hash the script's text on every write), which gives a new outputs
//     hash the safety TTL, records omax and checks completion; EXEC.
//
// A server that does not know finish.lua (a restart flushed its script
// cache) answers NOSCRIPT for it inside EXEC, after the outputs were
// written: the write then runs finish.lua on its own, which loads it (only
// when every other command of the transaction succeeded: otherwise the
// write fails with that error). A new outputs hash gets its TTL within the
// transaction (PEXPIREAT at meta.expires, when step 1 found it without
// one), so it never depends on finish.lua; a write that dies before
// finishing is not acknowledged, and its redelivery writes the outputs
// again and finishes them.
//
// If the job's state changed between 1 and 3 (a claim, a cancel, another
// write that completed the job, an Add), EXEC does nothing and the write
// starts over; after a few such conflicts it goes through write.lua, which
// takes no optimistic lock.

// fastWriteAttempts bounds the conflicts of the fast path before Write
// falls back to write.lua.
const fastWriteAttempts = 3

// errFastConflict reports that the fast path met conflicts only.
var errFastConflict = errors.New("workoutput: the job changed during each attempt of the fast write")

// fastWrite writes outputs (event ID, output, ...: pairs) of jobID, none of
// them a failure, as Write does. The first givenOut pairs are those with
// caller-given IDs, gen is the largest generated ID, largest the size of the
// largest output, wid the write's ID ("w:...").
func (s *Store) fastWrite(ctx context.Context, jobID, wid string, pairs []any, givenOut int, gen generatedMax, largest int) (WriteResult, error) {
	k := keysOf(s.cfg.Namespace, jobID)
	ids := make([]string, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		ids = append(ids, pairs[i].(string))
	}
	given := ids[:givenOut]
	givenArgs := stringArgs(given)
	// The hashes an output replaces the entries of its event in.
	replaced := [...]string{k.failures, k.payloads, k.errors}
	for range fastWriteAttempts {
		var res WriteResult
		err := s.client.Watch(ctx, func(tx *redis.Tx) error {
			var meta *redis.SliceCmd
			var ttl *redis.DurationCmd
			var seen *redis.BoolSliceCmd
			var exists [len(replaced)]*redis.IntCmd
			if _, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
				meta = p.HMGet(ctx, k.meta, "state", "seq", "completedby", "expires")
				ttl = p.PTTL(ctx, k.outputs)
				if len(given) > 0 {
					seen = p.SMIsMember(ctx, k.events, givenArgs...)
				}
				for i, key := range replaced {
					exists[i] = p.Exists(ctx, key)
				}
				return nil
			}); err != nil {
				return err
			}
			m := meta.Val()
			text := func(i int) string { v, _ := m[i].(string); return v }
			state := State(text(0))
			switch {
			case state == "":
				return notFound(jobID)
			case state == StateComplete && text(2) == wid:
				res.Completed = true
				return nil
			case !state.accepting():
				res.Skipped = true
				return nil
			}
			if seq := parseInt(text(1)); gen.limit > seq {
				return unknownEvent(jobID, gen.id)
			}
			if seen != nil {
				for i, ok := range seen.Val() {
					if !ok {
						return unknownEvent(jobID, given[i])
					}
				}
			}
			var finish *redis.Cmd
			cmds, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, k.outputs, pairs...)
				if expires := parseInt(text(3)); ttl.Val() < 0 && expires > 0 {
					// A new outputs hash gets its TTL in the transaction
					// too, not only from finish.lua, which a server that
					// lost its script cache runs only after EXEC.
					p.PExpireAt(ctx, k.outputs, time.UnixMilli(expires))
				}
				for i, key := range replaced {
					if exists[i].Val() == 1 {
						p.HDel(ctx, key, ids...)
					}
				}
				finish = s.scripts.finish.EvalSha(ctx, p, []string{k.meta, k.outputs, k.failures}, wid, s.now().UnixMilli(), largest)
				return nil
			})
			if err != nil && redis.HasErrorPrefix(finish.Err(), "NOSCRIPT") && onlyFailed(cmds, finish) {
				// The outputs are written; finish them on their own.
				finish = s.scripts.finish.Run(ctx, s.client, []string{k.meta, k.outputs, k.failures}, wid, s.now().UnixMilli(), largest)
				err = finish.Err()
			}
			if err != nil {
				return txErr(cmds, err)
			}
			res.Completed = finish.Val() == int64(1)
			return nil
		}, k.meta, k.failures, k.payloads, k.errors)
		switch {
		case errors.Is(err, redis.TxFailedErr):
			continue // the job changed: start over
		case err == nil:
			return res, nil
		case errors.Is(err, ErrJobNotFound), errors.Is(err, ErrUnknownEvent):
			return WriteResult{}, err
		}
		return WriteResult{}, s.scriptErr(jobID, err)
	}
	return WriteResult{}, errFastConflict
}

// parseInt parses a decimal; "" or garbage is 0.
func parseInt(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// onlyFailed reports whether cmd is the only command of a transaction's
// cmds that failed.
func onlyFailed(cmds []redis.Cmder, cmd redis.Cmder) bool {
	for _, c := range cmds {
		if c != cmd && c.Err() != nil {
			return false
		}
	}
	return true
}
