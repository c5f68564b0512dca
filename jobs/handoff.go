package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/fanin-dev/fanin/workoutput"
)

// handoff hands a complete job to the coordinator. It is the one place that
// does it, whoever completed the job: the worker whose write completed it
// (Mux), the producer whose Seal completed it, or whose Submit or Open
// created it complete (a job of no events). A redelivered chunk of a job
// still complete hands it off again.
//
// The hand-off is at least once and never fails the call that completed the
// job: once a job is complete, the store has it, and a sweep collects it
// SweepDelay after Store.Notify marked it due, or at its deadline if even
// that was lost. Its steps, each idempotent:
//
//  1. Store.Notify: the job's index entry becomes due shortly, and an idle
//     coordinator hears of the job at once on the pub/sub channel;
//  2. the collect task (TypeCollect, task ID "collect:<job ID>", so at most
//     one is queued), the durable hand-off a coordinator's Asynq server
//     takes from the collect queue.
type handoff struct {
	client *asynq.Client
	queue  string
	store  *workoutput.Store
}

// completed hands jobID to the coordinator and returns what failed, for the
// caller to report (a metric, a log line); the job is safe either way.
func (h handoff) completed(ctx context.Context, jobID string) error {
	ctx = context.WithoutCancel(ctx)
	nerr := h.store.Notify(ctx, jobID)
	_, err := h.client.EnqueueContext(ctx, asynq.NewTask(TypeCollect, []byte(jobID)),
		asynq.Queue(h.queue), asynq.TaskID("collect:"+jobID), asynq.MaxRetry(DefaultMaxRetry))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("jobs: enqueue collect task of job %s: %w", jobID, err)
	}
	return errors.Join(nerr, err)
}
