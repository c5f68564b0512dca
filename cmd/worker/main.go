package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/examples/zombies/zombiejob"
	"github.com/fanin-dev/fanin/internal/execproc"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/heapfloor"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/jobs"
)

// Environment variables of the worker named in its flags' help (every other
// flag has one too: settings.EnvOf).
const (
	envConcurrency = "FANIN_CONCURRENCY"
	envQueues      = "FANIN_QUEUES"
	envPoll        = "FANIN_POLL_INTERVAL"
	envExec        = "FANIN_EXEC"
)

func main() {
	// The collector waits for a heap of heapfloor.Floor while little is
	// alive (unless GOGC or GOMEMLIMIT is set): not in run, which tests
	// call in their own process.
	heapfloor.Start(heapfloor.Floor)
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// options are the worker's flags.
type options struct {
	common          settings.Common
	concurrency     int
	queues          string
	exec            []string
	execProcs       int
	shutdownTimeout time.Duration
	retryDelay      time.Duration
	pollInterval    time.Duration
	metricsAddr     string
	redisWait       time.Duration
	eventTimeout    time.Duration
}

const longHelp = `worker runs a fanin worker pool.

It serves the Asynq queues that carry the events of fanin jobs (--queues),
runs the handler of each event's kind and records the output in Redis. Built
in: the zombies example's handler, kind "zombies.sighting". --exec adds a
handler written in any language, as a long-lived co-process:

  --exec 'my.kind=python3 handler.py'

The command (run with sh -c) reads one JSON line per event on stdin,
  {"job":"<job ID>","event":"<event ID>","kind":"<kind>","payload":<event JSON>}
and answers each with one JSON line on stdout:
  {"output":<any JSON>}   or   {"error":"why","permanent":false}
A permanent error fails the event at once; another is retried. A co-process
that exits or answers garbage is restarted and its event retried. Its stderr
goes to the log. An event that runs past --event-timeout (or its job's own,
submit --event-timeout) fails with "timed out after D" and is retried; its
co-process is killed with its whole process group, and so are all of them
when the worker stops: nothing they started is left running. The exit status
and last stderr lines of a co-process that ended go into the failure's
reason. --exec-procs (default --concurrency) co-processes serve each kind.

The worker announces the kinds it handles with a heartbeat in Redis, so that
submit can warn when nobody would handle a job (see coordinator kinds).

While Redis is unreachable at start, the worker retries with backoff
(--redis-wait bounds the wait), logging each attempt; /healthz answers 503
until Redis answers. Once started, it rides out Redis restarts and pauses.

` + settings.QueueRule + `

SIGTERM or SIGINT stops the worker gracefully: the events in flight finish
(up to --shutdown-timeout) or go back to their queue; nothing is lost.

Asynq's own tools (asynqmon, the asynq CLI) see the queues: the tasks of
type fanin:events are chunks of events.

Every flag has an environment variable, named in its help below (a flag
given on the command line wins): FANIN_ and the flag's name in upper case,
'-' as '_' (--exec-procs: FANIN_EXEC_PROCS), except --redis, which also
reads REDIS_URL. FANIN_EXEC takes several KIND=COMMAND, one per line.

Exit codes:
  0  stopped by SIGTERM or SIGINT after a graceful shutdown
  1  any other error
  2  usage error (bad flag or argument, malformed Redis URL or namespace,
     queues that cross the collect queue, unreadable CA file)
  4  Redis rejected the connection (password, TLS, a database it does not
     have, a user that may not write the deployment's keys), or stayed
     unreachable past --redis-wait`

// run runs the worker with args and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		o   options
		env map[string][]string
	)
	cmd := &cobra.Command{
		Use:           "worker",
		Short:         "Run a fanin worker pool",
		Long:          longHelp,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       settings.Version(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := settings.FromEnv(cmd.Flags(), env); err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			return serve(cmd.Context(), &o, stderr)
		},
	}
	cmd.SetVersionTemplate("worker {{.Version}}\n")
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%w (see worker --help)", err))
	})
	fs := cmd.Flags()
	o.common.AddFlags(fs)
	fs.IntVar(&o.concurrency, "concurrency", workersPerCPU*runtime.NumCPU(), "chunks of events processed at once: the number of Asynq workers, by default 2 per CPU (env "+envConcurrency+")")
	fs.StringVar(&o.queues, "queues", jobs.DefaultQueue, "Asynq queues to serve, comma-separated, each optionally with a priority: high=6,default=3 (env "+envQueues+"; default NAMESPACE:default under a --namespace other than fanin:)")
	fs.StringArrayVar(&o.exec, "exec", nil, "KIND=COMMAND: handle events of KIND with COMMAND, a co-process speaking JSON lines (repeatable; env "+envExec+")")
	fs.IntVar(&o.execProcs, "exec-procs", 0, "co-processes per --exec kind (default: --concurrency, so that every Asynq worker can run an event of the kind at once)")
	fs.DurationVar(&o.pollInterval, "poll-interval", defaultPollInterval, "how often an idle worker looks for new events: the delay before a job's first events start; each look is one small script call on Redis; at least 1ms (env "+envPoll+"; see docs/BENCHMARKS.md)")
	fs.DurationVar(&o.eventTimeout, "event-timeout", jobs.DefaultEventTimeout, "how long one event may run, unless its job says otherwise (submit --event-timeout): then the attempt fails with \"timed out after D\" and is retried, an exec co-process is killed with its process group")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long events in flight may finish before they go back to the queue")
	fs.DurationVar(&o.retryDelay, "retry-delay", 0, "delay before the first retry of a failed or lost chunk, doubled for each further retry up to 10m (default Asynq's: 15s plus up to 30s per retry, plus retries^4 s)")
	settings.AddWaitFlag(fs, &o.redisWait)
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", settings.MetricsAddrHelp)
	env = settings.EnvOf(fs, "", workerEnv())

	err := cmd.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "worker: %s\n", exitcode.Message(err))
	}
	return settings.ExitCode(err)
}

func usage(format string, args ...any) error {
	return exitcode.With(exitcode.Usage, fmt.Errorf(format, args...))
}

// workerEnv maps the worker's flags to environment variables.
func workerEnv() map[string][]string {
	env := settings.CommonEnv()
	env["concurrency"] = []string{envConcurrency}
	env["queues"] = []string{envQueues}
	env["poll-interval"] = []string{envPoll}
	env["exec"] = []string{envExec}
	return env
}

// parseQueues parses "a,b=3" into Asynq's queue priorities.
func parseQueues(s string) (map[string]int, error) {
	queues := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, prio, hasPrio := strings.Cut(part, "=")
		p := 1
		if hasPrio {
			n, err := strconv.Atoi(prio)
			if err != nil || n < 1 {
				return nil, usage("--queues: priority %q of queue %q (want an integer >= 1)", prio, name)
			}
			p = n
		}
		queues[strings.TrimSpace(name)] = p
	}
	if len(queues) == 0 {
		return nil, usage("--queues is empty (want at least one queue, like default)")
	}
	return queues, nil
}

// defaultPollInterval is --poll-interval's default, chosen by
// BenchmarkSmallJobs (docs/BENCHMARKS.md): an idle worker starts a new
// job's events after about this long, at the cost of one dequeue script
// per interval on Redis. Asynq's own default, 1 s, made a small job wait
// up to a second and a half before it started.
const defaultPollInterval = 10 * time.Millisecond

// minPollInterval is the shortest --poll-interval accepted: an idle worker
// at 1ns asked Redis 70,000 times a second (an Asynq processor polls in a
// loop), at 1ms about 4,000 per process with 4 Asynq workers.
const minPollInterval = time.Millisecond

// workersPerCPU is --concurrency's default per CPU. An Asynq worker
// alternates between running a chunk's handlers (CPU) and waiting on Redis
// (the dequeue, the write of the outputs, the done), so two per CPU keep
// the CPUs busy through the waits: a warm 20,000-event job through the
// binaries on 2 vCPUs was faster with 4 workers than with 2 in 17 of 20
// alternating pairs, medians 192 and 210 ms (docs/BENCHMARKS.md, issue 17,
// seventh step); 8 was not faster than 4 beyond the noise.
const workersPerCPU = 2

// maxRetryDelay caps the delays of --retry-delay.
const maxRetryDelay = 10 * time.Minute

// retryDelay returns the Asynq retry delay of --retry-delay base: base
// doubled per retry, capped at maxRetryDelay; nil (Asynq's default) when
// base is 0.
func retryDelay(base time.Duration) asynq.RetryDelayFunc {
	if base == 0 {
		return nil
	}
	return func(n int, _ error, _ *asynq.Task) time.Duration {
		d := base
		for range min(n, 30) {
			if d *= 2; d >= maxRetryDelay {
				return maxRetryDelay
			}
		}
		return d
	}
}

// serve runs the worker pool until ctx ends or a signal arrives.
func serve(ctx context.Context, o *options, stderr io.Writer) error {
	log, err := o.common.Logger(stderr)
	if err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	queues, err := parseQueues(o.queues)
	if err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(queues))
	if _, err := o.common.CheckQueues(names...); err != nil {
		return err
	}
	if o.concurrency < 1 {
		return usage("--concurrency %d (want at least 1)", o.concurrency)
	}
	if o.pollInterval < minPollInterval {
		// Asynq would poll Redis in a loop, or take 0 for its own 1s.
		return usage("--poll-interval %v (want at least %v: each look for new events is a script call on Redis)", o.pollInterval, minPollInterval)
	}
	if o.execProcs == 0 {
		o.execProcs = o.concurrency
	}

	redis.SetLogger(telemetry.RedisLogger{L: log})
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	client, target, store, err := o.common.OpenStore("fanin-worker")
	if err != nil {
		return err
	}
	defer client.Close()
	reg := telemetry.NewRegistry()
	completed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "fanin_jobs_completed_total", Help: "Jobs this worker completed (the last event's output) and handed to the coordinator.",
	})
	reg.MustRegister(completed)
	if o.eventTimeout <= 0 {
		return usage("--event-timeout %v (want a positive duration)", o.eventTimeout)
	}
	events := telemetry.NewEventMetrics(reg)
	mux, err := jobs.NewMux(client, store, jobs.MuxConfig{
		OnEvents:     func(_ context.Context, n jobs.EventCounts) { events.Add(n.Kind, n.Done, n.Failed, n.Retried) },
		CollectQueue: o.common.CollectQueue,
		Logger:       log,
		EventTimeout: o.eventTimeout,
		OnComplete: func(ctx context.Context, jobID string, err error) {
			completed.Inc()
			log.Info("job complete, handed to the coordinator", "job", jobID, "err", err)
		},
	})
	if err != nil {
		return err
	}
	if err := zombiejob.RegisterHandler(mux); err != nil {
		return err
	}
	for _, spec := range o.exec {
		kind, command, ok := strings.Cut(spec, "=")
		if !ok || strings.TrimSpace(kind) == "" || strings.TrimSpace(command) == "" {
			return usage("--exec %q (want KIND=COMMAND)", spec)
		}
		if err := execproc.CheckCommand(ctx, command); err != nil {
			return exitcode.With(exitcode.Usage, fmt.Errorf("--exec %s: %w", kind, err))
		}
		h, err := execproc.NewHandler(execproc.Config{Kind: kind, Command: command, Procs: o.execProcs, MaxOutputSize: store.Config().MaxOutputSize, Logger: log})
		if err != nil {
			return exitcode.With(exitcode.Usage, err)
		}
		defer h.Close()
		if err := jobs.HandleRaw(mux, kind, h.Handle); err != nil {
			return exitcode.With(exitcode.Usage, fmt.Errorf("--exec %s: %w", kind, err))
		}
	}

	reg.MustRegister(telemetry.QueueCollector(asynq.NewInspectorFromRedisClient(client), names...))
	tm := telemetry.NewTaskMetrics(reg)
	stopped, err := settings.StartDaemon(ctx, settings.Daemon{
		Name: "worker", Client: client, Target: target, Log: log,
		Registry: reg, MetricsAddr: o.metricsAddr, RedisWait: o.redisWait,
	})
	if stopped || err != nil {
		return err
	}
	settings.WarnOtherDeployment(ctx, client, store, "worker", names, log)

	srv := asynq.NewServerFromRedisClient(client, asynq.Config{
		Concurrency:       o.concurrency,
		Queues:            queues,
		TaskCheckInterval: o.pollInterval,
		ShutdownTimeout:   o.shutdownTimeout,
		RetryDelayFunc:    retryDelay(o.retryDelay),
		Logger:            telemetry.AsynqLogger{L: log},
		LogLevel:          asynq.WarnLevel,
	})
	sm := asynq.NewServeMux()
	sm.Use(tm.Middleware)
	sm.Handle(jobs.TypeEvents, mux)
	sm.Handle(jobs.TypeCollect, mux) // handed back to the collect queue
	if err := srv.Start(sm); err != nil {
		return fmt.Errorf("start the worker pool: %w", err)
	}
	left, err := settings.Announce(ctx, client, store.Config().Namespace, jobs.RoleWorker, mux.Kinds(), names, log)
	if err != nil {
		srv.Shutdown() // before the client closes under it
		return err
	}
	defer left()
	log.Info("worker started", "redis", target.Redacted, "mode", target.Mode, "queues", o.queues,
		"concurrency", o.concurrency, "kinds", strings.Join(mux.Kinds(), ","), "pid", os.Getpid())
	<-ctx.Done()
	log.Info("shutting down: events in flight finish or go back to their queue", "timeout", o.shutdownTimeout)
	srv.Shutdown()
	log.Info("worker stopped")
	return nil
}
