package workoutput

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// The fast path of Open: a new job with caller-given IDs, on a Store
// without ReplicaAcks.
//
// open.lua receives every caller-given ID as an argument and hands each to
// SADD and RPUSH: Redis turns each into a Lua string and back, twice, which
// costs it about 1.0 µs per ID where SADD and RPUSH sent as commands cost
// 0.4 (docs/BENCHMARKS.md, issue 17). Here the IDs go to plain commands in
// a MULTI/EXEC transaction, under WATCH of the job's meta hash, after
// open.lua, which creates the job from everything else (its meta, seal and
// completion rule stay in the script):
//
//  1. WATCH meta; EXISTS meta. A job that exists goes to open.lua with its
//     IDs, which answers a retry of the same request and refuses another
//     (nothing of this path is written);
//  2. MULTI; open.lua by its SHA, without IDs, its meta's n counting them
//     (a new job: it deletes an events set and ids list left without meta
//     first); SADD and RPUSH the IDs; PEXPIREAT both at the job's expiry;
//     EXEC.
//
// WATCH makes open.lua find no meta within EXEC, so it creates the job: its
// only other refusal, a call past the deadline, cannot happen (Open takes
// this path only for a deadline after the call's now). A server that lost
// its script cache answers NOSCRIPT for it within EXEC, after which the IDs
// are written without a job: the write loads the script and runs the
// transaction again, whose open.lua deletes them first (they expire with
// the job's keys if it never does). If the job appears between 1 and 2,
// EXEC does nothing and Open starts over.

// errFastOpenExists reports that the fast path found the job's meta: Open
// goes through open.lua.
var errFastOpenExists = errors.New("workoutput: the job exists")

// fastOpen creates a new job with open.lua's arguments args (its IDs left
// out: args counts none) and its caller-given ids, expiring at expires;
// errFastOpenExists when the job's meta exists.
func (s *Store) fastOpen(ctx context.Context, jobID string, args []any, ids []string, expires time.Time) (*redis.Cmd, error) {
	k := keysOf(s.cfg.Namespace, jobID)
	keys := []string{k.meta, k.events, k.outputs, k.failures, k.ids}
	members := stringArgs(ids)
	for loaded := false; ; {
		var open *redis.Cmd
		err := s.client.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Exists(ctx, k.meta).Result()
			if err != nil {
				return err
			}
			if n == 1 {
				return errFastOpenExists
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				open = s.scripts.open.EvalSha(ctx, p, keys, args...)
				p.SAdd(ctx, k.events, members...)
				p.RPush(ctx, k.ids, members...)
				p.PExpireAt(ctx, k.events, expires)
				p.PExpireAt(ctx, k.ids, expires)
				return nil
			})
			return err
		}, k.meta)
		switch {
		case errors.Is(err, redis.TxFailedErr):
			continue // the job appeared: start over
		case err != nil && open != nil && redis.HasErrorPrefix(open.Err(), "NOSCRIPT") && !loaded:
			// The IDs were written without a job: load the script; the
			// next transaction's open.lua deletes them first.
			if lerr := s.scripts.open.Load(ctx, s.client).Err(); lerr != nil {
				return open, lerr
			}
			loaded = true
			continue
		case errors.Is(err, errFastOpenExists):
			return nil, err
		}
		if err != nil && open != nil && open.Err() != nil {
			return open, open.Err()
		}
		return open, err
	}
}
