package workoutput

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The sweeper's index.
//
// <ns>jobs is a sorted set of every job that is not finished, scored by the
// time (Unix ms) by which a sweep must look at it: an open or running job at
// its deadline plus Config.SweepDelay, a job announced complete SweepDelay
// after the announcement, a claimed job when its claim's lease runs out. A
// sweep takes only the entries that are due, so its cost follows what is
// due, not what exists.
//
// The index lives in its own slot, so no script changes it together with a
// job; the order of the writes keeps it right:
//
//  1. Open indexes a job before creating it, and open.lua refuses to create
//     a job past its deadline: a job that exists is indexed, and an entry
//     that is due with no job behind it can be dropped.
//  2. Claim indexes the job (again) before claiming it, at the end of the
//     claim's lease: a replay of a finished job, which the index had
//     dropped, is due for a takeover if its coordinator dies.
//  3. An entry is removed only when its job is finished (Commit, Cancel,
//     or a sweep that finds it so) or gone.

// indexAt sets jobID's due time in the index to at.
func (s *Store) indexAt(ctx context.Context, jobID string, at time.Time) error {
	return s.index(ctx, jobID, redis.ZAddArgs{Members: []redis.Z{{Score: float64(at.UnixMilli()), Member: jobID}}})
}

// indexNew indexes jobID, due at at, unless it is indexed already.
func (s *Store) indexNew(ctx context.Context, jobID string, at time.Time) error {
	return s.index(ctx, jobID, redis.ZAddArgs{NX: true, Members: []redis.Z{{Score: float64(at.UnixMilli()), Member: jobID}}})
}

// index runs one ZADD of jobID on the index.
func (s *Store) index(ctx context.Context, jobID string, args redis.ZAddArgs) error {
	idx := indexKey(s.cfg.Namespace)
	var cmd *redis.IntCmd
	if err := s.replicated(ctx, idx, func(p redis.Pipeliner) { cmd = p.ZAddArgs(ctx, idx, args) }); err != nil {
		return err
	}
	if err := cmd.Err(); err != nil {
		return redisErr("index job "+jobID, err)
	}
	return nil
}

// unindex removes a finished job from the index. It is best effort: a
// sweep drops the entry of a finished job anyway when it comes due.
func (s *Store) unindex(ctx context.Context, jobID string) {
	_ = s.client.ZRem(context.WithoutCancel(ctx), indexKey(s.cfg.Namespace), jobID).Err()
}

// NotifyChannel returns the pub/sub channel on which Notify announces
// completed jobs (the message is the job ID).
func (s *Store) NotifyChannel() string { return notifyChannel(s.cfg.Namespace) }

// MarkDue makes the sweeper look at jobID within Config.SweepDelay: its
// index entry, if it has one, becomes due then unless it is due sooner. A
// sweep that finds the job complete collects it; one that finds it still
// open or running puts it back to its deadline. It changes nothing else, so
// calling it for any job, or twice, is harmless. A producer calls it before
// a Seal that may complete the job, so that a crash before the hand-off
// costs SweepDelay, not the job's deadline.
func (s *Store) MarkDue(ctx context.Context, jobID string) error {
	if err := ValidateJobID(jobID); err != nil {
		return err
	}
	return s.index(ctx, jobID, redis.ZAddArgs{XX: true, LT: true,
		Members: []redis.Z{{Score: float64(s.now().Add(s.cfg.SweepDelay).UnixMilli()), Member: jobID}}})
}

// Notify announces that jobID is complete: it marks the job due (MarkDue),
// so that a sweep collects it even if the rest of the hand-off is lost, and
// publishes its ID on NotifyChannel, so that a subscribed coordinator
// collects it at once (pub/sub keeps nothing: best effort). Like MarkDue it
// is harmless for any job.
func (s *Store) Notify(ctx context.Context, jobID string) error {
	if err := s.MarkDue(ctx, jobID); err != nil {
		return err
	}
	if err := s.client.Publish(ctx, notifyChannel(s.cfg.Namespace), jobID).Err(); err != nil {
		return redisErr("notify completion of job "+jobID, err)
	}
	return nil
}

// Sweep takes from the index every job that is due at now and sorts them
// (SweepResult): jobs complete but not collected, open or running jobs past
// their deadline, and jobs claimed but not committed. Each job taken is
// leased: the index offers it again after lease, so a job whose collection
// fails or is left to another coordinator comes back, and two coordinators
// sweeping at once never take the same job. Finished jobs and jobs that no
// longer exist are dropped from the index; an open or running job announced
// early goes back to its deadline. The coordinator runs Sweep every sweep
// interval.
func (s *Store) Sweep(ctx context.Context, now time.Time, lease time.Duration) (SweepResult, error) {
	var res SweepResult
	if lease < time.Millisecond {
		return res, fmt.Errorf("%w: sweep lease %v (want at least 1ms)", ErrInvalid, lease)
	}
	idx := indexKey(s.cfg.Namespace)
	page := s.cfg.ScanPage
	for {
		// A lease the replicas have not acknowledged (ErrNotReplicated) is
		// still taken: losing it in a failover only makes the jobs due
		// again, and a sweep must go on while replicas are missing.
		cmd, _ := s.runWrite(ctx, s.scripts.sweep, []string{idx}, now.UnixMilli(), lease.Milliseconds(), page)
		taken, err := cmd.StringSlice()
		if err != nil {
			return res, redisErr("sweep job index", err)
		}
		if len(taken) == 0 {
			return res, nil
		}
		ids := make([]string, 0, len(taken)/2)
		for i := 0; i+1 < len(taken); i += 2 {
			ids = append(ids, taken[i])
		}
		metas := make([]*redis.SliceCmd, len(ids))
		if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				metas[i] = p.HMGet(ctx, keysOf(s.cfg.Namespace, id).meta, "state", "deadline")
			}
			return nil
		}); err != nil && !errors.Is(err, redis.Nil) {
			return res, redisErr("sweep job index", err)
		}
		var drop []any
		var later []redis.Z
		for i, id := range ids {
			v := metas[i].Val()
			state, _ := v[0].(string)
			deadlineText, _ := v[1].(string)
			switch st := State(state); {
			case state == "":
				drop = append(drop, id)
				res.Gone = append(res.Gone, id)
			case st.Terminal():
				drop = append(drop, id)
			case st == StateComplete:
				res.Complete = append(res.Complete, id)
			case st == StateCollecting:
				res.Collecting = append(res.Collecting, id)
			default: // open or running
				deadline, _ := strconv.ParseInt(deadlineText, 10, 64)
				if now.UnixMilli() > deadline {
					res.Overdue = append(res.Overdue, id)
				} else {
					later = append(later, redis.Z{Score: float64(deadline + s.cfg.SweepDelay.Milliseconds()), Member: id})
				}
			}
		}
		if len(drop) > 0 {
			n, err := s.client.ZRem(ctx, idx, drop...).Result()
			if err != nil {
				return res, redisErr("sweep job index", err)
			}
			res.Removed += int(n)
		}
		if len(later) > 0 {
			if err := s.client.ZAddArgs(ctx, idx, redis.ZAddArgs{XX: true, Members: later}).Err(); err != nil {
				return res, redisErr("sweep job index", err)
			}
		}
		if len(ids) < page {
			return res, nil
		}
	}
}
