package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/workoutput"
)

// Sweeper finds jobs the normal hand-off missed. The coordinator runs Sweep
// every sweep interval: a worker that crashes between completing a job and
// enqueuing its collect task delays collection by at most one interval and
// never loses it.
type Sweeper struct {
	store   *workoutput.Store
	handoff handoff
}

// NewSweeper returns a Sweeper that enqueues collect tasks on collectQueue
// (DefaultCollectQueue when empty) through client, which it does not close.
func NewSweeper(client redis.UniversalClient, store *workoutput.Store, collectQueue string) (*Sweeper, error) {
	if client == nil || store == nil {
		return nil, fmt.Errorf("%w: NewSweeper needs a redis client and a store, got client %v, store %v", ErrInvalid, client != nil, store != nil)
	}
	if strings.TrimSpace(collectQueue) == "" {
		collectQueue = DefaultCollectQueue
	}
	return &Sweeper{store: store, handoff: handoff{asynq.NewClientFromRedisClient(client), collectQueue, nil}}, nil
}

// Sweep walks the job index once at now: it enqueues a collect task for
// every job complete but not collected (a task already queued counts as
// success) and returns the result, whose Overdue jobs (open past their
// deadline) the coordinator finishes per their failure policy.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time) (workoutput.SweepResult, error) {
	res, err := s.store.Sweep(ctx, now)
	if err != nil {
		return res, err
	}
	for _, id := range res.Complete {
		if err := s.handoff.collect(ctx, id); err != nil {
			return res, err
		}
	}
	return res, nil
}
