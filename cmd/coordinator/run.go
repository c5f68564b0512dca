package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fanin-dev/fanin/examples/zombies/zombiejob"
	"github.com/fanin-dev/fanin/internal/execproc"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// reducerFlags choose the reducer of each kind.
type reducerFlags struct {
	specs []string
}

func (r *reducerFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&r.specs, "reducer", nil, `KIND=REDUCER: reduce jobs of KIND with REDUCER: zombies, jsonl, count, or exec:COMMAND (repeatable). Built in: zombies.sighting=zombies, jsonl=jsonl, count=count`)
}

const reducersHelp = `Reducers turn a job's outputs into its result; a job's kind chooses its
reducer. Built in:
  zombies.sighting  the zombies example: herds and cities to notify (JSON)
  jsonl             one line per output: {"id":"<event ID>","output":<output>}
  count             {"outputs":N,"failed":N,"missing":N}
--reducer KIND=NAME gives another kind one of them (NAME zombies, jsonl or
count), or an exec reducer: --reducer 'my.kind=exec:python3 reduce.py' runs
the command once per job, writes the outputs to its stdin as JSON lines
{"id":"<event ID>","output":<output>} and takes its stdout as the result (a
non-zero exit fails the attempt; FANIN_JOB_ID, FANIN_JOB_KIND,
FANIN_JOB_OUTPUTS, FANIN_JOB_FAILED and FANIN_JOB_MISSING describe the job).`

// register registers the built-in reducers and those of the flags on c.
func (r *reducerFlags) register(ctx context.Context, c *jobs.Coordinator) error {
	set, err := r.set(ctx)
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if err := c.Handle(k, set[k]); err != nil {
			return err
		}
	}
	return nil
}

// set returns the reducer of each kind: the built-in ones and those of the
// flags, whose exec commands it checks (execproc.CheckCommand).
func (r *reducerFlags) set(ctx context.Context) (map[string]jobs.Reducer, error) {
	set := map[string]jobs.Reducer{
		zombiejob.Kind: zombiejob.Reducer(),
		"jsonl":        jobs.JSONLines(),
		"count":        jobs.Count(),
	}
	for _, spec := range r.specs {
		kind, name, ok := strings.Cut(spec, "=")
		kind = strings.TrimSpace(kind)
		if !ok || kind == "" {
			return nil, usage("--reducer %q (want KIND=zombies, KIND=jsonl, KIND=count or KIND=exec:COMMAND)", spec)
		}
		switch {
		case name == "zombies":
			set[kind] = zombiejob.Reducer()
		case name == "jsonl":
			set[kind] = jobs.JSONLines()
		case name == "count":
			set[kind] = jobs.Count()
		case strings.HasPrefix(name, "exec:"):
			command := strings.TrimPrefix(name, "exec:")
			if err := execproc.CheckCommand(ctx, command); err != nil {
				return nil, exitcode.With(exitcode.Usage, fmt.Errorf("--reducer %s: %w", kind, err))
			}
			red, err := execproc.Reducer(command)
			if err != nil {
				return nil, exitcode.With(exitcode.Usage, fmt.Errorf("--reducer %s: %w", kind, err))
			}
			set[kind] = red
		default:
			return nil, usage("--reducer %q: unknown reducer %q (want zombies, jsonl, count or exec:COMMAND)", spec, name)
		}
	}
	return set, nil
}

// coordinatorFlags configure a jobs.Coordinator.
type coordinatorFlags struct {
	reducers    reducerFlags
	concurrency int
	sweep       time.Duration
	lockTTL     time.Duration
	sinkDir     string
}

func (f *coordinatorFlags) addFlags(fs *pflag.FlagSet) {
	f.reducers.addFlags(fs)
	fs.IntVar(&f.concurrency, "concurrency", jobs.DefaultCoordinatorConcurrency, "jobs collected at once")
	fs.DurationVar(&f.sweep, "sweep-interval", jobs.DefaultSweepInterval, "period of the sweep that finds lost hand-offs, overdue jobs and dead coordinators")
	fs.DurationVar(&f.lockTTL, "lock-ttl", jobs.DefaultLockTTL, "TTL of a job's lock; a coordinator that dies loses its jobs to another after about this long")
	fs.StringVar(&f.sinkDir, "sink-dir", "", "also write each result to DIR/<job ID>.result")
}

// build returns a coordinator with the reducers registered.
func (f *coordinatorFlags) build(ctx context.Context, a *app, client redis.UniversalClient, store *workoutput.Store, onCommit func(context.Context, jobs.Outcome), extra ...jobs.Sink) (*jobs.Coordinator, error) {
	switch {
	case f.concurrency < 1:
		return nil, usage("--concurrency %d (want at least 1)", f.concurrency)
	case f.sweep < jobs.MinSweepInterval:
		return nil, usage("--sweep-interval %v (want at least %v: each sweep is a script call on Redis)", f.sweep, jobs.MinSweepInterval)
	case f.lockTTL < jobs.MinLockTTL:
		return nil, usage("--lock-ttl %v (want at least %v)", f.lockTTL, jobs.MinLockTTL)
	}
	d, err := a.common.CheckQueues()
	if err != nil {
		return nil, err
	}
	sinks := extra
	if f.sinkDir != "" {
		if fi, err := os.Stat(f.sinkDir); err != nil || !fi.IsDir() {
			return nil, usage("--sink-dir %q is not a directory", f.sinkDir)
		}
		sinks = append(sinks, jobs.FileSink(f.sinkDir))
	}
	c, err := jobs.NewCoordinator(client, store, jobs.CoordinatorConfig{
		Queue:         a.common.CollectQueue,
		EventsQueue:   d.EventsQueue(),
		Concurrency:   f.concurrency,
		SweepInterval: f.sweep,
		LockTTL:       f.lockTTL,
		Sinks:         sinks,
		OnCommit:      onCommit,
		Logger:        a.log,
	})
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	if err := f.reducers.register(ctx, c); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func (a *app) runCmd() *cobra.Command {
	var (
		f           coordinatorFlags
		metricsAddr string
		redisWait   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the coordinator daemon: reduce complete jobs and commit their results",
		Long: `run is the coordinator daemon. It serves the collect queue (--collect-queue),
hears completions announced by the workers, and sweeps every --sweep-interval
for lost hand-offs, jobs past their deadline and jobs whose coordinator died.
For each complete job it takes the job's lock, streams the outputs into the
reducer of the job's kind and commits the result once. Run as many as you
like: one collects each job.

While Redis is unreachable at start, it retries with backoff (--redis-wait
bounds the wait), logging each attempt; /healthz answers 503 until Redis
answers. Once started, it rides out Redis restarts and pauses.

SIGTERM or SIGINT stops it at once: collections in progress are interrupted
(their reducers cancelled, an exec reducer's processes killed) and their locks
released; another coordinator, or this one restarted, collects those jobs again
under a new fencing token, and no result is committed twice.

` + reducersHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			client, target, store, err := a.common.OpenStore("fanin-coordinator")
			if err != nil {
				return err
			}
			defer client.Close()
			reg := telemetry.NewRegistry()
			results := prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "fanin_results_committed_total", Help: "Results this coordinator committed and wrote to its sinks, by state (done or partial).",
			}, []string{"state"})
			committed := prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "fanin_jobs_committed_total", Help: "Jobs this coordinator committed, by final state (done, partial or failed).",
			}, []string{"state"})
			reg.MustRegister(results, committed, telemetry.QueueCollector(asynq.NewInspectorFromRedisClient(client), a.common.CollectQueue),
				telemetry.CensusCollector(store.Census))
			counter := jobs.SinkFunc(func(ctx context.Context, out jobs.Outcome) error {
				results.WithLabelValues(string(out.State)).Inc()
				return nil
			})
			onCommit := func(_ context.Context, out jobs.Outcome) { committed.WithLabelValues(string(out.State)).Inc() }
			c, err := f.build(cmd.Context(), a, client, store, onCommit, counter)
			if err != nil {
				return err
			}
			defer c.Close()
			stopped, err := settings.StartDaemon(ctx, settings.Daemon{
				Name: "coordinator", Client: client, Target: target, Log: a.log,
				Registry: reg, MetricsAddr: metricsAddr, RedisWait: redisWait,
			})
			if stopped || err != nil {
				return err
			}
			d, err := a.common.Deployment()
			if err != nil {
				return err
			}
			settings.WarnOtherDeployment(ctx, client, store, "coordinator", []string{a.common.CollectQueue, d.EventsQueue()}, a.log)
			settings.WarnCollectOverride(d, a.common.CollectQueue, a.log)
			left, err := settings.Announce(ctx, client, store.Config().Namespace, jobs.RoleCoordinator, c.Kinds(), []string{a.common.CollectQueue}, a.log)
			if err != nil {
				return err
			}
			defer left()
			a.log.Info("coordinator started", "redis", target.Redacted, "mode", target.Mode,
				"collect_queue", a.common.CollectQueue, "concurrency", f.concurrency, "pid", os.Getpid())
			err = c.Run(ctx)
			a.log.Info("coordinator stopped")
			return err
		},
	}
	f.addFlags(cmd.Flags())
	settings.AddWaitFlag(cmd.Flags(), &redisWait)
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", settings.MetricsAddrHelp)
	return cmd
}

func (a *app) replayCmd() *cobra.Command {
	var (
		f   coordinatorFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "replay JOB",
		Short: "Reduce a collected job again and commit the new result",
		Long: `replay reduces JOB again, in this process, under a new fencing token, and
commits the new result: after fixing a reducer, for example. The job's outputs
must still be retained. It prints the new result (or writes it to --out) and
exits like collect: 0 done, 3 partial or failed. An --out path that cannot
take the file (a missing directory, no permission) exits 2 before anything is
replayed or committed.

` + reducersHelp,
		Args: cobra.ExactArgs(1),
		RunE: a.withJob(func(ctx context.Context, id string, client redis.UniversalClient, store *workoutput.Store) error {
			// Refuse an unusable --out before the new result is committed
			// under a new fencing token, not after.
			if err := checkOut(out); err != nil {
				return err
			}
			c, err := f.build(ctx, a, client, store, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			o, err := c.Replay(ctx, id)
			if err != nil && !errorsIs(err, jobs.ErrSink) {
				return replayErr(err)
			}
			st, serr := store.Status(ctx, id)
			if serr != nil {
				// A job without retention is gone once committed.
				st = workoutput.Status{ID: id, State: o.State, Done: o.Outputs, Failed: o.Failed, Error: o.Error}
			}
			if werr := a.writeResult(st, o.Result, out); werr != nil {
				return werr
			}
			if err != nil {
				return err
			}
			if o.State != workoutput.StateDone {
				return exitcode.With(exitcode.JobFailed, fmt.Errorf("job %s replayed: %s %s", id, o.State, o.Error))
			}
			return nil
		}),
	}
	f.addFlags(cmd.Flags())
	for _, daemonOnly := range []string{"concurrency", "sweep-interval"} {
		_ = cmd.Flags().MarkHidden(daemonOnly)
	}
	cmd.Flags().StringVar(&out, "out", "", outHelp)
	return cmd
}

// replayErr gives a replay error its exit code.
func replayErr(err error) error {
	switch {
	case errorsIs(err, workoutput.ErrInvalid):
		return exitcode.With(exitcode.Usage, err)
	case errorsIs(err, jobs.ErrNoReducer):
		return exitcode.With(exitcode.Usage, fmt.Errorf("%w (give one with --reducer KIND=...)", err))
	}
	return err
}
