package jobfile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/eventfile"
	"github.com/fanin-dev/fanin/internal/jobfile"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// fixture is a store and a producer on the test's own namespace of the
// shared Redis.
func fixture(t *testing.T, cfg workoutput.Config) (*redistest.Redis, *workoutput.Store, *jobs.Producer) {
	t.Helper()
	r := redistest.New(t)
	cfg.Namespace = r.Prefix
	store, err := workoutput.New(r.Client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := jobs.ParseDeployment(r.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jobs.NewProducer(r.Client, store, jobs.ProducerConfig{Queue: d.EventsQueue(), CollectQueue: d.CollectQueue(), ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	return r, store, p
}

// keys returns the keys of the test's namespace.
func keys(t *testing.T, r *redistest.Redis) []string {
	t.Helper()
	k, err := r.Client.Keys(context.Background(), r.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSpoolSubmitsEverythingOnce: a spooled input of caller-given and
// generated IDs is submitted whole in batches smaller than it, and Close
// removes the spool (the test sets TMPDIR, so it does not run in
// parallel).
func TestSpoolSubmitsEverythingOnce(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, store, p := fixture(t, workoutput.Config{})
	var b strings.Builder
	for i := range 100 {
		if i%3 == 0 {
			fmt.Fprintf(&b, "{\"n\":%d}\n\n", i) // generated ID, and a blank line
		} else {
			fmt.Fprintf(&b, "{\"id\":\"e%d\",\"n\":%d}\n", i, i)
		}
	}
	in, err := jobfile.Spool(strings.NewReader(b.String()), "body", "id")
	if err != nil {
		t.Fatal(err)
	}
	if in.Len() != 100 {
		t.Fatalf("Len = %d, want 100", in.Len())
	}
	if err := in.Check(store); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, n, err := in.Submit(ctx, p, store, workoutput.Spec{Kind: "k"}, 9)
	if err != nil || n != 100 {
		t.Fatalf("Submit = %s, %d, %v", id, n, err)
	}
	st, err := store.Status(ctx, id)
	if err != nil || st.State != workoutput.StateRunning || st.Total != 100 || !st.Sealed {
		t.Fatalf("status = %+v, %v; want a sealed running job of 100 events", st, err)
	}
	missing := 0
	for _, err := range store.Missing(ctx, id) {
		if err != nil {
			t.Fatal(err)
		}
		missing++
	}
	if missing != 100 {
		t.Fatalf("%d events registered, want 100", missing)
	}
	if spools, _ := filepath.Glob(filepath.Join(tmp, "fanin-submit-*")); len(spools) != 1 {
		t.Fatalf("spools in TMPDIR before Close: %v, want one", spools)
	}
	in.Close()
	if left, _ := filepath.Glob(filepath.Join(tmp, "fanin-submit-*")); len(left) > 0 {
		t.Errorf("Close left %v in TMPDIR", left)
	}
}

// TestBadInputWritesNothing: each bad input is refused by the first pass or
// by Check, with its sentinel and a message naming what is wrong, and
// nothing reaches Redis.
func TestBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	r, store, _ := fixture(t, workoutput.Config{MaxEventSize: 64, MaxEvents: 5})
	for _, tc := range []struct {
		name, body string
		atSpool    bool
		want       error
		text       string
	}{
		{"malformed", "{\"id\":\"a\"}\n{\"id\":\n", true, jobfile.ErrInput, "body line 2: not valid JSON"},
		{"id not a string", "{\"id\":\"a\"}\n{\"id\":7}\n", true, jobfile.ErrInput, `body line 2: field "id" is 7`},
		{"duplicate", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"a\"}\n", false, workoutput.ErrDuplicateEvent, `"a" is given twice`},
		{"reserved", "{\"id\":\"#1\"}\n", false, workoutput.ErrInvalid, `"#1"`},
		{"oversized", "{\"id\":\"big\",\"pad\":\"" + strings.Repeat("x", 80) + "\"}\n", false, workoutput.ErrTooLarge, "big"},
		{"too many", strings.Repeat("{}\n", 6), false, workoutput.ErrTooLarge, "6 events"},
	} {
		in, err := jobfile.Spool(strings.NewReader(tc.body), "body", "id")
		if err == nil {
			err = in.Check(store)
			in.Close()
			if tc.atSpool {
				t.Errorf("%s: the first pass accepted it", tc.name)
			}
		}
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v; want %v naming %q", tc.name, err, tc.want, tc.text)
		}
	}
	if k := keys(t, r); len(k) > 0 {
		t.Fatalf("bad input wrote to Redis: %v", k)
	}
}

// TestOpenStopsAtALineOverTheLimit: Open refuses a line over maxLine as
// soon as it is read, from a regular file (read in place) as from a device
// that never ends a line (spooled), with ErrInput and the line's number.
func TestOpenStopsAtALineOverTheLimit(t *testing.T) {
	t.Parallel()
	long := filepath.Join(t.TempDir(), "long.jsonl")
	if err := os.WriteFile(long, []byte("{\"id\":\"a\"}\n{\"id\":\"b\",\"p\":\""+strings.Repeat("x", 100)+"\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, line := range map[string]int{long: 2, "/dev/zero": 1} {
		in, err := jobfile.Open(path, path, "id", 64)
		if err == nil {
			in.Close()
		}
		var ll *eventfile.LineTooLongError
		if !errors.Is(err, jobfile.ErrInput) || !errors.As(err, &ll) || ll.Line != line || ll.Max != 64 {
			t.Errorf("Open(%s) = %v; want ErrInput and line %d over 64 bytes", path, err, line)
		}
	}
}

// TestSecondPassKeepsTheLineLimit: a file read again in place may have
// changed since the first pass; a line over the limit then ends Submit
// with the same error as in the first pass (and the job is cancelled), not
// a read of the whole line.
func TestSecondPassKeepsTheLineLimit(t *testing.T) {
	t.Parallel()
	_, store, p := fixture(t, workoutput.Config{})
	path := filepath.Join(t.TempDir(), "e.jsonl")
	if err := os.WriteFile(path, []byte("{\"id\":\"a\"}\n{\"id\":\"b\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := jobfile.Open(path, "e.jsonl", "id", 64)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.WriteFile(path, []byte("{\"id\":\"a\",\"p\":\""+strings.Repeat("x", 1000)+"\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = in.Submit(context.Background(), p, store, workoutput.Spec{Kind: "k"}, 10)
	var ll *eventfile.LineTooLongError
	if !errors.As(err, &ll) || ll.Line != 1 || !strings.Contains(err.Error(), "changed during submit") {
		t.Fatalf("Submit of a file changed since Open = %v; want line 1 over 64 bytes, changed during submit", err)
	}
}

// TestSettingsSpec: every setting reaches the spec, and bad ones name the
// parameter.
func TestSettingsSpec(t *testing.T) {
	t.Parallel()
	param := func(p string) string { return "?" + p }
	four, zero, negative := 4, 0, -1
	spec, err := jobfile.Settings{Kind: "k", Name: "n", Retention: "2h", MaxRetry: &four, Policy: "fail", Chunk: 10}.Spec(param)
	if err != nil || spec.Kind != "k" || spec.Name != "n" || spec.Retention.Hours() != 2 || spec.MaxRetry != 4 || spec.FailurePolicy != workoutput.PolicyFail {
		t.Fatalf("Spec = %+v, %v", spec, err)
	}
	if spec, err := (jobfile.Settings{Kind: "k", Policy: "fail", Deadline: workoutput.MinDeadline}).Spec(param); err != nil || spec.Deadline != workoutput.MinDeadline {
		t.Errorf("Deadline of MinDeadline: Spec.Deadline = %v, %v; want %v", spec.Deadline, err, workoutput.MinDeadline)
	}
	// No MaxRetry given: the producer's default; 0 given: no retry.
	for _, tc := range []struct {
		given *int
		want  int
	}{{nil, 0}, {&zero, workoutput.NoRetry}} {
		if spec, err := (jobfile.Settings{Kind: "k", Policy: "fail", MaxRetry: tc.given}).Spec(param); err != nil || spec.MaxRetry != tc.want {
			t.Errorf("MaxRetry %v: Spec.MaxRetry = %d, %v; want %d", tc.given, spec.MaxRetry, err, tc.want)
		}
	}
	for _, s := range []jobfile.Settings{
		{Kind: "k", Policy: "fail", Retention: "soon"},
		{Kind: "k", Policy: "fail", Retention: "-1h"},
		{Kind: "k", Policy: ""},
		{Kind: "k", Policy: "fail", Chunk: jobs.MaxChunkSize + 1},
		{Kind: "k", Policy: "fail", Chunk: -1},
		{Kind: "k", Policy: "fail", MaxRetry: &negative},
		{Kind: "k", Policy: "fail", Deadline: time.Nanosecond},
		{Kind: "k", Policy: "fail", Deadline: workoutput.MinDeadline - 1},
		{Kind: "k", Policy: "fail", Deadline: -time.Hour},
	} {
		if _, err := s.Spec(param); !errors.Is(err, jobfile.ErrSettings) || !strings.Contains(err.Error(), "?") {
			t.Errorf("%+v: %v, want ErrSettings naming the parameter", s, err)
		}
	}
}
