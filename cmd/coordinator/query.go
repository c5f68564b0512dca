package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/workoutput"
)

func (a *app) statusCmd() *cobra.Command {
	var (
		watch    bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status JOB",
		Short: "Show a job's state and counts; --watch follows it live",
		Long: `status shows JOB's state, its events done, failed and pending, and its times;
the last error: of an attempt being retried while the job runs, its latest
failure once it has ended (as inspect --failed gives it).
--watch follows the job until it ends with a live progress line (done,
failed, pending, rate, ETA, what it waits for; on a terminal redrawn in place,
with a bar when the line leaves it room; otherwise a line every
--progress-interval); with --json it prints one status line per poll instead,
the last what status --json gives.
With --watch, the exit code is that of the final state: 0 done, 3 partial,
failed or cancelled.`,
		Args: cobra.ExactArgs(1),
		RunE: a.withJob(func(ctx context.Context, id string, client redis.UniversalClient, store *workoutput.Store) error {
			if !watch {
				st, err := finalStatus(ctx, store, id)
				if err != nil {
					return err
				}
				return a.printStatus(st, a.waiting(ctx, client, store, st)[0], store.Config().FailedRetention)
			}
			opts := a.followOptions(client, store)
			opts.Interval = interval
			if a.json {
				opts.Style, opts.Out = progress.JSONLines, a.stdout
			}
			opts.Final = store.SetFinalLastError // the last line gives what finalStatus does
			st, err := progress.Follow(ctx, store, id, opts)
			if err != nil {
				return statusErr(err)
			}
			if !a.json {
				if err := a.printStatus(st, nil, store.Config().FailedRetention); err != nil {
					return err
				}
			}
			if st.State != workoutput.StateDone {
				return exitcode.With(exitcode.JobFailed, fmt.Errorf("job %s ended %s", id, st.State))
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "follow the job until it ends, with a live progress line (redrawn on a terminal, with a bar when it fits)")
	cmd.Flags().DurationVar(&interval, "interval", progress.DefaultInterval, "with --watch, time between two polls")
	return cmd
}

// finalStatus reads the status of job id for status and inspect: a
// committed job's last error is its latest failure for good
// (Store.SetFinalLastError).
func finalStatus(ctx context.Context, store *workoutput.Store, id string) (workoutput.Status, error) {
	st, err := store.Status(ctx, id)
	if err != nil {
		return st, statusErr(err)
	}
	return st, store.SetFinalLastError(ctx, &st)
}

// printStatus prints st, and what it waits for, as text or JSON; kept is
// how long a failed job committed without retention keeps its data when
// the coordinator binaries committed it (see retention).
func (a *app) printStatus(st workoutput.Status, waiting []string, kept time.Duration) error {
	if a.json {
		j := progress.NewJSON(st)
		j.Waiting = waiting
		return json.NewEncoder(a.stdout).Encode(j)
	}
	return writeStatus(a.stdout, st, waiting, kept)
}

// followOptions are the options of progress.Follow for people: a bar on a
// terminal, periodic lines otherwise (--progress-interval), and what the
// job waits for from the heartbeats.
func (a *app) followOptions(client redis.UniversalClient, store *workoutput.Store) progress.Options {
	return progress.Options{Out: a.stderr, Style: progress.Auto(a.stderr), Every: a.every,
		Notes: func(ctx context.Context, st workoutput.Status) []string { return a.waiting(ctx, client, store, st)[0] }}
}

// errorText is a failure's humanized reason (exitcode.Humanize) as the text
// forms print it: a handler may fail with an empty error, which reads as
// such.
func errorText(text string) string {
	if text == "" {
		return "(an error with no message)"
	}
	return text
}

// writeStatus writes st, and what it waits for, for people; kept is as for
// printStatus.
func writeStatus(w io.Writer, st workoutput.Status, waiting []string, kept time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	sealed := "sealed"
	switch {
	case st.Sealed:
	case st.State == workoutput.StateOpen:
		sealed = "open for more events"
	default:
		sealed = "never sealed"
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "job\t%s\n", st.ID)
	fmt.Fprintf(tw, "kind\t%s\n", st.Kind)
	if st.Name != "" {
		fmt.Fprintf(tw, "name\t%s\n", st.Name)
	}
	fmt.Fprintf(tw, "state\t%s (%s)\n", st.State, sealed)
	if st.Stalled != "" {
		fmt.Fprintf(tw, "waiting\t%s\n", st.Stalled)
	}
	for _, w := range waiting {
		fmt.Fprintf(tw, "waiting\t%s\n", w)
	}
	fmt.Fprintf(tw, "events\t%d: %d done, %d failed, %d pending\n", st.Total, st.Done, st.Failed, st.Pending)
	if st.Retrying > 0 {
		fmt.Fprintf(tw, "retrying\t%d events failed an attempt and will be retried\n", st.Retrying)
	}
	if last := st.LastError; last.EventID != "" { // a failure's reason may be empty
		attempt := fmt.Sprintf("attempt %d", last.Attempts)
		if st.State.Committed() {
			attempt = fmt.Sprintf("failed after %d attempts", last.Attempts) // its final failure (Store.SetFinalLastError)
		}
		fmt.Fprintf(tw, "last error\tevent %s, %s, %s: %s\n", last.EventID, attempt,
			last.Time.UTC().Format(time.RFC3339), errorText(exitcode.Humanize(last.Reason)))
	}
	if st.Retried > 0 {
		fmt.Fprintf(tw, "retried\t%d times (coordinator retry)\n", st.Retried)
	}
	fmt.Fprintf(tw, "created\t%s\n", ts(st.Created))
	fmt.Fprintf(tw, "deadline\t%s\n", ts(st.Deadline))
	fmt.Fprintf(tw, "completed\t%s\n", ts(st.Completed))
	fmt.Fprintf(tw, "finished\t%s\n", ts(st.Finished))
	timeout := "the worker's"
	if st.EventTimeout > 0 {
		timeout = st.EventTimeout.String()
	}
	fmt.Fprintf(tw, "policy\t%s, %d retries, retention %s, event timeout %s\n", st.FailurePolicy, st.MaxRetry, retention(st, kept), timeout)
	if st.Error != "" {
		fmt.Fprintf(tw, "error\t%s\n", exitcode.Humanize(st.Error))
	}
	return tw.Flush()
}

// retention describes how long st's data is kept once finished: its own
// retention, and for a failed job committed without one, how long its data
// is kept: the FailedRetention of the coordinator that committed it, which
// the commit records (Status.RetainedFor). A job committed by a version of
// fanin that did not record it gets kept, the FailedRetention of
// coordinator run and serve (which have no setting for it), as such.
func retention(st workoutput.Status, kept time.Duration) string {
	r := st.Retention.String()
	if st.State != workoutput.StateFailed || st.Retention > 0 || !st.Retained {
		return r
	}
	until := func(d time.Duration) string {
		if st.Finished.IsZero() {
			return ""
		}
		return ": until " + st.Finished.Add(d).UTC().Format(time.RFC3339)
	}
	if st.RetainedFor > 0 {
		return fmt.Sprintf("%s (failed: its data is kept %s after it finished%s, for inspect, replay and retry)",
			r, shortDuration(st.RetainedFor), until(st.RetainedFor))
	}
	return fmt.Sprintf("%s (failed: its data is kept for its coordinator's FailedRetention, %s in coordinator run and serve%s, for inspect, replay and retry)",
		r, shortDuration(kept), until(kept))
}

// shortDuration is d without its trailing zero units: 24h, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (a *app) listCmd() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the jobs in Redis, newest first",
		Long: `list shows every job whose data is still in Redis (finished jobs stay for their
retention), newest first. --state keeps the jobs in the given states
(comma-separated: open, running, complete, collecting, done, partial,
failed, cancelled). With --json, each job is as status --json gives it,
a committed job's last error (its latest failure for good) included.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			want := map[workoutput.State]bool{}
			for s := range strings.SplitSeq(state, ",") {
				s = strings.TrimSpace(s)
				if s == "" {
					continue
				}
				if !validState(workoutput.State(s)) {
					return usage("--state %q (want one of %s)", s, stateNames())
				}
				want[workoutput.State(s)] = true
			}
			ctx := cmd.Context()
			client, store, _, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			var sts []workoutput.Status
			for id, err := range store.Jobs(ctx) {
				if err != nil {
					return err
				}
				st, err := store.Status(ctx, id)
				if errorsIs(err, workoutput.ErrJobNotFound) {
					continue // expired meanwhile
				}
				if err != nil {
					return err
				}
				if len(want) == 0 || want[st.State] {
					sts = append(sts, st)
				}
			}
			slices.SortFunc(sts, func(x, y workoutput.Status) int {
				return cmp.Or(y.Created.Compare(x.Created), strings.Compare(x.ID, y.ID))
			})
			waiting := a.waiting(ctx, client, store, sts...)
			if a.json {
				for i := range sts { // a committed job's last error, as status gives it
					if err := store.SetFinalLastError(ctx, &sts[i]); err != nil {
						return err
					}
				}
				out := make([]progress.JSON, len(sts))
				for i, st := range sts {
					out[i] = progress.NewJSON(st)
					out[i].Waiting = waiting[i]
				}
				return json.NewEncoder(a.stdout).Encode(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "JOB\tSTATE\tKIND\tDONE\tFAILED\tTOTAL\tCREATED\tNAME\tWAITING")
			for i, st := range sts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", st.ID, st.State, st.Kind, st.Done, st.Failed, st.Total,
					st.Created.UTC().Format(time.RFC3339), st.Name, strings.Join(waiting[i], "; "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only jobs in these states, comma-separated")
	return cmd
}

// validState reports whether s is a job state.
func validState(s workoutput.State) bool { return slices.Contains(workoutput.States(), s) }

// stateNames lists the job states for a usage message.
func stateNames() string {
	names := make([]string, 0, len(workoutput.States()))
	for _, s := range workoutput.States() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func (a *app) inspectCmd() *cobra.Command {
	var (
		missing, failed, outputs bool
		limit                    int
	)
	cmd := &cobra.Command{
		Use:   "inspect JOB",
		Short: "Show a job with its missing events, failures or outputs",
		Long: `inspect shows JOB's status and, on request, the IDs of its events that have
neither output nor failure (--missing: what a stuck job waits for), its failed
events with their reasons (--failed) and its outputs (--outputs), each list cut
at --limit entries.`,
		Args: cobra.ExactArgs(1),
		PreRunE: func(*cobra.Command, []string) error {
			if limit < 0 {
				return usage("--limit %d (want >= 0; 0 means no limit)", limit)
			}
			return nil
		},
		RunE: a.withJob(func(ctx context.Context, id string, client redis.UniversalClient, store *workoutput.Store) error {
			st, err := finalStatus(ctx, store, id)
			if err != nil {
				return err
			}
			rep := inspection{Status: progress.NewJSON(st)}
			rep.Status.Waiting = a.waiting(ctx, client, store, st)[0]
			var cut [3]bool
			if missing {
				if rep.Missing, cut[0], err = a.missing(ctx, store, id, limit); err != nil {
					return err
				}
			}
			if failed {
				rep.Failed, cut[1], err = upTo(store.Failures(ctx, id), limit, func(f workoutput.Failure) failureJSON {
					return failureJSON{ID: f.EventID, Reason: exitcode.Humanize(f.Reason), Attempts: f.Attempts, At: f.Time.UTC()}
				})
				if err != nil {
					return err
				}
				slices.SortFunc(rep.Failed, func(x, y failureJSON) int { return strings.Compare(x.ID, y.ID) })
			}
			if outputs {
				rep.Outputs, cut[2], err = upTo(store.Outputs(ctx, id), limit, func(o cache.HashField) outputJSON {
					raw, err := o.Item.Raw(cache.JSONCodec{})
					v := json.RawMessage(raw)
					if err != nil || !json.Valid(v) {
						v, _ = json.Marshal(string(raw))
					}
					return outputJSON{ID: o.Field, Output: v}
				})
				if err != nil {
					return err
				}
				slices.SortFunc(rep.Outputs, func(x, y outputJSON) int { return strings.Compare(x.ID, y.ID) })
			}
			rep.Truncated = cut[0] || cut[1] || cut[2]
			if a.json {
				return json.NewEncoder(a.stdout).Encode(rep)
			}
			return rep.write(a.stdout, st, store.Config().FailedRetention)
		}),
	}
	fs := cmd.Flags()
	fs.BoolVar(&missing, "missing", false, "list the events with neither output nor failure")
	fs.BoolVar(&failed, "failed", false, "list the failed events and why")
	fs.BoolVar(&outputs, "outputs", false, "list the outputs")
	fs.IntVar(&limit, "limit", 100, "at most this many entries per list; 0 for all")
	return cmd
}

// upTo reads at most limit items of seq (all when limit is 0), converted
// by conv, and reports whether there were more. The list is never nil.
func upTo[T, U any](seq iter.Seq2[T, error], limit int, conv func(T) U) ([]U, bool, error) {
	out := []U{}
	for v, err := range seq {
		if err != nil {
			return nil, false, err
		}
		if limit > 0 && len(out) == limit {
			return out, true, nil
		}
		out = append(out, conv(v))
	}
	return out, false, nil
}

// missing lists up to limit events of job id with neither output nor
// failure, sorted, each with its failed attempts when it is being retried.
func (a *app) missing(ctx context.Context, store *workoutput.Store, id string, limit int) ([]missingJSON, bool, error) {
	ids, cut, err := upTo(store.Missing(ctx, id), limit, func(id string) string { return id })
	if err != nil {
		return nil, false, err
	}
	slices.Sort(ids)
	out := make([]missingJSON, len(ids))
	for start := 0; start < len(ids); start += 1000 {
		part := ids[start:min(start+1000, len(ids))]
		att, err := store.Attempts(ctx, id, part)
		if err != nil {
			return nil, false, err
		}
		for i, e := range part {
			out[start+i] = missingJSON{ID: e}
			if f, ok := att[e]; ok {
				at := f.Time.UTC()
				out[start+i].Attempts, out[start+i].LastError, out[start+i].At = f.Attempts, exitcode.Humanize(f.Reason), &at
			}
		}
	}
	return out, cut, nil
}

// missingJSON is an event with neither output nor failure, and its failed
// attempts so far (none: not tried yet, or in flight).
type missingJSON struct {
	ID        string     `json:"id"`
	Attempts  int        `json:"attempts,omitempty"`
	LastError string     `json:"last_error,omitempty"`
	At        *time.Time `json:"at,omitempty"`
}

// inspection is inspect's report.
type inspection struct {
	Status    progress.JSON `json:"status"`
	Missing   []missingJSON `json:"missing,omitzero"`
	Failed    []failureJSON `json:"failed,omitzero"`
	Outputs   []outputJSON  `json:"outputs,omitzero"`
	Truncated bool          `json:"truncated,omitempty"`
}

type failureJSON struct {
	ID       string    `json:"id"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

type outputJSON struct {
	ID     string          `json:"id"`
	Output json.RawMessage `json:"output"`
}

// write prints the report for people; kept is as for writeStatus.
func (r inspection) write(w io.Writer, st workoutput.Status, kept time.Duration) error {
	if err := writeStatus(w, st, r.Status.Waiting, kept); err != nil {
		return err
	}
	if r.Missing != nil {
		fmt.Fprintf(w, "\nmissing events (%d shown):\n", len(r.Missing))
		for _, m := range r.Missing {
			if m.Attempts == 0 {
				fmt.Fprintf(w, "  %s\n", m.ID)
				continue
			}
			fmt.Fprintf(w, "  %s: %d attempts failed, the last at %s: %s (retried)\n", m.ID, m.Attempts, m.At.Format(time.RFC3339), errorText(m.LastError))
		}
	}
	if r.Failed != nil {
		fmt.Fprintf(w, "\nfailed events (%d shown):\n", len(r.Failed))
		for _, f := range r.Failed {
			fmt.Fprintf(w, "  %s after %d attempts at %s: %s\n", f.ID, f.Attempts, f.At.Format(time.RFC3339), errorText(f.Reason))
		}
	}
	if r.Outputs != nil {
		fmt.Fprintf(w, "\noutputs (%d shown):\n", len(r.Outputs))
		for _, o := range r.Outputs {
			fmt.Fprintf(w, "  %s: %s\n", o.ID, o.Output)
		}
	}
	if r.Truncated {
		fmt.Fprintln(w, "\n(lists cut at --limit)")
	}
	return nil
}
