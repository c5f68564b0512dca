package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/internal/eventfile"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

func (a *app) submitCmd() *cobra.Command {
	var (
		kind, events, name, idField, queue, retention, policy string
		deadline, replicaWait                                 time.Duration
		chunk, maxRetry                                       int
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

While Redis, or with --replica-acks its replicas, do not acknowledge a step
(a replica still in its first sync, say), submit retries it for up to
--replica-wait, saying on stderr what it waits for; then it fails (exit 4)
and cancels the job, which list then shows as cancelled.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(kind) == "" || events == "" {
				return usage("submit needs --kind and --events (see coordinator submit --help)")
			}
			spec := workoutput.Spec{Kind: kind, Name: name, Deadline: deadline, MaxRetry: maxRetry, FailurePolicy: workoutput.FailurePolicy(policy)}
			switch retention {
			case "", "0":
			case "none":
				spec.Retention = workoutput.NoRetention
			default:
				d, err := time.ParseDuration(retention)
				if err != nil || d <= 0 {
					return usage("--retention %q (want a positive duration like 24h, or none)", retention)
				}
				spec.Retention = d
			}
			if spec.FailurePolicy != workoutput.PolicyFail && spec.FailurePolicy != workoutput.PolicyContinue {
				return usage("--policy %q (want %s or %s)", policy, workoutput.PolicyFail, workoutput.PolicyContinue)
			}
			if chunk > jobs.MaxChunkSize {
				return usage("--chunk %d (want at most %d events per task, or 0 for the default %d)", chunk, jobs.MaxChunkSize, jobs.DefaultChunkSize)
			}
			if _, err := a.common.CheckQueues(queue); err != nil {
				return err
			}
			src := events
			if events == "-" {
				src = "stdin"
			}
			in, err := checkEvents(events, src, idField)
			if err != nil {
				return err
			}
			defer in.close()
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
			if err := in.check(store); err != nil {
				return submitErr(err)
			}
			batch := jobs.DefaultConcurrency * cmp.Or(chunk, jobs.DefaultChunkSize)
			id, n, err := in.submit(ctx, p, store, spec, batch)
			if err != nil {
				return err
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
			return a.collect(ctx, store, id, f)
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
	fs.IntVar(&maxRetry, "max-retry", 0, fmt.Sprintf("retries of a failing event (default %d)", jobs.DefaultMaxRetry))
	fs.StringVar(&policy, "policy", string(workoutput.PolicyFail), "what failed events do to the job: fail, or continue (the result covers the rest; the job ends partial)")
	fs.DurationVar(&replicaWait, "replica-wait", jobs.DefaultReplicaWait, "how long each step of the submission is retried while Redis, or with --replica-acks its replicas (missing, or still syncing), do not acknowledge it; then submit fails and cancels the job (env "+settings.EnvReplicaWait+")")
	fs.StringVar(&queue, "queue", jobs.DefaultQueue, "Asynq queue of the job's events (workers serve it with --queues; default NAMESPACE:default under a --namespace other than fanin:)")
	f.addFlags(fs)
	return cmd
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

// checkedEvents is an events file that passed the first pass of submit:
// every line parsed, without keeping the events, so a malformed line
// submits nothing while memory stays bounded: a batch of events, plus 8
// bytes a caller-given event ID to find duplicates.
type checkedEvents struct {
	name, idField string
	// file is read again by the second pass: the events file itself, or a
	// spool of stdin (or of a pipe) removed by close.
	file  *os.File
	spool bool
	// n is the number of events, and given how many have a caller-given ID.
	n, given int
	// sizes are the events that were larger than every event before them,
	// in order: the first event over any size limit is one of them.
	sizes []sized
	// idErr is the first invalid or duplicate caller-given ID, reported
	// (like Producer.Submit does) after the size and count checks.
	idErr error
}

// sized is the ID and payload size of an event.
type sized struct {
	id   string
	size int
}

// checkEvents makes the first pass over the events at path ("-" is stdin;
// src names it in errors). Input that cannot be read twice (stdin, a pipe)
// is spooled to a temporary file on the way.
func checkEvents(path, src, idField string) (_ *checkedEvents, err error) {
	r, err := eventfile.Open(path)
	if err != nil {
		return nil, exitcode.With(exitcode.Usage, err)
	}
	c := &checkedEvents{name: src, idField: idField}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	var in io.Reader = r
	var spool *bufio.Writer
	if f, ok := r.(*os.File); ok && regular(f) {
		c.file = f
	} else {
		defer r.Close()
		if c.file, err = os.CreateTemp("", "fanin-submit-*.jsonl"); err != nil {
			return nil, fmt.Errorf("spool %s: %w", src, err)
		}
		c.spool = true
		spool = bufio.NewWriterSize(c.file, 64<<10)
		in = io.TeeReader(r, spool)
	}
	seed := maphash.MakeSeed()
	var hashes []uint64 // of the caller-given IDs before the first invalid one
	bad, badErr := -1, error(nil)
	for e, err := range eventfile.Scan(in, src, idField) {
		if err != nil {
			return nil, exitcode.With(exitcode.Usage, err)
		}
		c.n++
		if len(c.sizes) == 0 || len(e.Payload) > c.sizes[len(c.sizes)-1].size {
			c.sizes = append(c.sizes, sized{e.ID, len(e.Payload)})
		}
		if e.ID == "" {
			continue
		}
		c.given++
		if badErr != nil {
			continue
		}
		if err := workoutput.ValidateEventID(e.ID); err != nil {
			bad, badErr = c.given-1, err
			continue
		}
		hashes = append(hashes, maphash.String(seed, e.ID))
	}
	if spool != nil {
		if err := spool.Flush(); err != nil {
			return nil, fmt.Errorf("spool %s: %w", src, err)
		}
	}
	if c.idErr, err = c.firstIDError(seed, hashes, bad, badErr); err != nil {
		return nil, err
	}
	return c, nil
}

// firstIDError returns the error Producer.Submit would return for the
// caller-given IDs: the first, in file order, that is invalid (the one
// numbered bad, with badErr) or given before. Duplicates are found on 8
// bytes an ID: hashes (of the valid IDs before bad, in seed) are sorted,
// and only when two are equal is the file read again to tell a real
// duplicate from a collision and find the first one.
func (c *checkedEvents) firstIDError(seed maphash.Seed, hashes []uint64, bad int, badErr error) (error, error) {
	slices.Sort(hashes)
	suspects := make(map[uint64]struct{})
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			suspects[hashes[i]] = struct{}{}
		}
	}
	if len(suspects) == 0 {
		return badErr, nil
	}
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s again: %w", c.name, err)
	}
	seen := make(map[string]struct{})
	k := 0
	for e, err := range eventfile.Scan(c.file, c.name, c.idField) {
		if err != nil {
			return nil, fmt.Errorf("%s changed during submit: %w", c.name, err)
		}
		if e.ID == "" {
			continue
		}
		if k == bad {
			return badErr, nil
		}
		k++
		if _, ok := suspects[maphash.String(seed, e.ID)]; !ok {
			continue
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("%w: event ID %q is given twice in one call (want IDs unique within the job)", workoutput.ErrDuplicateEvent, e.ID), nil
		}
		seen[e.ID] = struct{}{}
	}
	return badErr, nil
}

// regular reports whether f is a regular file, which can be read twice.
func regular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

// check applies the checks Producer.Submit makes before writing anything,
// in its order: event sizes, the number of events, the caller-given IDs.
func (c *checkedEvents) check(store *workoutput.Store) error {
	limits := store.Config()
	for _, s := range c.sizes {
		if s.size > limits.MaxEventSize {
			return store.CheckEvent(s.id, make([]byte, s.size))
		}
	}
	if c.n > limits.MaxEvents {
		return fmt.Errorf("%w: %d events (want at most %d per job, Config.MaxEvents)", workoutput.ErrTooLarge, c.n, limits.MaxEvents)
	}
	return c.idErr
}

// submit makes the second pass: it opens the job, adds the events in
// batches of batch events and seals the job. If any step fails, it cancels
// the job, as Producer.Submit does, and returns the error saying whether
// the cancel worked.
func (c *checkedEvents) submit(ctx context.Context, p *jobs.Producer, store *workoutput.Store, spec workoutput.Spec, batch int) (string, int, error) {
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("read %s again: %w", c.name, err)
	}
	job, err := p.Open(ctx, spec)
	if err != nil {
		return "", 0, submitErr(err)
	}
	n, err := c.add(ctx, job, batch)
	if err == nil {
		err = job.Seal(ctx)
	}
	if err != nil {
		return "", 0, submitErr(job.Abandon(ctx, err))
	}
	return job.ID(), n, nil
}

// add adds the events of the file to job, batch events per call, and
// returns how many it added.
func (c *checkedEvents) add(ctx context.Context, job *jobs.Job, batch int) (int, error) {
	buf := make([]jobs.Event, 0, batch)
	n := 0
	for e, err := range eventfile.Scan(c.file, c.name, c.idField) {
		if err != nil {
			return n, fmt.Errorf("%s changed during submit: %w", c.name, err)
		}
		if buf = append(buf, e); len(buf) == batch {
			if err := job.Add(ctx, buf...); err != nil {
				return n, err
			}
			n += len(buf)
			clear(buf)
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if err := job.Add(ctx, buf...); err != nil {
			return n, err
		}
		n += len(buf)
	}
	if n != c.n {
		return n, fmt.Errorf("%s changed during submit: %d events, %d at first", c.name, n, c.n)
	}
	return n, nil
}

// close closes the file and removes the spool.
func (c *checkedEvents) close() {
	if c.file == nil {
		return
	}
	_ = c.file.Close()
	if c.spool {
		_ = os.Remove(c.file.Name())
	}
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
		fmt.Fprintf(a.stderr, "submit: waiting to %s (attempt %d, retrying for up to %v): %v\n", what, attempt, wait, err)
	}
}
