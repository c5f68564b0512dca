package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/heapfloor"
	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/redisurl"
	"github.com/fanin-dev/fanin/internal/refusal"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/workoutput"
)

func main() {
	// The collector waits for a heap of heapfloor.Floor while little is
	// alive (unless GOGC or GOMEMLIMIT is set): not in run, which tests
	// call in their own process.
	heapfloor.Start(heapfloor.Floor)
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
     have, a Redis user that may not write the deployment's keys, or
     unreachable past --redis-wait)
  5  not ready: the job has no result yet, or --timeout passed first`

const envHelp = `Every flag has an environment variable, named in its help (a flag given on
the command line wins): FANIN_ and the flag's name in upper case, '-' as '_',
for the global flags (--namespace: FANIN_NAMESPACE, --json: FANIN_JSON);
FANIN_<COMMAND>_<FLAG> for a command's own flags (submit --max-retry:
FANIN_SUBMIT_MAX_RETRY), except those shared by several commands or by the
worker: FANIN_METRICS_ADDR, FANIN_REDIS_WAIT, FANIN_REPLICA_WAIT,
FANIN_REQUIRE_SERVED, FANIN_REDUCER (several, one per line), FANIN_LOCK_TTL,
FANIN_SINK_DIR, FANIN_EVENT_TIMEOUT, and serve's FANIN_API_TOKEN (--token)
and FANIN_API_ADDR (--addr). --redis also reads REDIS_URL.

` + settings.QueueRule

// app holds what every subcommand shares.
type app struct {
	common settings.Common
	json   bool
	// every is how often a progress line is written when stderr is not a
	// terminal (--progress-interval).
	every  time.Duration
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// sharedEnv names the variables of the flags several commands (or the
// worker) share; the others are derived by settings.EnvOf.
func sharedEnv() map[string][]string {
	env := settings.CommonEnv()
	env["require-served"] = []string{"FANIN_REQUIRE_SERVED"}
	env["reducer"] = []string{"FANIN_REDUCER"}
	env["lock-ttl"] = []string{"FANIN_LOCK_TTL"}
	env["sink-dir"] = []string{"FANIN_SINK_DIR"}
	env["event-timeout"] = []string{"FANIN_EVENT_TIMEOUT"}
	env["token"] = []string{envAPIToken}
	env["addr"] = []string{envAPIAddr}
	return env
}

// run runs the coordinator CLI with args and returns its exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	envs := map[*cobra.Command]map[string][]string{}
	root := &cobra.Command{
		Use:   "coordinator",
		Short: "Submit, follow and collect fanin jobs; run the coordinator daemon",
		Long: "coordinator submits fanin jobs, follows them, reads their results, and runs the\n" +
			"daemon (coordinator run) that reduces each complete job and commits its result\n" +
			"exactly once, however many coordinators run.\n\n" + envHelp + "\n\n" + exitCodes,
		Version:       settings.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := settings.FromEnv(cmd.Flags(), envs[cmd]); err != nil {
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
	root.SetVersionTemplate("coordinator {{.Version}}\n")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.With(exitcode.Usage, fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	pf := root.PersistentFlags()
	a.common.AddFlags(pf)
	pf.BoolVar(&a.json, "json", false, "print JSON for scripts instead of text, errors included (on stderr: {\"error\":\"…\",\"exit_code\":N})")
	pf.DurationVar(&a.every, "progress-interval", progress.DefaultEvery, "when stderr is not a terminal, how often --wait and status --watch write a progress line (a new phase writes one at once)")
	root.AddCommand(a.submitCmd(), a.runCmd(), a.statusCmd(), a.listCmd(), a.inspectCmd(),
		a.collectCmd(), a.cancelCmd(), a.replayCmd(), a.retryCmd(), a.serveCmd(), a.kindsCmd())
	global := settings.EnvOf(pf, "", sharedEnv())
	envs[root] = global
	for _, c := range root.Commands() {
		c.SilenceUsage, c.SilenceErrors = true, true
		envs[c] = settings.Merge(global, settings.EnvOf(c.Flags(), c.Name()+"_", sharedEnv()))
	}

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	code := settings.ExitCode(err)
	if a.json || wantJSON(args) {
		_ = json.NewEncoder(stderr).Encode(map[string]any{"error": exitcode.Message(err), "exit_code": code})
	} else {
		fmt.Fprintf(stderr, "coordinator: %s\n", exitcode.Message(err))
	}
	return code
}

// wantJSON reports whether JSON was asked for (--json, or FANIN_JSON) by a
// command line that failed before its flags were read.
func wantJSON(args []string) bool {
	for _, arg := range args {
		if arg == "--" {
			break
		}
		if v, ok := strings.CutPrefix(arg, "--json="); ok {
			b, _ := strconv.ParseBool(v)
			return b
		}
		if arg == "--json" {
			return true
		}
	}
	b, _ := strconv.ParseBool(os.Getenv("FANIN_JSON"))
	return b
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
// the job ID, connects, and calls fn. A job not found is reported with the
// namespace searched (refusal.NotFound), and how to choose another.
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
		return refusal.NotFound(fn(ctx, id, client, store), store.Config().Namespace)
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
