package asynqfanin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// The keys of a run: its outputs hash, its counter and its result.
const (
	outputsKey = "asynq-fan-in:outputs"
	countKey   = "asynq-fan-in:count"
	// ResultKey holds the result of a run.
	ResultKey = "asynq-fan-in:result"
)

// taskType is the Asynq task type of an event.
const taskType = "asynq-fan-in:event"

// Config is one run of the baseline.
type Config struct {
	// Client is the Redis of the run; it should be a fresh server (the
	// run's keys are fixed, see ResultKey).
	Client redis.UniversalClient
	// Queue is the Asynq queue of the tasks. Default "default".
	Queue string
	// Concurrency is the Asynq workers of the one worker process, polling
	// every 10 ms. Default 8.
	Concurrency int
	// Handle turns an event's payload into the field and the value of its
	// output. Required.
	Handle func(ctx context.Context, taskID string, payload []byte) (field string, output []byte, err error)
	// Reduce turns the outputs (HVALS) into the result. Required.
	Reduce func(outputs []string) ([]byte, error)
	// Timeout bounds the run. Default 10 minutes.
	Timeout time.Duration
}

// Run runs the baseline over payloads, one Asynq task per payload enqueued
// one by one: each task's handler stores its output (HSET) and counts it
// (INCR); the task that brings the count to len(payloads) reads the hash
// (HVALS), reduces it and writes the result (SET). Run returns the time
// from the first enqueue to the result written; the worker is started
// before and shut down after.
func Run(ctx context.Context, cfg Config, payloads [][]byte) (time.Duration, error) {
	if cfg.Client == nil || cfg.Handle == nil || cfg.Reduce == nil || len(payloads) == 0 {
		return 0, errors.New("asynqfanin: Run needs a client, Handle, Reduce and payloads")
	}
	queue := cfg.Queue
	if queue == "" {
		queue = "default"
	}
	concurrency, timeout := cfg.Concurrency, cfg.Timeout
	if concurrency <= 0 {
		concurrency = 8
	}
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	n := int64(len(payloads))
	done := make(chan struct{})
	mux := asynq.NewServeMux()
	mux.HandleFunc(taskType, func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		field, out, err := cfg.Handle(ctx, id, t.Payload())
		if err != nil {
			return err
		}
		if err := cfg.Client.HSet(ctx, outputsKey, field, out).Err(); err != nil {
			return err
		}
		if got, err := cfg.Client.Incr(ctx, countKey).Result(); err != nil || got != n {
			return err
		}
		vals, err := cfg.Client.HVals(ctx, outputsKey).Result()
		if err != nil {
			return err
		}
		result, err := cfg.Reduce(vals)
		if err != nil {
			return err
		}
		if err := cfg.Client.Set(ctx, ResultKey, result, 0).Err(); err != nil {
			return err
		}
		close(done)
		return nil
	})
	srv := asynq.NewServerFromRedisClient(cfg.Client, asynq.Config{
		Concurrency: concurrency, Queues: map[string]int{queue: 1}, TaskCheckInterval: 10 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second, LogLevel: asynq.FatalLevel,
	})
	if err := srv.Start(mux); err != nil {
		return 0, fmt.Errorf("asynqfanin: start the worker: %w", err)
	}
	defer srv.Shutdown()
	client := asynq.NewClientFromRedisClient(cfg.Client)
	start := time.Now()
	for i, p := range payloads {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask(taskType, p), asynq.Queue(queue)); err != nil {
			return 0, fmt.Errorf("asynqfanin: enqueue event %d: %w", i, err)
		}
	}
	select {
	case <-done:
		return time.Since(start), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("asynqfanin: no result within %v", timeout)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
