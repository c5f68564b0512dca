package progress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/workoutput"
)

// script is a Status source that plays a list of statuses.
type script struct {
	steps []workoutput.Status
	i     int
}

func (s *script) Status(ctx context.Context, jobID string) (workoutput.Status, error) {
	if s.i >= len(s.steps) {
		return workoutput.Status{}, errors.New("no more steps")
	}
	st := s.steps[s.i]
	s.i++
	return st, nil
}

func steps() *script {
	base := workoutput.Status{ID: "j", Kind: "k", Sealed: true, Total: 4, Created: time.Unix(0, 0)}
	var out []workoutput.Status
	for _, d := range []struct {
		state        workoutput.State
		done, failed int64
	}{{"open", 0, 0}, {"open", 2, 0}, {"open", 2, 0}, {"complete", 3, 1}, {"partial", 3, 1}} {
		st := base
		st.State, st.Done, st.Failed, st.Pending = d.state, d.done, d.failed, 4-d.done-d.failed
		out = append(out, st)
	}
	return &script{steps: out}
}

func TestFollowLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	st, err := progress.Follow(context.Background(), steps(), "j", progress.Options{Out: &buf, Style: progress.Lines, Interval: time.Millisecond})
	if err != nil || st.State != workoutput.StatePartial {
		t.Fatalf("Follow = %v, %v; want partial", st.State, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "2/4 events (50%)") || !strings.Contains(lines[3], "partial") {
		t.Fatalf("lines (one per change) = %q", lines)
	}
}

func TestFollowJSONAndBar(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if _, err := progress.Follow(context.Background(), steps(), "j", progress.Options{Out: &buf, Style: progress.JSONLines, Interval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var last progress.JSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || len(lines) != 5 || last.State != "partial" || last.Failed != 1 {
		t.Fatalf("JSON lines %q: %v", lines, err)
	}
	buf.Reset()
	if _, err := progress.Follow(context.Background(), steps(), "j", progress.Options{Out: &buf, Style: progress.Bar, Interval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "partial: 3 done, 1 failed, 0 pending") {
		t.Fatalf("bar output %q lacks the final counts", buf.String())
	}
}

func TestFollowStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &script{steps: []workoutput.Status{{ID: "j", State: "open"}}}
	if _, err := progress.Follow(ctx, s, "j", progress.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow = %v, want context.Canceled", err)
	}
}
