package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fanin-dev/fanin/examples/zombies/sightings"
	"github.com/fanin-dev/fanin/examples/zombies/zombiejob"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/outfile"
	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// demo are the demo's flags.
type demo struct {
	common  settings.Common
	n       int
	seed    int64
	workers int
	chunk   int
	out     string
	json    bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var d demo
	root := &cobra.Command{
		Use:   "zombies",
		Short: "fanin's demo: zombie sightings analysed by a worker pool and reduced by a coordinator",
		Long: `zombies generates --sightings zombie sightings from --seed, submits them as one
fanin job, analyses each with a pool of --workers workers, reduces the
analyses with a coordinator and prints the result: the largest herds, where
they are heading, and the cities to notify.

Producer, workers and coordinator run in this one process. With no Redis
configured (--redis or FANIN_REDIS_URL) it starts an embedded in-process Redis
(miniredis) that lives as long as the program; with one, it uses that Redis.

The result is deterministic: the same seed and number of sightings give a
byte-identical result JSON (--out FILE) whatever the number of workers.

Exit codes: 0 success, 1 error, 2 usage error, 3 the job failed, 4 Redis
unreachable.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env := settings.CommonEnv()
			env["redis"] = []string{settings.EnvRedisURL} // not REDIS_URL: the demo is embedded unless asked
			if err := settings.FromEnv(cmd.Flags(), env); err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			return d.run(cmd.Context(), stdout, stderr)
		},
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	fs := root.Flags()
	d.common.AddFlags(fs)
	fs.Lookup("redis").Usage = "Redis URL (env " + settings.EnvRedisURL + "); default: an embedded in-process Redis"
	fs.Lookup("log-level").DefValue, d.common.LogLevel = "warn", "warn"
	fs.IntVarP(&d.n, "sightings", "n", 20_000, "number of sightings to generate")
	fs.Int64Var(&d.seed, "seed", 42, "seed of the generator")
	fs.IntVar(&d.workers, "workers", 4, "events analysed at once")
	fs.IntVar(&d.chunk, "chunk", 0, fmt.Sprintf("events per Asynq task, at most %d (default %d)", jobs.MaxChunkSize, jobs.DefaultChunkSize))
	fs.StringVar(&d.out, "out", "", `also write the result JSON to this file ("-": print it instead of the summary, like --json); a regular file is replaced atomically keeping its mode, a new one honours the umask, a symlink is followed, a device or FIFO is written in place (a FIFO without a reader blocks, like a shell redirect); a path that cannot take the file (a missing directory, no permission) exits 2 before the demo runs`)
	fs.BoolVar(&d.json, "json", false, "print the result JSON instead of the summary")
	root.AddCommand(generateCmd(stdout))

	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "zombies: %s\n", exitcode.Message(err))
	}
	return settings.ExitCode(err)
}

// generateCmd writes sightings as JSON lines.
func generateCmd(stdout io.Writer) *cobra.Command {
	var (
		n    int
		seed int64
		out  string
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write generated sightings as JSON lines (the events file of coordinator submit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 0 {
				return exitcode.With(exitcode.Usage, fmt.Errorf("--sightings %d (want >= 0)", n))
			}
			gen := func(w io.Writer) error {
				enc := json.NewEncoder(w)
				for s := range sightings.GenerateSeq(seed, n) {
					if err := enc.Encode(s); err != nil {
						return err
					}
				}
				return nil
			}
			if out == "" || out == "-" {
				bw := bufio.NewWriter(stdout)
				if err := gen(bw); err != nil {
					return err
				}
				return bw.Flush()
			}
			if err := outfile.WriteFunc(out, gen); err != nil {
				return fmt.Errorf("--out %s: %w", out, err)
			}
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "sightings", "n", 20_000, "number of sightings")
	cmd.Flags().Int64Var(&seed, "seed", 42, "seed of the generator")
	cmd.Flags().StringVar(&out, "out", "", `write to this file instead of stdout ("-": stdout); a regular file is replaced atomically once complete, keeping its mode, a new one honours the umask, a symlink is followed, a device or FIFO is written in place (a FIFO without a reader blocks, like a shell redirect); a path that cannot take the file (a missing directory, no permission) exits 2`)
	return cmd
}

// run runs the demo.
func (d *demo) run(ctx context.Context, stdout, stderr io.Writer) error {
	if d.n < 0 || d.workers < 1 || d.chunk < 0 || d.chunk > jobs.MaxChunkSize {
		return exitcode.With(exitcode.Usage, fmt.Errorf("--sightings must be >= 0, --workers >= 1, --chunk from 0 to at most %d (got %d, %d, %d)", jobs.MaxChunkSize, d.n, d.workers, d.chunk))
	}
	dep, err := d.common.CheckQueues()
	if err != nil {
		return err
	}
	if d.out == "-" {
		d.out, d.json = "", true
	}
	if err := outfile.CheckFlag("--out", d.out); err != nil {
		return err
	}
	if d.common.RedisURL == "" && d.common.ReplicaAcks > 0 {
		return exitcode.With(exitcode.Usage, fmt.Errorf("--replica-acks %d needs a Redis with replicas; the embedded Redis has none (give --redis)", d.common.ReplicaAcks))
	}
	log, err := d.common.Logger(stderr)
	if err != nil {
		return exitcode.With(exitcode.Usage, err)
	}
	redis.SetLogger(telemetry.RedisLogger{L: log})
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	client, where, err := d.connect(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	store, err := d.common.Store(client)
	if err != nil {
		return err
	}

	// The worker pool.
	mux, err := jobs.NewMux(client, store, jobs.MuxConfig{CollectQueue: d.common.CollectQueue, Logger: log})
	if err != nil {
		return err
	}
	if err := zombiejob.RegisterHandler(mux); err != nil {
		return err
	}
	srv := asynq.NewServerFromRedisClient(client, asynq.Config{
		Concurrency:       d.workers,
		Queues:            map[string]int{dep.EventsQueue(): 1},
		TaskCheckInterval: 50 * time.Millisecond,
		Logger:            telemetry.AsynqLogger{L: log},
		LogLevel:          asynq.WarnLevel,
	})
	sm := asynq.NewServeMux()
	sm.Handle(jobs.TypeEvents, mux)
	if err := srv.Start(sm); err != nil {
		return fmt.Errorf("start the worker pool: %w", err)
	}
	defer srv.Shutdown()

	// The coordinator.
	coord, err := jobs.NewCoordinator(client, store, jobs.CoordinatorConfig{Queue: d.common.CollectQueue, EventsQueue: dep.EventsQueue(), Logger: log})
	if err != nil {
		return err
	}
	defer coord.Close()
	if err := coord.Handle(zombiejob.Kind, zombiejob.Reducer()); err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	coordDone := make(chan error, 1)
	go func() { coordDone <- coord.Run(cctx) }()
	defer func() { cancel(); <-coordDone }()

	// The producer.
	fmt.Fprintf(stderr, "zombies: %s; %d sightings (seed %d), %d workers\n", where, d.n, d.seed, d.workers)
	start := time.Now()
	events, err := zombiejob.Events(sightings.GenerateSeq(d.seed, d.n))
	if err != nil {
		return err
	}
	p, err := jobs.NewProducer(client, store, jobs.ProducerConfig{Queue: dep.EventsQueue(), CollectQueue: d.common.CollectQueue, ChunkSize: d.chunk})
	if err != nil {
		return err
	}
	id, err := p.Submit(ctx, workoutput.Spec{Kind: zombiejob.Kind, Name: fmt.Sprintf("demo seed %d", d.seed)}, events)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "zombies: submitted job %s\n", id)

	style := progress.Lines
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		style = progress.Bar
	}
	st, err := progress.Follow(ctx, store, id, progress.Options{Out: stderr, Style: style, Interval: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	if st.State != workoutput.StateDone {
		return exitcode.With(exitcode.JobFailed, fmt.Errorf("job %s ended %s: %s", id, st.State, st.Error))
	}
	result, err := store.Result(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "zombies: job %s done in %v\n", id, time.Since(start).Round(time.Millisecond))
	if d.out != "" {
		if err := outfile.Write(d.out, result); err != nil {
			return fmt.Errorf("--out %s: %w", d.out, err)
		}
	}
	if d.json {
		_, err = fmt.Fprintf(stdout, "%s\n", result)
		return err
	}
	summary, err := zombiejob.Summary(result)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, summary)
	return err
}

// connect returns a client of the configured Redis or of an embedded one,
// and says which.
func (d *demo) connect(ctx context.Context) (redis.UniversalClient, string, error) {
	if d.common.RedisURL != "" {
		client, target, err := d.common.Connect(ctx, "fanin-zombies-demo")
		if err != nil {
			return nil, "", err
		}
		return client, "Redis at " + target.Redacted, nil
	}
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		return nil, "", fmt.Errorf("start the embedded Redis: %w", err)
	}
	go advanceClock(ctx, m)
	client := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	return &closeBoth{UniversalClient: client, m: m}, "embedded Redis (miniredis)", nil
}

// advanceClock makes the embedded Redis's TTLs pass with wall-clock time:
// miniredis only expires keys when told time has passed.
func advanceClock(ctx context.Context, m *miniredis.Miniredis) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.FastForward(now.Sub(last))
			last = now
		}
	}
}

// closeBoth closes the client, then the embedded Redis.
type closeBoth struct {
	redis.UniversalClient
	m *miniredis.Miniredis
}

func (c *closeBoth) Close() error {
	err := c.UniversalClient.Close()
	c.m.Close()
	return err
}
