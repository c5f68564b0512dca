package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/redisurl"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/workoutput"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const exitCodes = `Exit codes:
  0  success
  1  any other error
  2  usage error: bad flag or argument, unreadable or malformed events file,
     malformed Redis URL or namespace, queues that cross the collect queue,
     an --out path that cannot take the result
  3  the job failed, ended partial or was cancelled
  4  Redis unreachable (run: rejected the connection, a database it does not
     have, or unreachable past --redis-wait)
  5  not ready: the job has no result yet, or --timeout passed first`

const envHelp = `Environment variables (a flag given on the command line wins):
  FANIN_REDIS_URL, REDIS_URL     --redis
  FANIN_REDIS_CA_FILE            --redis-ca-file
  FANIN_REDIS_SENTINEL_MASTER    --sentinel-master
  FANIN_NAMESPACE                --namespace
  FANIN_COLLECT_QUEUE            --collect-queue
  FANIN_METRICS_ADDR             --metrics-addr (run)
  FANIN_REDIS_WAIT               --redis-wait (run, serve)
  FANIN_API_TOKEN, FANIN_API_ADDR  --token, --addr (serve)
  FANIN_LOG_FORMAT, FANIN_LOG_LEVEL

` + settings.QueueRule

// app holds what every subcommand shares.
type app struct {
	common settings.Common
	json   bool
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// run runs the coordinator CLI with args and returns its exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "coordinator",
		Short: "Submit, follow and collect fanin jobs; run the coordinator daemon",
		Long: "coordinator submits fanin jobs, follows them, reads their results, and runs the\n" +
			"daemon (coordinator run) that reduces each complete job and commits its result\n" +
			"exactly once, however many coordinators run.\n\n" + envHelp + "\n\n" + exitCodes,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := settings.FromEnv(cmd.Flags(), settings.CommonEnv()); err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			log, err := a.common.Logger(stderr)
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			a.log = log
			redis.SetLogger(telemetry.RedisLogger{L: log})
			return nil
		},
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	pf := root.PersistentFlags()
	a.common.AddFlags(pf)
	pf.BoolVar(&a.json, "json", false, "print JSON for scripts instead of text")
	root.AddCommand(a.submitCmd(), a.runCmd(), a.statusCmd(), a.listCmd(), a.inspectCmd(),
		a.collectCmd(), a.cancelCmd(), a.replayCmd(), a.serveCmd())
	for _, c := range root.Commands() {
		c.SilenceUsage, c.SilenceErrors = true, true
	}

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	fmt.Fprintf(stderr, "coordinator: %v\n", err)
	return settings.ExitCode(err)
}

// connect opens Redis and the store.
func (a *app) connect(ctx context.Context) (redis.UniversalClient, *workoutput.Store, *redisurl.Target, error) {
	client, target, err := a.common.Connect(ctx, "fanin-coordinator")
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := a.common.Store(client)
	if err != nil {
		_ = client.Close()
		return nil, nil, nil, exitcode.With(exitcode.Usage, err)
	}
	return client, store, target, nil
}

// withJob returns a RunE for commands of one JOB argument: it validates
// the job ID, connects, and calls fn.
func (a *app) withJob(fn func(ctx context.Context, id string, client redis.UniversalClient, store *workoutput.Store) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		id, err := jobArg(args)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		client, store, _, err := a.connect(ctx)
		if err != nil {
			return err
		}
		defer client.Close()
		return fn(ctx, id, client, store)
	}
}

// jobArg validates a job ID argument.
func jobArg(args []string) (string, error) {
	if err := workoutput.ValidateJobID(args[0]); err != nil {
		return "", exitcode.With(exitcode.Usage, err)
	}
	return args[0], nil
}

// usage returns a usage error.
func usage(format string, args ...any) error {
	return exitcode.With(exitcode.Usage, fmt.Errorf(format, args...))
}
