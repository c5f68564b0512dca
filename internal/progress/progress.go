package progress

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/fanin-dev/fanin/workoutput"
)

// DefaultInterval is the default time between two polls.
const DefaultInterval = 250 * time.Millisecond

// Style says how progress is shown.
type Style int

// The styles.
const (
	// None shows nothing.
	None Style = iota
	// Bar draws a progress bar: done, failed, pending, rate and ETA.
	Bar
	// Lines writes one line of text per change (for logs and pipes).
	Lines
	// JSONLines writes one Status JSON line per poll.
	JSONLines
)

// Options configures Follow.
type Options struct {
	// Out receives the progress. Required unless Style is None.
	Out io.Writer
	// Style is how progress is shown. Default None.
	Style Style
	// Interval is the time between polls. Default DefaultInterval.
	Interval time.Duration
}

// Status reads a job's status; *workoutput.Store implements it.
type Status interface {
	Status(ctx context.Context, jobID string) (workoutput.Status, error)
}

// Follow polls jobID until it reaches a terminal state (done, partial,
// failed, cancelled) and returns that status, or until ctx ends (its error
// with the last status read).
func Follow(ctx context.Context, store Status, jobID string, opts Options) (workoutput.Status, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	var (
		bar  *progressbar.ProgressBar
		last string
	)
	defer func() {
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(opts.Out)
		}
	}()
	t := time.NewTicker(opts.Interval)
	defer t.Stop()
	for {
		st, err := store.Status(ctx, jobID)
		if err != nil {
			return st, err
		}
		switch opts.Style {
		case Bar:
			if bar == nil && st.Sealed {
				bar = progressbar.NewOptions64(st.Total,
					progressbar.OptionSetWriter(opts.Out),
					progressbar.OptionShowCount(),
					progressbar.OptionShowIts(),
					progressbar.OptionSetItsString("events"),
					progressbar.OptionSetPredictTime(true),
					progressbar.OptionSetElapsedTime(true),
					progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionSetWidth(30),
				)
			}
			if bar != nil {
				_ = bar.Set64(st.Done + st.Failed)
				bar.Describe(fmt.Sprintf("%s: %d done, %d failed, %d pending", st.State, st.Done, st.Failed, st.Pending))
			}
		case Lines:
			if line := Line(st); line != last {
				fmt.Fprintln(opts.Out, line)
				last = line
			}
		case JSONLines:
			b, _ := json.Marshal(NewJSON(st))
			fmt.Fprintln(opts.Out, string(b))
		}
		if st.State.Terminal() {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

// Line is a one-line text summary of st.
func Line(st workoutput.Status) string {
	pct := 0.0
	if st.Total > 0 {
		pct = 100 * float64(st.Done+st.Failed) / float64(st.Total)
	}
	return fmt.Sprintf("job %s %s: %d/%d events (%.0f%%), %d done, %d failed, %d pending",
		st.ID, st.State, st.Done+st.Failed, st.Total, pct, st.Done, st.Failed, st.Pending)
}

// JSON is the JSON form of a job's status.
//
// Its fields are those of workoutput.Status; times are UTC, the optional
// ones omitted while zero, and the retention is in milliseconds.
type JSON struct {
	ID            string     `json:"id"`
	Kind          string     `json:"kind"`
	Name          string     `json:"name,omitempty"`
	State         string     `json:"state"`
	Sealed        bool       `json:"sealed"`
	Total         int64      `json:"total"`
	Done          int64      `json:"done"`
	Failed        int64      `json:"failed"`
	Pending       int64      `json:"pending"`
	Created       time.Time  `json:"created"`
	Deadline      time.Time  `json:"deadline"`
	Completed     *time.Time `json:"completed,omitempty"`
	Finished      *time.Time `json:"finished,omitempty"`
	RetentionMS   int64      `json:"retention_ms"`
	ChunkSize     int        `json:"chunk_size"`
	MaxRetry      int        `json:"max_retry"`
	FailurePolicy string     `json:"failure_policy"`
	Token         int64      `json:"token,omitempty"`
	Error         string     `json:"error,omitempty"`
	Stalled       string     `json:"stalled,omitempty"`
	Retained      bool       `json:"retained,omitempty"`
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
	return JSON{
		ID: st.ID, Kind: st.Kind, Name: st.Name, State: string(st.State), Sealed: st.Sealed,
		Total: st.Total, Done: st.Done, Failed: st.Failed, Pending: st.Pending,
		Created: st.Created.UTC(), Deadline: st.Deadline.UTC(), Completed: opt(st.Completed), Finished: opt(st.Finished),
		RetentionMS: st.Retention.Milliseconds(), ChunkSize: st.ChunkSize, MaxRetry: st.MaxRetry,
		FailurePolicy: string(st.FailurePolicy), Token: st.Token, Error: st.Error,
		Stalled: st.Stalled, Retained: st.Retained,
	}
}
