package progress

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/workoutput"
)

// DefaultInterval is the default time between two polls.
const DefaultInterval = 250 * time.Millisecond

// Options configures Follow.
type Options struct {
	// Out receives the progress. Required unless Style is None.
	Out io.Writer
	// Style is how progress is shown. Default None.
	Style Style
	// Interval is the time between polls. Default DefaultInterval.
	Interval time.Duration
	// Every is how often the Lines style writes a line while the job's
	// phase does not change. Default DefaultEvery.
	Every time.Duration
	// Width is the width of a line in columns. Default Width(Out).
	Width int
	// Window is the rate's sliding window. Default DefaultWindow.
	Window time.Duration
	// Notes, when set, returns what the job waits for besides its events
	// (no worker serves its kind, say): on a line of their own in the Bar
	// style, after the numbers in the Lines style (Display.SetNotes).
	// Follow calls it at most every NotesEvery.
	Notes func(ctx context.Context, st workoutput.Status) []string
	// Final, when set, completes the terminal status before Follow shows
	// it and returns it: the coordinator gives a committed job its latest
	// failure for good (workoutput.Store.SetFinalLastError), so that the
	// last line says what status says. An error of Final ends Follow with
	// it, and the status as read.
	Final func(ctx context.Context, st *workoutput.Status) error
}

// NotesEvery is how often Follow asks Options.Notes again.
const NotesEvery = time.Second

// Status reads a job's status; *workoutput.Store implements it.
type Status interface {
	Status(ctx context.Context, jobID string) (workoutput.Status, error)
}

// Follow polls jobID until it reaches a terminal state (done, partial,
// failed, cancelled) and returns that status, or until ctx ends (its error
// with the last status read). It shows the progress in opts.Style: the
// phase (open, running, waiting for a coordinator, reducing), the counts,
// the rate over a sliding window and the ETA (see Describe).
func Follow(ctx context.Context, store Status, jobID string, opts Options) (workoutput.Status, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	disp := NewDisplay(DisplayOptions{Out: opts.Out, Style: opts.Style, Width: opts.Width, Every: opts.Every})
	meter := NewMeter(opts.Window)
	var (
		notes     []string
		notesRead time.Time
		st        workoutput.Status
	)
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	for {
		cur, err := store.Status(ctx, jobID)
		if err != nil {
			return st, err // with the last status read
		}
		st = cur
		if st.State.Terminal() && opts.Final != nil {
			final := st
			if err := opts.Final(ctx, &final); err != nil {
				return st, err
			}
			st = final
		}
		now := time.Now()
		meter.Observe(now, st.Done+st.Failed)
		switch {
		case st.State.Terminal():
			notes = nil
		case opts.Notes != nil && now.Sub(notesRead) >= NotesEvery:
			notes, notesRead = opts.Notes(ctx, st), now
		}
		text := Describe(st, meter)
		switch opts.Style {
		case JSONLines:
			b, _ := json.Marshal(NewJSON(st))
			fmt.Fprintln(opts.Out, string(b))
		default:
			disp.SetNotes(notes)
			if st.State.Terminal() {
				disp.Close(now, string(st.State), text)
			} else {
				disp.Show(now, Phase(st), text, st.Done+st.Failed, total(st))
			}
		}
		if st.State.Terminal() {
			return st, nil
		}
		select {
		case <-ctx.Done():
			if opts.Style != JSONLines {
				disp.Close(time.Now(), Phase(st), text)
			}
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

// total is the bar's total: the job's once sealed, unknown before.
func total(st workoutput.Status) int64 {
	if st.Sealed {
		return st.Total
	}
	return 0
}

// Phase names the stage a job is in, for people: "open" (events may still
// be added), "running", "waiting for a coordinator" (complete), "reducing"
// (a coordinator collects it), or its final state.
func Phase(st workoutput.Status) string {
	switch st.State {
	case workoutput.StateComplete:
		return "waiting for a coordinator"
	case workoutput.StateCollecting:
		return "reducing"
	}
	return string(st.State)
}

// Describe is a one-line summary of st for people, with the rate and ETA
// of meter (nil: none): the phase, then what matters in it. For example
//
//	running: 1,234/20,000 events (6%), 12 failed, 1,250 events/s, ETA 15s
//	running: 1,300/20,000 events (6%), 12 failed, 1,250 events/s, ETA 15s, 3 retrying (last error: …)
//	waiting for a coordinator: 20,000/20,000 events finished
//	reducing: 19,988 outputs, 12 failed
//	done: 20,000 events, 0 failed
func Describe(st workoutput.Status, meter *Meter) string {
	finished := st.Done + st.Failed
	var b strings.Builder
	b.WriteString(Phase(st) + ": ")
	switch st.State {
	case workoutput.StateOpen:
		fmt.Fprintf(&b, "%s events added so far, %s done, %s failed", Thousands(st.Total), Thousands(st.Done), Thousands(st.Failed))
	case workoutput.StateRunning:
		fmt.Fprintf(&b, "%s/%s events (%d%%), %s failed", Thousands(finished), Thousands(st.Total), percent(finished, st.Total), Thousands(st.Failed))
	case workoutput.StateComplete:
		fmt.Fprintf(&b, "%s/%s events finished, %s failed", Thousands(finished), Thousands(st.Total), Thousands(st.Failed))
		return b.String()
	case workoutput.StateCollecting:
		fmt.Fprintf(&b, "%s outputs, %s failed, %s missing", Thousands(st.Done), Thousands(st.Failed), Thousands(st.Pending))
		return b.String()
	default:
		fmt.Fprintf(&b, "%s/%s events done, %s failed", Thousands(st.Done), Thousands(st.Total), Thousands(st.Failed))
		if st.Error != "" {
			b.WriteString("; " + exitcode.Humanize(st.Error))
		}
		return b.String()
	}
	if meter != nil {
		if pace := meter.Pace("events"); pace != "" {
			b.WriteString(", " + pace)
		}
		if st.Sealed {
			if eta, ok := meter.ETA(st.Pending); ok {
				b.WriteString(", ETA " + eta.String())
			}
		}
	}
	// Last, so that a line cut to the terminal's width loses the error
	// (status shows it whole) rather than the rate and the ETA.
	if st.Retrying > 0 {
		fmt.Fprintf(&b, ", %s retrying (last error: %s)", Thousands(st.Retrying), Fit(exitcode.Humanize(st.LastError.Reason), 60))
	}
	return b.String()
}

// percent is 100*n/of, rounded down; 0 when of is 0.
func percent(n, of int64) int64 {
	if of <= 0 {
		return 0
	}
	return 100 * n / of
}

// JSON is the JSON form of a job's status.
//
// Its fields are those of workoutput.Status; times are UTC, the optional
// ones omitted while zero, and the retention is in milliseconds.
type JSON struct {
	ID             string     `json:"id"`
	Kind           string     `json:"kind"`
	Name           string     `json:"name,omitempty"`
	State          string     `json:"state"`
	Sealed         bool       `json:"sealed"`
	Total          int64      `json:"total"`
	Done           int64      `json:"done"`
	Failed         int64      `json:"failed"`
	Pending        int64      `json:"pending"`
	Created        time.Time  `json:"created"`
	Deadline       time.Time  `json:"deadline"`
	Completed      *time.Time `json:"completed,omitempty"`
	Finished       *time.Time `json:"finished,omitempty"`
	RetentionMS    int64      `json:"retention_ms"`
	ChunkSize      int        `json:"chunk_size"`
	MaxRetry       int        `json:"max_retry"`
	FailurePolicy  string     `json:"failure_policy"`
	EventTimeoutMS int64      `json:"event_timeout_ms,omitempty"`
	Token          int64      `json:"token,omitempty"`
	Error          string     `json:"error,omitempty"`
	Stalled        string     `json:"stalled,omitempty"`
	// Waiting says what no live process does for the job (no worker
	// serves its kind, no coordinator reduces it); set by the caller from
	// the heartbeats (jobs.JobGaps).
	Waiting  []string `json:"waiting,omitempty"`
	Retained bool     `json:"retained,omitempty"`
	// RetainedForMS is how long a finished job's data is kept after it
	// finished (workoutput.Status.RetainedFor); absent when unknown or 0.
	RetainedForMS int64 `json:"retained_for_ms,omitempty"`
	// Retrying counts the events whose last attempt failed and that will
	// be retried; LastError is the last failed attempt noted (for a
	// committed job: its latest failure for good where the caller read it,
	// Store.SetFinalLastError; otherwise none); Retried how
	// often coordinator retry put the job's failed events back to work.
	Retrying  int64        `json:"retrying,omitempty"`
	LastError *AttemptJSON `json:"last_error,omitempty"`
	Retried   int          `json:"retried,omitempty"`
}

// AttemptJSON is a failed attempt of an event.
type AttemptJSON struct {
	Event    string    `json:"event"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// NewJSON returns the JSON form of st.
func NewJSON(st workoutput.Status) JSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	var last *AttemptJSON
	if f := st.LastError; f.EventID != "" { // a failure's reason may be empty
		last = &AttemptJSON{Event: f.EventID, Reason: f.Reason, Attempts: f.Attempts, At: f.Time.UTC()}
	}
	return JSON{
		Retrying: st.Retrying, LastError: last, Retried: st.Retried,
		ID: st.ID, Kind: st.Kind, Name: st.Name, State: string(st.State), Sealed: st.Sealed,
		Total: st.Total, Done: st.Done, Failed: st.Failed, Pending: st.Pending,
		Created: st.Created.UTC(), Deadline: st.Deadline.UTC(), Completed: opt(st.Completed), Finished: opt(st.Finished),
		RetentionMS: st.Retention.Milliseconds(), ChunkSize: st.ChunkSize, MaxRetry: st.MaxRetry,
		FailurePolicy: string(st.FailurePolicy), EventTimeoutMS: st.EventTimeout.Milliseconds(), Token: st.Token, Error: st.Error,
		Stalled: st.Stalled, Retained: st.Retained, RetainedForMS: st.RetainedFor.Milliseconds(),
	}
}
