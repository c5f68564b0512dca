package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/fanin-dev/fanin/workoutput"
)

// misrouted keeps a task that reached the wrong role from being archived:
// when task is of type wrongType (a collect task given to a Mux, an event
// chunk given to a Coordinator), it enqueues a copy on queue, the queue of
// the role that handles it, under the same task ID (so a repeated hand-back
// enqueues nothing twice) and with the same MaxRetry, waits for
// store.SyncReplicas of that queue, logs why at warn on log and reports
// handled with a nil error: Asynq then deletes the original.
// Any other task is not handled. When the copy cannot be enqueued, or the
// task already is on queue (its server serves the queue of another role),
// the error returned makes Asynq retry the task rather than archive it.
//
// Mux.ProcessTask and Coordinator.ProcessTask call it first.
func misrouted(ctx context.Context, task *asynq.Task, wrongType, queue string, client *asynq.Client, store *workoutput.Store, log *slog.Logger) (handled bool, err error) {
	if task.Type() != wrongType {
		return false, nil
	}
	from, _ := asynq.GetQueueName(ctx)
	id, _ := asynq.GetTaskID(ctx)
	why := "a worker pool serves the collect queue, or a producer or worker uses one of its queues as collect queue"
	if wrongType == TypeEvents {
		why = "a coordinator serves an events queue, or a producer sends events to the collect queue"
	}
	if from == queue {
		log.WarnContext(ctx, "fanin: task on the wrong queue, and its own queue is this one: retried, not handed back (a server serves the queues of two roles)",
			"type", task.Type(), "task", id, "queue", from, "why", why)
		return true, fmt.Errorf("jobs: task %s of type %s reached the wrong handler on its own queue %s (%s)", id, task.Type(), queue, why)
	}
	opts := requeueOptions(ctx, queue)
	if id != "" {
		opts = append(opts, asynq.TaskID(id))
	}
	if _, err := client.EnqueueContext(ctx, asynq.NewTask(task.Type(), task.Payload()), opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return true, fmt.Errorf("jobs: hand task %s of type %s back to queue %s: %w", id, task.Type(), queue, err)
	}
	if err := store.SyncReplicas(ctx, asynqQueueKey(queue)); err != nil {
		return true, fmt.Errorf("jobs: task %s of type %s handed back to queue %s, but not replicated: %w", id, task.Type(), queue, err)
	}
	log.WarnContext(ctx, "fanin: task on the wrong queue, handed back to its own",
		"type", task.Type(), "task", id, "from", from, "to", queue, "why", why)
	return true, nil
}

// requeueOptions are the options of a task put back on queue by the handler
// of the task it replaces (a chunk handed back, a task on the wrong
// queue): the same MaxRetry, and what is left of its timeout (at least a
// second), read from the handler's context.
func requeueOptions(ctx context.Context, queue string) []asynq.Option {
	opts := []asynq.Option{asynq.Queue(queue)}
	if n, ok := asynq.GetMaxRetry(ctx); ok {
		opts = append(opts, asynq.MaxRetry(n))
	}
	if dl, ok := ctx.Deadline(); ok {
		opts = append(opts, asynq.Timeout(max(time.Until(dl).Round(time.Second), time.Second)))
	}
	return opts
}
