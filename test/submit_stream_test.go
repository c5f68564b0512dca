package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// TestSubmitChecksTheWholeFileFirst submits files of 5,000 lines whose last
// line is bad: submit reads events in batches, but a malformed line or a
// duplicate event ID at the very end still exits 2 naming the problem, and
// nothing reaches Redis (no job, no task). A good file read from stdin is
// submitted whole, and the spool of stdin is removed.
func TestSubmitChecksTheWholeFileFirst(t *testing.T) {
	t.Parallel()
	const n = 5000
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client := srv.Client(t)
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	var good bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&good, "{\"id\":\"s%06d\",\"count\":%d}\n", i, i%7)
	}
	lines := strings.SplitAfter(good.String(), "\n")
	head := strings.Join(lines[:n-1], "") // the first n-1 lines
	for _, tc := range []struct{ name, last, want string }{
		{"malformed.jsonl", `{"id":"s005000","count":`, "malformed.jsonl line 5000: not valid JSON"},
		{"badid.jsonl", `{"id":5000}`, `badid.jsonl line 5000: field "id" is 5000`},
		{"duplicate.jsonl", `{"id":"s000001","count":1}`, `event ID "s000001" is given twice`},
		{"reserved.jsonl", `{"id":"#7"}`, `event ID "#7" starts with "#"`},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(head+tc.last+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runBin(t, e, "coordinator", "submit", "--kind", "zombies.sighting", "--events", path, "--chunk", "100")
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
		if list := strings.TrimSpace(mustRun(t, e, "coordinator", "list", "--json")); list != "[]" {
			t.Errorf("%s: coordinator list shows %s after a rejected submit, want no job", tc.name, list)
		}
		keys, err := client.Keys(context.Background(), "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) > 0 {
			t.Errorf("%s: a rejected submit wrote to Redis: %v", tc.name, keys)
		}
	}

	// The same events, good, from stdin: one job of all of them, and the
	// spool in TMPDIR is gone afterwards.
	spool := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "coordinator"), "submit", "--kind", "zombies.sighting", "--events", "-", "--chunk", "100", "--json")
	cmd.Env = append(e, "TMPDIR="+spool)
	cmd.Stdin = bytes.NewReader(good.Bytes())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("submit from stdin: %v; stderr %q", err, stderr.String())
	}
	var sub struct {
		Job    string `json:"job"`
		Events int    `json:"events"`
	}
	if err := json.Unmarshal(out, &sub); err != nil || sub.Events != n {
		t.Fatalf("submit --json printed %q (%v), want a job of %d events", out, err, n)
	}
	if st := status(t, e, sub.Job); !st.Sealed || st.Total != n || st.State != "running" {
		t.Errorf("job from stdin: sealed %v, total %d, state %s; want a sealed, running job of %d events", st.Sealed, st.Total, st.State, n)
	}
	left, err := os.ReadDir(spool)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("submit left %d files in TMPDIR (first %s), want its spool removed", len(left), left[0].Name())
	}
}

// TestSignalStopsASubmissionAndCancelsItsJob sends SIGTERM to submit in the
// middle of a submission (Redis's writes paused so that it cannot finish
// first): the job it had created is cancelled and named, instead of being
// left open, with no ID shown, to run its events until its deadline.
func TestSignalStopsASubmissionAndCancelsItsJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client := srv.Client(t)
	e := env("FANIN_REDIS_URL=" + srv.URL())
	var events bytes.Buffer
	for i := range 200_000 {
		fmt.Fprintf(&events, "{\"id\":\"e%06d\"}\n", i)
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, events.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, e, "coordinator", "submit", "--kind", "k", "--events", path, "--chunk", "100")
	var metas []string
	waitFor(t, "the job to be created", func() bool {
		metas, _ = client.Keys(ctx, "fanin:job:*:meta").Result()
		return len(metas) > 0
	})
	if err := client.Do(ctx, "CLIENT", "PAUSE", 2000, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t); code != 1 {
		t.Fatalf("submit stopped by SIGTERM: exit %d, want 1; output:\n%s", code, p.logText())
	}
	job := strings.TrimSuffix(strings.TrimPrefix(metas[0], "fanin:job:{"), "}:meta")
	if log := p.logText(); !strings.Contains(log, "submission stopped") || !strings.Contains(log, "job "+job+" was cancelled") {
		t.Fatalf("submit's output does not say the submission stopped and job %s was cancelled:\n%s", job, log)
	}
	if st := status(t, e, job); st.State != "cancelled" {
		t.Fatalf("job %s after the stopped submission: %+v; want cancelled", job, st)
	}
}
