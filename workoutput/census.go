package workoutput

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Census counts the jobs of a namespace, for metrics and dashboards.
type Census struct {
	// Jobs counts the jobs by state (finished jobs while their data or
	// tombstone is kept).
	Jobs map[State]int64
	// Pending counts, by kind, the events of open and running jobs that
	// have neither an output nor a failure yet: the work waiting for
	// workers.
	Pending map[string]int64
}

// Census reads every job of the namespace (Jobs, then a pipeline of reads
// per page of jobs): its cost grows with the number of jobs kept, a few
// commands per job. A job expiring meanwhile is left out.
func (s *Store) Census(ctx context.Context) (Census, error) {
	c := Census{Jobs: map[State]int64{}, Pending: map[string]int64{}}
	page := make([]string, 0, s.cfg.ScanPage)
	flush := func() error {
		if len(page) == 0 {
			return nil
		}
		metas := make([]*redis.SliceCmd, len(page))
		done := make([]*redis.IntCmd, len(page))
		failed := make([]*redis.IntCmd, len(page))
		if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range page {
				k := keysOf(s.cfg.Namespace, id)
				metas[i] = p.HMGet(ctx, k.meta, "state", "kind", "sealed", "total", "n")
				done[i] = p.HLen(ctx, k.outputs)
				failed[i] = p.HLen(ctx, k.failures)
			}
			return nil
		}); err != nil {
			return redisErr("census of jobs", err)
		}
		for i := range page {
			v := metas[i].Val()
			state, _ := v[0].(string)
			if state == "" {
				continue // expired meanwhile
			}
			c.Jobs[State(state)]++
			if State(state) != StateOpen && State(state) != StateRunning {
				continue
			}
			kind, _ := v[1].(string)
			field := 4 // n: events added so far
			if sealed, _ := v[2].(string); sealed == "1" {
				field = 3 // total
			}
			text, _ := v[field].(string)
			total := parseInt(text)
			c.Pending[kind] += max(total-done[i].Val()-failed[i].Val(), 0)
		}
		page = page[:0]
		return nil
	}
	for id, err := range s.Jobs(ctx) {
		if err != nil {
			return c, err
		}
		if page = append(page, id); len(page) == cap(page) {
			if err := flush(); err != nil {
				return c, err
			}
		}
	}
	return c, flush()
}
