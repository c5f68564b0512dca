package jobfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"os"
	"slices"
	"time"

	"github.com/fanin-dev/fanin/internal/eventfile"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// Sentinel errors.
var (
	// ErrInput marks a problem of the input itself: it cannot be opened or
	// read, or a line is malformed (eventfile.ErrMalformed). The error's
	// text is that of the underlying error, naming the input and the line.
	ErrInput = errors.New("jobfile: bad input")
	// ErrSettings marks settings of a job (Settings) that are not valid.
	ErrSettings = errors.New("jobfile: bad job settings")
)

// marked is err, also matching mark with errors.Is, with err's text.
type marked struct{ err, mark error }

func (e marked) Error() string   { return e.err.Error() }
func (e marked) Unwrap() []error { return []error{e.err, e.mark} }

// inputError marks err with ErrInput.
func inputError(err error) error { return marked{err, ErrInput} }

// settingsError is an ErrSettings error whose text is format's.
func settingsError(format string, args ...any) error {
	return marked{fmt.Errorf(format, args...), ErrSettings}
}

// Settings are the settings of a job as a user gives them: by the flags of
// `coordinator submit` or the parameters of POST /jobs.
type Settings struct {
	// Kind names the handler and the reducer. Required (checked by Spec's
	// callers, which name the flag or parameter in their own words).
	Kind string
	// Name is a label for people.
	Name string
	// Deadline is how long the job may take; 0 is the store's default.
	Deadline time.Duration
	// Retention is a positive duration ("24h"), "none" (no retention) or
	// "" / "0" (the store's default).
	Retention string
	// MaxRetry is the retries of a failing event, 0 or more (0: none, the
	// first failed attempt is final, as with asynq.MaxRetry(0)); nil is the
	// producer's default.
	MaxRetry *int
	// Policy is "fail" or "continue".
	Policy string
	// Chunk is the number of events per Asynq task, at most
	// jobs.MaxChunkSize; 0 is the default.
	Chunk int
	// EventTimeout bounds the handling of one event; 0 leaves it to the
	// worker (workoutput.Spec.EventTimeout).
	EventTimeout time.Duration
}

// Spec checks s and returns the job's spec. param names a setting in an
// error ("retention" may be "--retention" for a flag); errors wrap
// ErrSettings.
func (s Settings) Spec(param func(string) string) (workoutput.Spec, error) {
	spec := workoutput.Spec{Kind: s.Kind, Name: s.Name, Deadline: s.Deadline, FailurePolicy: workoutput.FailurePolicy(s.Policy),
		EventTimeout: s.EventTimeout}
	switch {
	case s.MaxRetry == nil:
	case *s.MaxRetry < 0:
		return spec, settingsError("%s %d (want 0 or more retries; 0: none, the first failed attempt is final)", param("max-retry"), *s.MaxRetry)
	case *s.MaxRetry == 0:
		spec.MaxRetry = workoutput.NoRetry
	default:
		spec.MaxRetry = *s.MaxRetry
	}
	switch s.Retention {
	case "", "0":
	case "none":
		spec.Retention = workoutput.NoRetention
	default:
		d, err := time.ParseDuration(s.Retention)
		if err != nil || d <= 0 {
			return spec, settingsError("%s %q (want a positive duration like 24h, or none)", param("retention"), s.Retention)
		}
		spec.Retention = d
	}
	if spec.FailurePolicy != workoutput.PolicyFail && spec.FailurePolicy != workoutput.PolicyContinue {
		return spec, settingsError("%s %q (want %s or %s)", param("policy"), s.Policy, workoutput.PolicyFail, workoutput.PolicyContinue)
	}
	if s.Deadline < 0 || (s.Deadline > 0 && s.Deadline < workoutput.MinDeadline) {
		return spec, settingsError("%s %v (want at least %v, a job's times are kept to the millisecond; 0 for the default)", param("deadline"), s.Deadline, workoutput.MinDeadline)
	}
	if s.EventTimeout < 0 {
		return spec, settingsError("%s %v (want a positive duration, or 0 for the worker's)", param("event-timeout"), s.EventTimeout)
	}
	if s.Chunk > jobs.MaxChunkSize || s.Chunk < 0 {
		return spec, settingsError("%s %d (want at most %d events per task, or 0 for the default %d)", param("chunk"), s.Chunk, jobs.MaxChunkSize, jobs.DefaultChunkSize)
	}
	return spec, nil
}

// Events are the events of a job that passed the first pass: every line
// parsed, without keeping the events, so a malformed line submits nothing
// while memory stays bounded: a batch of events, plus 8 bytes a
// caller-given event ID to find duplicates.
type Events struct {
	name, idField string
	// file is read again by the second pass: the events file itself, or a
	// spool of the input removed by Close.
	file  *os.File
	spool bool
	// maxLine bounds the lines of a file read again in place (0: a spool,
	// whose lines the first pass bounded): the file may have changed
	// since.
	maxLine int
	// n is the number of events, and given how many have a caller-given ID.
	n, given int
	// sizes are the events that were larger than every event before them,
	// in order: the first event over any size limit is one of them.
	sizes []sized
	// idErr is the first invalid or duplicate caller-given ID, reported
	// (like Producer.Submit does) after the size and count checks.
	idErr error

	// OnAdded, when set, is called by Submit after each batch of events is
	// added, with the events added so far and the total: to show progress.
	OnAdded func(added, total int)
}

// sized is the ID and payload size of an event.
type sized struct {
	id   string
	size int
}

// Open makes the first pass over the events at path ("-" is stdin; name
// names it in errors). A regular file is read again in place; other input
// (stdin, a pipe, a device) is spooled to a temporary file on the way. A
// line over maxLine bytes (the largest event, Config.MaxEventSize) ends
// the pass at once with an *eventfile.LineTooLongError, so that an input
// that never ends a line (/dev/zero) is not read into memory. Errors of
// the input wrap ErrInput. Close the Events when done.
func Open(path, name, idField string, maxLine int) (*Events, error) {
	r, err := eventfile.Open(path)
	if err != nil {
		return nil, inputError(err)
	}
	limited := eventfile.LimitLines(r, name, maxLine)
	if f, ok := r.(*os.File); ok && regular(f) {
		c, err := check(limited, false, f, name, idField)
		if err != nil {
			return nil, err
		}
		c.maxLine = maxLine
		return c, nil
	}
	defer r.Close()
	return Spool(limited, name, idField)
}

// Spool makes the first pass over the events read from r, copying them to
// a temporary file (in os.TempDir) for the second pass. Errors of r, or of
// its lines, wrap ErrInput. Close the Events when done: it removes the
// temporary file.
func Spool(r io.Reader, name, idField string) (*Events, error) {
	f, err := os.CreateTemp("", "fanin-submit-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", name, err)
	}
	return check(r, true, f, name, idField)
}

// check reads the events of in; file is read again by the second pass (in
// itself, or a spool to which in is copied on the way). On error, file is
// closed (and a spool removed).
func check(in io.Reader, spool bool, file *os.File, name, idField string) (_ *Events, err error) {
	c := &Events{name: name, idField: idField, file: file, spool: spool}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	var w *bufio.Writer
	if spool {
		w = bufio.NewWriterSize(file, 64<<10)
		in = io.TeeReader(in, w)
	}
	seed := maphash.MakeSeed()
	var hashes []uint64 // of the caller-given IDs before the first invalid one
	bad, badErr := -1, error(nil)
	for e, err := range eventfile.Scan(in, name, idField) {
		if err != nil {
			return nil, inputError(err)
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
	if w != nil {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("spool %s: %w", name, err)
		}
	}
	if c.idErr, err = c.firstIDError(seed, hashes, bad, badErr); err != nil {
		return nil, err
	}
	return c, nil
}

// Len returns the number of events.
func (c *Events) Len() int { return c.n }

// firstIDError returns the error Producer.Submit would return for the
// caller-given IDs: the first, in file order, that is invalid (the one
// numbered bad, with badErr) or given before. Duplicates are found on 8
// bytes an ID: hashes (of the valid IDs before bad, in seed) are sorted,
// and only when two are equal is the file read again to tell a real
// duplicate from a collision and find the first one.
func (c *Events) firstIDError(seed maphash.Seed, hashes []uint64, bad int, badErr error) (error, error) {
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
	for e, err := range c.again() {
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

// again reads the events of c.file once more, from its current offset.
func (c *Events) again() iter.Seq2[jobs.Event, error] {
	var r io.Reader = c.file
	if c.maxLine > 0 {
		r = eventfile.LimitLines(c.file, c.name, c.maxLine)
	}
	return eventfile.Scan(r, c.name, c.idField)
}

// regular reports whether f is a regular file, which can be read twice.
func regular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

// Check applies the checks Producer.Submit makes before writing anything,
// in its order: event sizes (workoutput.ErrTooLarge), the number of events
// (workoutput.ErrTooLarge), the caller-given IDs (workoutput.ErrInvalid,
// workoutput.ErrDuplicateEvent).
func (c *Events) Check(store *workoutput.Store) error {
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

// Submit makes the second pass: it opens the job, adds the events in
// batches of batch events and seals the job, and returns its ID and number
// of events. If any step fails, it cancels the job (Job.Abandon), as
// Producer.Submit does, and returns the error saying whether the cancel
// worked. Call Check first.
func (c *Events) Submit(ctx context.Context, p *jobs.Producer, store *workoutput.Store, spec workoutput.Spec, batch int) (string, int, error) {
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("read %s again: %w", c.name, err)
	}
	job, err := p.Open(ctx, spec)
	if err != nil {
		return "", 0, err
	}
	n, err := c.add(ctx, job, batch)
	if err == nil {
		err = job.Seal(ctx)
	}
	if err != nil {
		return "", 0, job.Abandon(ctx, err)
	}
	return job.ID(), n, nil
}

// add adds the events of the file to job, batch events per call, and
// returns how many it added.
func (c *Events) add(ctx context.Context, job *jobs.Job, batch int) (int, error) {
	buf := make([]jobs.Event, 0, batch)
	n := 0
	for e, err := range c.again() {
		if err != nil {
			return n, fmt.Errorf("%s changed during submit: %w", c.name, err)
		}
		if buf = append(buf, e); len(buf) == batch {
			if err := job.Add(ctx, buf...); err != nil {
				return n, err
			}
			n += len(buf)
			c.added(n)
			clear(buf)
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if err := job.Add(ctx, buf...); err != nil {
			return n, err
		}
		n += len(buf)
		c.added(n)
	}
	if n != c.n {
		return n, fmt.Errorf("%s changed during submit: %d events, %d at first", c.name, n, c.n)
	}
	return n, nil
}

// added reports progress to OnAdded.
func (c *Events) added(n int) {
	if c.OnAdded != nil {
		c.OnAdded(n, c.n)
	}
}

// Close closes the file and removes the spool.
func (c *Events) Close() {
	if c.file == nil {
		return
	}
	_ = c.file.Close()
	if c.spool {
		_ = os.Remove(c.file.Name())
	}
	c.file = nil
}

// Batch returns the number of events Submit should add per call for a
// producer of chunk events per task (0: the default): enough to keep every
// enqueuing goroutine of the producer busy.
func Batch(chunk int) int {
	if chunk <= 0 {
		chunk = jobs.DefaultChunkSize
	}
	return jobs.DefaultConcurrency * chunk
}
