package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/jobfile"
	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

func (a *app) submitCmd() *cobra.Command {
	var (
		kind, events, name, idField, queue, retention, policy string
		deadline, replicaWait, eventTimeout                   time.Duration
		chunk, maxRetry                                       int
		requireServed                                         bool
		f                                                     follow
	)
	cmd := &cobra.Command{
		Use:   "submit --kind KIND --events FILE",
		Short: "Submit a job of events read from JSON lines; print its ID",
		Long: `submit reads the events of a job from FILE (JSON lines, one event per line;
"-" reads stdin), submits the job and prints its ID. Each line is the event's
payload; the line's top-level string field named by --id-field ("id") is its
event ID (a line without it gets a generated ID). A malformed line is an
error naming its line number, and nothing is submitted: FILE is read twice,
checked whole then submitted in batches, so memory stays small whatever its
size (stdin, or a pipe, is copied to a temporary file on the way).

With --wait, submit follows the job to its end like collect --wait: the job ID
goes to stderr, the result to stdout (or --out).

Before submitting, submit reads the heartbeats of the deployment (see
coordinator kinds): when no live worker handles --kind on --queue, or no live
coordinator reduces it, it says so on stderr and submits anyway (workers
that scale from zero start after the submission); --require-served refuses
instead, exit 2, and nothing is submitted.

While Redis, or with --replica-acks its replicas, do not acknowledge a step
(a replica still in its first sync, say), submit retries it for up to
--replica-wait, saying on stderr what it waits for; then it fails (exit 4)
and cancels the job, which list then shows as cancelled.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(kind) == "" || events == "" {
				return usage("submit needs --kind and --events (see coordinator submit --help)")
			}
			if err := checkOut(f.out); err != nil {
				return err // before submitting a job whose result has nowhere to go
			}
			// --max-retry (default jobs.DefaultMaxRetry) 0: no retry.
			spec, err := jobfile.Settings{Kind: kind, Name: name, Deadline: deadline, Retention: retention, MaxRetry: &maxRetry, Policy: policy, Chunk: chunk, EventTimeout: eventTimeout}.
				Spec(func(p string) string { return "--" + p })
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			if _, err := a.common.CheckQueues(queue); err != nil {
				return err
			}
			src := events
			if events == "-" {
				src = "stdin"
			}
			limits, err := a.common.StoreConfig()
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			in, err := jobfile.Open(events, src, idField, limits.MaxEventSize)
			if errorsIs(err, jobfile.ErrInput) {
				return exitcode.With(exitcode.Usage, err)
			}
			if err != nil {
				return err
			}
			defer in.Close()
			ctx := cmd.Context()
			client, store, _, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			p, err := jobs.NewProducer(client, store, jobs.ProducerConfig{Queue: queue, CollectQueue: a.common.CollectQueue, ChunkSize: chunk,
				ReplicaWait: replicaWait, OnRetry: a.waitingLine(replicaWait)})
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			if err := in.Check(store); err != nil {
				return submitErr(err)
			}
			if err := a.checkServed(ctx, client, store, kind, queue, requireServed); err != nil {
				return err
			}
			shown := a.submitProgress(in)
			// SIGTERM or SIGINT stops the submission, which then cancels
			// the job it created and says so, instead of leaving it open,
			// unnamed, until its deadline.
			sctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
			id, n, err := in.Submit(sctx, p, store, spec, jobfile.Batch(chunk))
			interrupted := context.Cause(sctx)
			stop()
			shown(err == nil)
			if err != nil && ctx.Err() == nil && interrupted != nil {
				return fmt.Errorf("submission stopped: %w", err)
			}
			if err != nil {
				return submitErr(err)
			}
			a.log.Debug("job submitted", "job", id, "events", n, "kind", kind)
			if !f.wait {
				if a.json {
					return json.NewEncoder(a.stdout).Encode(map[string]any{"job": id, "events": n})
				}
				_, err = fmt.Fprintln(a.stdout, id)
				return err
			}
			fmt.Fprintf(a.stderr, "submitted job %s (%d events)\n", id, n)
			return a.collect(ctx, client, store, id, f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kind, "kind", "", "kind of the job: names the handler of its events and the reducer of its outputs (required)")
	fs.StringVar(&events, "events", "", `JSON lines file of the events, "-" for stdin (required)`)
	fs.StringVar(&name, "name", "", "a label for people")
	fs.StringVar(&idField, "id-field", "id", "top-level field of each line holding the event ID; empty generates every ID")
	fs.DurationVar(&deadline, "deadline", 0, "how long the job may take; past it the coordinator collects what there is (default 1h)")
	fs.StringVar(&retention, "retention", "", "how long the job's data and result are kept once finished, or none (default 24h)")
	fs.IntVar(&chunk, "chunk", 0, fmt.Sprintf("events per Asynq task, at most %d (default %d)", jobs.MaxChunkSize, jobs.DefaultChunkSize))
	fs.IntVar(&maxRetry, "max-retry", jobs.DefaultMaxRetry, "retries of a failing event; 0: none, its first failed attempt is final")
	fs.DurationVar(&eventTimeout, "event-timeout", 0, "how long one event of the job may run before its attempt fails with \"timed out after D\" and is retried (default: the worker's --event-timeout)")
	fs.StringVar(&policy, "policy", string(workoutput.PolicyFail), "what failed events do to the job: fail, or continue (the result covers the rest; the job ends partial)")
	fs.DurationVar(&replicaWait, "replica-wait", jobs.DefaultReplicaWait, "how long each step of the submission is retried while Redis, or with --replica-acks its replicas (missing, or still syncing), do not acknowledge it; then submit fails and cancels the job (env "+settings.EnvReplicaWait+")")
	fs.BoolVar(&requireServed, "require-served", false, "refuse to submit (exit 2) when no live worker handles --kind on --queue or no live coordinator reduces it, instead of warning")
	fs.StringVar(&queue, "queue", jobs.DefaultQueue, "Asynq queue of the job's events (workers serve it with --queues; default NAMESPACE:default under a --namespace other than fanin:)")
	f.addFlags(fs)
	return cmd
}

// submitProgress shows on stderr how far the submission of in is, once it
// has taken a second (or --progress-interval, if shorter): a bar on a
// terminal, a line every --progress-interval otherwise, nothing with
// --json. The returned function ends the display.
func (a *app) submitProgress(in *jobfile.Events) func(ok bool) {
	if a.json {
		return func(bool) {}
	}
	start := time.Now()
	delay := min(time.Second, a.every)
	meter := progress.NewMeter(progress.DefaultWindow)
	var disp *progress.Display
	text := func(added, total int) string {
		line := fmt.Sprintf("submitting: %s/%s events (%d%%)", thousandsOf(added), thousandsOf(total), 100*added/max(total, 1))
		if pace := meter.Pace("events"); pace != "" {
			line += ", " + pace
		}
		if eta, ok := meter.ETA(int64(total - added)); ok {
			line += ", ETA " + eta.String()
		}
		return line
	}
	last, total := 0, in.Len()
	in.OnAdded = func(added, n int) {
		now := time.Now()
		meter.Observe(now, int64(added))
		last = added
		if disp == nil && now.Sub(start) < delay {
			return
		}
		if disp == nil {
			disp = progress.NewDisplay(progress.DisplayOptions{Out: a.stderr, Style: progress.Auto(a.stderr), Every: a.every})
		}
		disp.Show(now, "submitting", text(added, n), int64(added), int64(n))
	}
	return func(ok bool) {
		if disp == nil {
			return
		}
		end := fmt.Sprintf("submitted: %s events in %v", thousandsOf(last), time.Since(start).Round(time.Millisecond))
		if !ok {
			end = fmt.Sprintf("submit failed after %s/%s events", thousandsOf(last), thousandsOf(total))
		}
		disp.Close(time.Now(), "submitted", end)
	}
}

// thousandsOf formats n with commas.
func thousandsOf(n int) string { return progress.Thousands(int64(n)) }

// checkServed warns on stderr, or with require refuses (exit 2), when no
// live process would handle or reduce a job of kind on queue.
func (a *app) checkServed(ctx context.Context, client redis.UniversalClient, store *workoutput.Store, kind, queue string, require bool) error {
	members, err := a.members(ctx, client, store)
	if err != nil {
		if require {
			return fmt.Errorf("--require-served: %w", err)
		}
		a.log.Debug("read heartbeats", "err", err)
		return nil
	}
	gaps := jobs.Gaps(members, kind, queue)
	switch {
	case len(gaps) == 0:
		return nil
	case require:
		return usage("--require-served: %s; nothing was submitted (see coordinator kinds)", strings.Join(gaps, "; "))
	case a.json:
		return json.NewEncoder(a.stderr).Encode(map[string]any{"warning": "the job will wait: " + strings.Join(gaps, "; "), "waiting": gaps})
	}
	_, err = fmt.Fprintf(a.stderr, "submit: warning: %s: the job waits until one starts (--require-served refuses instead; see coordinator kinds)\n", strings.Join(gaps, "; "))
	return err
}

// submitErr gives a submit error its exit code.
func submitErr(err error) error {
	for _, bad := range []error{workoutput.ErrInvalid, workoutput.ErrTooLarge, workoutput.ErrDuplicateEvent, workoutput.ErrJobExists, jobs.ErrInvalid} {
		if errorsIs(err, bad) {
			return exitcode.With(exitcode.Usage, err)
		}
	}
	return err
}

// waitingLine returns the ProducerConfig.OnRetry of submit: a line on
// stderr saying what the submission waits for, at the first retry of a step
// and then at most every 2 seconds.
func (a *app) waitingLine(wait time.Duration) func(context.Context, string, int, error) {
	var (
		mu   sync.Mutex
		last time.Time
	)
	return func(_ context.Context, what string, attempt int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if attempt > 1 && time.Since(last) < 2*time.Second {
			return
		}
		last = time.Now()
		fmt.Fprintf(a.stderr, "submit: waiting to %s (attempt %d, retrying for up to %v): %s\n", what, attempt, wait, exitcode.Message(err))
	}
}
