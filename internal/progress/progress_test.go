package progress_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

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
	}{{"running", 0, 0}, {"running", 2, 0}, {"running", 2, 0}, {"complete", 3, 1}, {"collecting", 3, 1}, {"partial", 3, 1}} {
		st := base
		st.State, st.Done, st.Failed, st.Pending = d.state, d.done, d.failed, 4-d.done-d.failed
		out = append(out, st)
	}
	return &script{steps: out}
}

// TestMeterRateAndETA drives a Meter with a fake clock: no rate before the
// samples span a second, the rate over the sliding window only, an idle
// count says so instead of a rate of 0, and the ETA is the remaining count
// at the window's rate.
func TestMeterRateAndETA(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	m := progress.NewMeter(10 * time.Second)
	if _, ok := m.Rate(); ok {
		t.Fatal("a rate with no sample")
	}
	m.Observe(at(0), 0)
	m.Observe(at(250*time.Millisecond), 500) // 2,000/s over 250 ms: too short to tell
	if r, ok := m.Rate(); ok {
		t.Fatalf("rate %v over 250 ms; want none before %v", r, progress.MinSpan)
	}
	if _, ok := m.ETA(100); ok {
		t.Fatal("an ETA before a rate")
	}
	if p := m.Pace("events"); p != "" {
		t.Fatalf("Pace = %q before a rate; want empty", p)
	}
	// 100 events/s for 10 s.
	for i := 1; i <= 40; i++ {
		m.Observe(at(250*time.Millisecond+time.Duration(i)*250*time.Millisecond), 500+int64(i)*25)
	}
	// now = 10.25 s, count 1,500; the window is the last 10 s: 100/s.
	if r, ok := m.Rate(); !ok || r < 99.9 || r > 100.1 {
		t.Fatalf("rate = %v, %v; want 100/s over the window (the fast first 250 ms forgotten)", r, ok)
	}
	if eta, ok := m.ETA(3000); !ok || eta != 30*time.Second {
		t.Fatalf("ETA(3000) = %v, %v; want 30s", eta, ok)
	}
	if p := m.Pace("events"); p != "100 events/s" {
		t.Fatalf("Pace = %q", p)
	}
	// Idle: the count stops. The rate decays, then the window holds no
	// progress: idle, no ETA, never "0 events/h".
	for i := 1; i <= 60; i++ {
		m.Observe(at(10250*time.Millisecond+time.Duration(i)*250*time.Millisecond), 1500)
	}
	if r, ok := m.Rate(); !ok || r != 0 {
		t.Fatalf("rate after 15 s idle = %v, %v; want 0", r, ok)
	}
	if _, ok := m.ETA(3000); ok {
		t.Fatal("an ETA for an idle count")
	}
	if p := m.Pace("events"); p != "idle for 15s" {
		t.Fatalf("Pace of an idle count = %q; want idle for 15s", p)
	}
	// Slow counts read per minute; a count that goes down (a retry put
	// events back) starts over.
	m.Observe(at(30*time.Second), 1000)
	if _, ok := m.Rate(); ok {
		t.Fatal("a rate right after the count went down")
	}
	m.Observe(at(40*time.Second), 1002)
	if p := m.Pace("events"); p != "12 events/min" {
		t.Fatalf("Pace = %q; want 12 events/min", p)
	}
	// A sample from the past is ignored.
	m.Observe(at(35*time.Second), 5000)
	if p := m.Pace("events"); p != "12 events/min" {
		t.Fatalf("Pace after a sample from the past = %q", p)
	}
}

// TestDisplayLinesAreFramelessAndFit: the Lines style writes no '\r', a
// line per phase change and per period, each within the width.
func TestDisplayLinesAreFramelessAndFit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	d := progress.NewDisplay(progress.DisplayOptions{Out: &buf, Style: progress.Lines, Width: 80, Every: 10 * time.Second})
	t0 := time.Unix(0, 0)
	long := "running: " + strings.Repeat("x", 200)
	d.Show(t0, "running", long, 1, 10)
	d.Show(t0.Add(time.Second), "running", "running: 2", 2, 10)    // same phase, too soon
	d.Show(t0.Add(11*time.Second), "running", "running: 3", 3, 10) // a period later
	d.Show(t0.Add(12*time.Second), "reducing", "reducing: 10", 10, 10)
	d.Close(t0.Add(13*time.Second), "done", "done: 10")
	d.Close(t0.Add(13*time.Second), "done", "done: 10") // twice: written once
	if strings.Contains(buf.String(), "\r") {
		t.Fatalf("Lines wrote a frame: %q", buf.String())
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 4 || lines[1] != "running: 3" || lines[2] != "reducing: 10" || lines[3] != "done: 10" {
		t.Fatalf("lines = %q", lines)
	}
	if n := len([]rune(lines[0])); n != 80 || !strings.HasSuffix(lines[0], "…") {
		t.Fatalf("a long line is %d columns (%q); want cut to 80", n, lines[0])
	}
}

// TestDisplayBarFitsTheWidth: every frame of the bar fits the width.
func TestDisplayBarFitsTheWidth(t *testing.T) {
	t.Parallel()
	for _, width := range []int{80, 120} {
		var buf bytes.Buffer
		d := progress.NewDisplay(progress.DisplayOptions{Out: &buf, Style: progress.Bar, Width: width})
		d.Show(time.Unix(0, 0), "open", "open: 5 events added so far", 5, 0)
		d.Show(time.Unix(1, 0), "running", "running: "+strings.Repeat("y", 150), 5, 100)
		d.Show(time.Unix(2, 0), "running", "running: 50/100", 50, 100)
		d.Close(time.Unix(3, 0), "done", "done: 100/100 events done, 0 failed")
		for _, frame := range strings.FieldsFunc(buf.String(), func(r rune) bool { return r == '\r' || r == '\n' }) {
			if n := len([]rune(frame)); n > width {
				t.Errorf("width %d: a frame of %d columns: %q", width, n, frame)
			}
		}
		if !strings.Contains(buf.String(), "done: 100/100") {
			t.Errorf("width %d: the bar lacks its final text: %q", width, buf.String())
		}
	}
}

// frames splits what the Bar style wrote into the frames drawn in place
// (each starts with '\r') and the lines left on the screen (ended by
// '\n'), each without its padding.
func frames(out string) (drawn, kept []string) {
	for i, part := range strings.Split(out, "\r") {
		if i == 0 {
			continue
		}
		if line, ok := strings.CutSuffix(part, "\n"); ok {
			kept = append(kept, strings.TrimRight(line, " "))
			continue
		}
		drawn = append(drawn, strings.TrimRight(part, " "))
	}
	return drawn, kept
}

// TestDisplayBarGivesTheTextPriority: on an 80-column terminal a text that
// leaves the bar no room is shown whole, without the bar (which stays off
// from then on, rather than come and go), and notes get lines of their
// own: the ETA and the note are never cut.
func TestDisplayBarGivesTheTextPriority(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	d := progress.NewDisplay(progress.DisplayOptions{Out: &buf, Style: progress.Bar, Width: 80})
	short := "submitting: 1,000/1,000,000 events (0%)"
	long := "submitting: 252,576/1,000,000 events (25%), 250,000 events/s, ETA 3s"
	note := `no worker serves kind "transcode" on queue "media"; no coordinator reduces kind "transcode"`
	d.Show(time.Unix(0, 0), "submitting", short, 1000, 1000000)
	d.SetNotes([]string{note})
	d.SetNotes([]string{note}) // the same notes: not written again
	d.Show(time.Unix(1, 0), "submitting", long, 252576, 1000000)
	d.Show(time.Unix(2, 0), "submitting", short, 1000, 1000000)
	d.Close(time.Unix(3, 0), "submitted", "submitted: 1,000,000 events in 4.1s")
	drawn, kept := frames(buf.String())
	if len(drawn) != 3 || len(kept) != 2 {
		t.Fatalf("frames %q, lines %q; want a frame per Show, the note and the final line", drawn, kept)
	}
	if !strings.HasPrefix(drawn[0], short+"    0% |") {
		t.Errorf("frame %q: want the short text and the bar", drawn[0])
	}
	if drawn[1] != long || drawn[2] != short {
		t.Errorf("frames %q; want the long text whole, without the bar, and the bar off after it", drawn[1:])
	}
	if kept[0] != note || kept[1] != "submitted: 1,000,000 events in 4.1s" {
		t.Errorf("lines %q; want the note whole and the final text", kept)
	}
	for _, f := range drawn {
		if n := len([]rune(f)); n > 79 || strings.Contains(f, "…") {
			t.Errorf("frame of %d columns %q; want at most 79, uncut", n, f)
		}
	}
}

// TestDisplayBarDrawsOneFramePerPoll: every poll of Follow draws one frame,
// whose bar shows the percentage of its text, never the one of the poll
// before (nor 28% beside a text's 29%: progressbar's own rounding).
func TestDisplayBarDrawsOneFramePerPoll(t *testing.T) {
	t.Parallel()
	base := workoutput.Status{ID: "j", Kind: "k", State: workoutput.StateRunning, Sealed: true, Total: 100, Created: time.Unix(0, 0)}
	var s script
	for _, done := range []int64{0, 6, 20, 29, 57, 58, 99, 100} {
		st := base
		st.Done, st.Pending = done, 100-done
		s.steps = append(s.steps, st)
	}
	last := s.steps[len(s.steps)-1]
	last.State = workoutput.StateDone
	s.steps = append(s.steps, last)
	var buf bytes.Buffer
	if _, err := progress.Follow(context.Background(), &s, "j", progress.Options{Out: &buf, Style: progress.Bar, Interval: time.Millisecond, Width: 80}); err != nil {
		t.Fatal(err)
	}
	drawn, kept := frames(buf.String())
	if len(drawn) != len(s.steps)-1 || len(kept) != 1 || !strings.HasPrefix(kept[0], "done: 100/100") {
		t.Fatalf("frames %q, lines %q; want one frame per poll and the final line", drawn, kept)
	}
	pct := regexp.MustCompile(`\((\d+)%\).* (\d+)% \|`)
	for i, f := range drawn {
		m := pct.FindStringSubmatch(f)
		if m == nil || m[1] != m[2] || m[1] != fmt.Sprint(s.steps[i].Done) {
			t.Errorf("poll %d (%d%%) drew %q; want the text's percentage on the bar", i, s.steps[i].Done, f)
		}
	}
}

func TestFollowLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	st, err := progress.Follow(context.Background(), steps(), "j", progress.Options{Out: &buf, Style: progress.Lines, Interval: time.Millisecond,
		Notes: func(context.Context, workoutput.Status) []string { return []string{"no coordinator reduces kind k"} }})
	if err != nil || st.State != workoutput.StatePartial {
		t.Fatalf("Follow = %v, %v; want partial", st.State, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"running: 0/4", "waiting for a coordinator: 4/4 events finished", "reducing: 3 outputs, 1 failed", "partial: 3/4 events done, 1 failed"}
	if len(lines) != len(want) {
		t.Fatalf("lines (one per phase) = %q", lines)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q; want it to start with %q", i, lines[i], w)
		}
	}
	if !strings.Contains(lines[0], "(no coordinator reduces kind k)") {
		t.Errorf("line %q lacks the note", lines[0])
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
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || len(lines) != 6 || last.State != "partial" || last.Failed != 1 {
		t.Fatalf("JSON lines %q: %v", lines, err)
	}
	buf.Reset()
	if _, err := progress.Follow(context.Background(), steps(), "j", progress.Options{Out: &buf, Style: progress.Bar, Interval: time.Millisecond, Width: 100}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "partial: 3/4 events done, 1 failed") {
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

// TestDisplayLinesNeverCutTheNotes: in the Lines style a long text is cut to
// the width, and what the task waits for follows it whole.
func TestDisplayLinesNeverCutTheNotes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	d := progress.NewDisplay(progress.DisplayOptions{Out: &buf, Style: progress.Lines, Width: progress.MinWidth})
	notes := []string{`no worker serves kind "a-rather-long-kind-name"`, `no coordinator reduces kind "a-rather-long-kind-name"`}
	d.SetNotes(notes)
	d.Show(time.Now(), "running", "running: 0/5 events (0%), 0 failed, idle for 1s "+strings.Repeat("x", 100), 0, 5)
	line := strings.TrimSuffix(buf.String(), "\n")
	if !strings.HasSuffix(line, " ("+strings.Join(notes, "; ")+")") {
		t.Fatalf("line %q; want it to end with the notes, whole", line)
	}
	if text := strings.TrimSuffix(line, " ("+strings.Join(notes, "; ")+")"); utf8.RuneCountInString(text) > progress.MinWidth {
		t.Fatalf("text %q is %d columns; want it cut to %d", text, utf8.RuneCountInString(text), progress.MinWidth)
	}
}

// TestFollowFinal: Options.Final completes the terminal status before the
// last line is written and the status returned (the coordinator's final
// last error), is not called before, and its error ends Follow.
func TestFollowFinal(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	var calls []workoutput.State
	final := func(_ context.Context, st *workoutput.Status) error {
		calls = append(calls, st.State)
		st.LastError = workoutput.Failure{EventID: "e3", Reason: "for good", Attempts: 4, Time: at}
		return nil
	}
	var buf bytes.Buffer
	st, err := progress.Follow(context.Background(), steps(), "j", progress.Options{Out: &buf, Style: progress.JSONLines, Interval: time.Millisecond, Final: final})
	if err != nil || st.LastError.EventID != "e3" {
		t.Fatalf("Follow = %+v, %v; want the status Final completed", st.LastError, err)
	}
	if len(calls) != 1 || calls[0] != workoutput.StatePartial {
		t.Errorf("Final called on %v; want once, on the terminal status", calls)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var last, first progress.JSON
	if json.Unmarshal([]byte(lines[len(lines)-1]), &last) != nil || json.Unmarshal([]byte(lines[0]), &first) != nil {
		t.Fatalf("JSON lines %q", lines)
	}
	want := progress.AttemptJSON{Event: "e3", Reason: "for good", Attempts: 4, At: at}
	if last.LastError == nil || *last.LastError != want || first.LastError != nil {
		t.Errorf("last_error of the first line %+v, of the last %+v; want none, then %+v", first.LastError, last.LastError, want)
	}

	failed := errors.New("failures unreadable")
	st, err = progress.Follow(context.Background(), steps(), "j", progress.Options{Interval: time.Millisecond,
		Final: func(context.Context, *workoutput.Status) error { return failed }})
	if !errors.Is(err, failed) || st.State != workoutput.StatePartial {
		t.Errorf("Follow with a failing Final = %v, %v; want its error with the status read", st.State, err)
	}
}

// TestJSONKeepsALastErrorWithoutReason: an attempt that failed with an
// empty error text is still a last error (it was dropped).
func TestJSONKeepsALastErrorWithoutReason(t *testing.T) {
	t.Parallel()
	at := time.Unix(1, 0).UTC()
	j := progress.NewJSON(workoutput.Status{ID: "j", State: workoutput.StateRunning, LastError: workoutput.Failure{EventID: "e1", Attempts: 2, Time: at}})
	if want := (progress.AttemptJSON{Event: "e1", Attempts: 2, At: at}); j.LastError == nil || *j.LastError != want {
		t.Errorf("last_error = %+v; want %+v", j.LastError, want)
	}
	if j := progress.NewJSON(workoutput.Status{ID: "j", State: workoutput.StateRunning}); j.LastError != nil {
		t.Errorf("last_error of a job without failed attempts = %+v; want none", j.LastError)
	}
}
