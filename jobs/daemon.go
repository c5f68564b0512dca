package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/locks"
	"github.com/fanin-dev/fanin/workoutput"
)

// ProcessTask handles one TypeCollect task; it implements asynq.Handler, so
// a Coordinator can also be served by an asynq.Server of the caller's. A
// job with nothing left to collect, collected by another coordinator, or of
// a kind without a reducer here (a coordinator that has one hears of it on
// the pub/sub channel, and a sweep offers it again) ends the task
// successfully; an unavailable Redis is retried.
func (c *Coordinator) ProcessTask(ctx context.Context, task *asynq.Task) error {
	if back, err := misrouted(ctx, task, TypeEvents, c.cfg.EventsQueue, c.tasks, c.store, c.log); back {
		return err
	}
	if task.Type() != TypeCollect {
		return fmt.Errorf("%w: task type %q (want %q)", asynq.SkipRetry, task.Type(), TypeCollect)
	}
	jobID := string(task.Payload())
	if err := workoutput.ValidateJobID(jobID); err != nil {
		return fmt.Errorf("%w: collect task: %w", asynq.SkipRetry, err)
	}
	err := c.collectOnce(ctx, jobID, nil)
	if errors.Is(err, ErrNoReducer) {
		return nil
	}
	return err
}

// collectOnce collects jobID unless this coordinator is collecting it
// already, and sorts the outcome for the daemon: the errors that mean
// "nothing to do here" become nil, sink errors are reported to OnSinkError.
// pass is the heartbeats of a sweep's pass, nil outside a sweep.
func (c *Coordinator) collectOnce(ctx context.Context, jobID string, pass *heartbeats) error {
	c.mu.Lock()
	if _, busy := c.inflight[jobID]; busy {
		c.mu.Unlock()
		return nil
	}
	c.inflight[jobID] = struct{}{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.inflight, jobID)
		c.mu.Unlock()
	}()
	_, err := c.collect(ctx, jobID, workoutput.ClaimCollect, pass)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrSink):
		c.log.ErrorContext(ctx, "fanin: sink failed", "job", jobID, "err", err)
		if c.cfg.OnSinkError != nil {
			c.cfg.OnSinkError(ctx, jobID, err)
		}
		return nil
	case errors.Is(err, ErrBusy), errors.Is(err, workoutput.ErrState), errors.Is(err, workoutput.ErrJobNotFound):
		return nil
	case errors.Is(err, ErrNoReducer):
		c.log.DebugContext(ctx, "fanin: no reducer here for the job's kind; left to another coordinator (until its deadline, or a while past it when one announces the kind)", "job", jobID, "err", err)
		return err
	case errors.Is(err, locks.ErrFenced), errors.Is(err, locks.ErrLost):
		c.log.WarnContext(ctx, "fanin: job taken over by another coordinator", "job", jobID, "err", err)
		return nil
	}
	c.log.ErrorContext(ctx, "fanin: collect failed", "job", jobID, "err", err)
	return err
}

// Sweep runs one sweep at now: it takes the jobs that are due from the
// store's index (workoutput.Store.Sweep) and collects them: complete jobs
// whose hand-off was lost, open or running jobs past their deadline, and
// claimed jobs whose coordinator lost its lock (crashed, paused) before
// committing. Jobs of kinds without a reducer here are left for another
// coordinator until their deadline; past it, for up to ten sweep leases
// while a live coordinator announces the kind's reducer; then they are
// failed. Each job taken is
// leased to this coordinator for LockTTL: two coordinators sweeping at once
// never take the same job, and a job whose collection fails comes back. A
// job left for want of its reducer while another live coordinator announces
// one (or the heartbeats cannot be read) is handed back at once instead
// (workoutput.Store.MarkDue: due again within the store's SweepDelay), so
// that coordinator need not wait for the lease. A sweep reads the
// heartbeats at most once. It waits for the collections it starts and
// returns the first error.
func (c *Coordinator) Sweep(ctx context.Context, now time.Time) error {
	res, err := c.store.Sweep(ctx, now, c.cfg.LockTTL)
	if err != nil {
		return err
	}
	pass := &heartbeats{served: c.served}
	for _, id := range res.Gone {
		c.log.WarnContext(ctx, "fanin: a job of the index has no data: never created (its producer died while opening it) or lost (a failover without --replica-acks, a flush)", "job", id)
	}
	sem := make(chan struct{}, c.cfg.Concurrency)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	ids := slices.Concat(res.Complete, res.Overdue, res.Collecting)
	for _, id := range ids {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			err := c.collectOnce(ctx, id, pass)
			if left := (*leftToAnother)(nil); errors.As(err, &left) {
				c.handBack(ctx, id)
				return
			}
			if err != nil && !errors.Is(err, ErrNoReducer) {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// handBack makes a job this sweep took, and left to another coordinator,
// due again at once rather than at the end of its lease. It is best effort:
// when it fails, the lease runs out as before.
func (c *Coordinator) handBack(ctx context.Context, jobID string) {
	if err := c.store.MarkDue(ctx, jobID); err != nil {
		c.log.WarnContext(ctx, "fanin: could not hand a job without a reducer here back to the sweep; another coordinator takes it when its lease ends", "job", jobID, "err", err)
	}
}

// Run is the coordinator daemon. Until ctx ends it
//
//   - serves the collect queue (CoordinatorConfig.Queue) with an Asynq
//     server of Concurrency workers: the durable hand-off;
//   - listens for completion announcements (workoutput.Store.Notify, sent
//     by the worker that completes a job) and collects the job at once,
//     without waiting for Asynq's TaskCheckInterval; several coordinators
//     all hear it, one takes the lock, the others skip the job;
//   - sweeps every SweepInterval (see Sweep), first at start.
//
// Run returns nil when ctx ends, once the collections in progress have
// stopped: their reductions are cancelled (ctx is theirs) and their locks
// released, and a coordinator that runs collects those jobs again (a sweep
// or their collect task), under a new fencing token; nothing is committed
// twice. It returns an error if the Asynq server cannot start.
func (c *Coordinator) Run(ctx context.Context) error {
	srv := asynq.NewServerFromRedisClient(c.client, asynq.Config{
		Concurrency:       c.cfg.Concurrency,
		Queues:            map[string]int{c.cfg.Queue: 1},
		TaskCheckInterval: c.cfg.TaskCheckInterval,
		ShutdownTimeout:   c.cfg.LockTTL,
		Logger:            asynqLogger{c.log},
		LogLevel:          asynq.WarnLevel,
	})
	if err := srv.Start(c); err != nil {
		return fmt.Errorf("jobs: coordinator: start the collect-queue server: %w", err)
	}
	defer srv.Shutdown()
	var wg sync.WaitGroup
	if !c.cfg.DisableNotify {
		sub := c.client.Subscribe(ctx, c.store.NotifyChannel())
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil && ctx.Err() == nil {
			// Not fatal: collect tasks and sweeps still collect every job.
			c.log.WarnContext(ctx, "fanin: subscribe to completions", "err", err)
		}
		wg.Go(func() { c.listen(ctx, sub.Channel()) })
	}
	wg.Go(func() { c.sweepLoop(ctx) })
	<-ctx.Done()
	wg.Wait()
	return nil
}

// listen collects each job announced on msgs, at most Concurrency at once.
func (c *Coordinator) listen(ctx context.Context, msgs <-chan *redis.Message) {
	sem := make(chan struct{}, c.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		var id string
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			id = m.Payload
		}
		if workoutput.ValidateJobID(id) != nil {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			_ = c.collectOnce(ctx, id, nil)
		})
	}
}

// sweepLoop sweeps at once, then every SweepInterval.
func (c *Coordinator) sweepLoop(ctx context.Context) {
	t := time.NewTicker(c.cfg.SweepInterval)
	defer t.Stop()
	for {
		if err := c.Sweep(ctx, c.now()); err != nil && ctx.Err() == nil {
			c.log.WarnContext(ctx, "fanin: sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// asynqLogger routes Asynq's logs to the coordinator's slog.Logger. Fatal
// is logged as an error: a library never exits the process.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
