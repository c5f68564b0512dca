package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/outfile"
	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/workoutput"
)

// errorsIs is errors.Is, named for the switch-heavy callers.
func errorsIs(err, target error) bool { return errors.Is(err, target) }

// follow are the flags of commands that wait for a job's result.
type follow struct {
	wait    bool
	timeout time.Duration
	out     string
}

func (f *follow) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&f.wait, "wait", false, "wait until the job ends, showing its progress on stderr (a line redrawn on a terminal, with a bar when it fits; a line every --progress-interval otherwise; nothing with --json)")
	fs.DurationVar(&f.timeout, "timeout", 0, "with --wait, give up after this long (exit code 5); 0 waits forever")
	fs.StringVar(&f.out, "out", "", outHelp)
}

func (a *app) collectCmd() *cobra.Command {
	var f follow
	cmd := &cobra.Command{
		Use:   "collect JOB",
		Short: "Print or write the result of a job",
		Long: `collect prints the committed result of JOB to stdout, or writes it to --out.
The coordinator daemon (coordinator run) reduces and commits results; collect
reads them. With --wait it waits for the job to end.

A done job exits 0. A partial job (failed events under policy continue) prints
its result and exits 3; a failed or cancelled job prints why and exits 3. A
job that has not ended exits 5 (without --wait, or when --timeout passes).`,
		Args: cobra.ExactArgs(1),
		RunE: a.withJob(func(ctx context.Context, id string, client redis.UniversalClient, store *workoutput.Store) error {
			if err := checkOut(f.out); err != nil {
				return err // before waiting for nothing
			}
			return a.collect(ctx, client, store, id, f)
		}),
	}
	f.addFlags(cmd.Flags())
	return cmd
}

// collect waits for id per f, then prints or writes its result and maps its
// final state to the exit code.
func (a *app) collect(ctx context.Context, client redis.UniversalClient, store *workoutput.Store, id string, f follow) error {
	st, err := store.Status(ctx, id)
	if err != nil {
		return statusErr(err)
	}
	if !st.State.Terminal() {
		if !f.wait {
			return exitcode.With(exitcode.NotReady, fmt.Errorf("job %s is %s (%d of %d events finished): no result yet (use --wait)", id, st.State, st.Done+st.Failed, st.Total))
		}
		wctx := ctx
		if f.timeout > 0 {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, f.timeout)
			defer cancel()
		}
		opts := a.followOptions(client, store)
		if a.json {
			opts.Style = progress.None
		}
		before := st
		st, err = progress.Follow(wctx, store, id, opts)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			if st.State == "" { // the timeout came before Follow's first read
				st = before
			}
			return exitcode.With(exitcode.NotReady, fmt.Errorf("job %s is still %s after --timeout %v (%d of %d events finished)", id, st.State, f.timeout, st.Done+st.Failed, st.Total))
		}
		if err != nil {
			return statusErr(err)
		}
	}
	var result []byte
	if st.State == workoutput.StateDone || st.State == workoutput.StatePartial {
		if result, err = store.Result(ctx, id); err != nil {
			return statusErr(err)
		}
	}
	if err := a.writeResult(st, result, f.out); err != nil {
		return err
	}
	switch st.State {
	case workoutput.StateDone:
		return nil
	case workoutput.StatePartial:
		return exitcode.With(exitcode.JobFailed, fmt.Errorf("job %s is partial: %d events failed, %d missing; the result covers the %d others", id, st.Failed, st.Pending, st.Done))
	case workoutput.StateCancelled:
		return exitcode.With(exitcode.JobFailed, fmt.Errorf("job %s was cancelled", id))
	}
	return exitcode.With(exitcode.JobFailed, fmt.Errorf("job %s failed: %s", id, st.Error))
}

// resultJSON is collect's --json output.
type resultJSON struct {
	Job    string          `json:"job"`
	State  string          `json:"state"`
	Done   int64           `json:"done"`
	Failed int64           `json:"failed"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Out    string          `json:"out,omitempty"`
}

// outHelp documents --out.
const outHelp = `write the result (exactly its bytes) to this file instead of stdout ("-": stdout); a regular file is replaced atomically keeping its mode, a new one honours the umask, a symlink is followed, a device or FIFO is written in place (a FIFO without a reader blocks, like a shell redirect); a path that cannot take the file (a missing directory, no permission) exits 2`

// checkOut refuses, with the usage exit code, an --out path that cannot
// take the file (outfile.CheckFlag); "" and "-" (stdout) pass.
func checkOut(out string) error { return outfile.CheckFlag("--out", out) }

// writeResult writes result to out (see outHelp) or stdout.
func (a *app) writeResult(st workoutput.Status, result []byte, out string) error {
	if out == "-" {
		out = ""
	}
	if out != "" && result != nil {
		if err := outfile.Write(out, result); err != nil {
			return fmt.Errorf("--out %s: %w", out, err)
		}
	}
	if a.json {
		r := resultJSON{Job: st.ID, State: string(st.State), Done: st.Done, Failed: st.Failed, Error: st.Error, Out: out}
		if out == "" && result != nil {
			r.Result = result
			if !json.Valid(result) {
				r.Result, _ = json.Marshal(string(result))
			}
		}
		return json.NewEncoder(a.stdout).Encode(r)
	}
	if out != "" || result == nil {
		return nil
	}
	if len(result) > 0 && result[len(result)-1] != '\n' {
		result = append(result[:len(result):len(result)], '\n')
	}
	_, err := a.stdout.Write(result)
	return err
}

// statusErr gives a store error its exit code.
func statusErr(err error) error {
	if errors.Is(err, workoutput.ErrInvalid) {
		return exitcode.With(exitcode.Usage, err)
	}
	return err
}

func (a *app) cancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel JOB",
		Short: "Cancel a job: workers skip its remaining events",
		Args:  cobra.ExactArgs(1),
		RunE: a.withJob(func(ctx context.Context, id string, _ redis.UniversalClient, store *workoutput.Store) error {
			if err := store.Cancel(ctx, id); err != nil {
				return statusErr(err)
			}
			if a.json {
				return json.NewEncoder(a.stdout).Encode(map[string]string{"job": id, "state": string(workoutput.StateCancelled)})
			}
			_, err := fmt.Fprintf(a.stdout, "job %s cancelled\n", id)
			return err
		}),
	}
}
