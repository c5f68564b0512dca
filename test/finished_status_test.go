package test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// TestStatusOfAFailedJob: status of a job that ended failed gives, as its
// last error, the final failure of an event (its attempts and reason as
// inspect --failed gives them), not the note of the attempt that was
// retried, and status --watch --json's last line the same; a failed job
// submitted without retention says how long its data is really kept; retry
// of a job that cannot be retried says which can.
func TestStatusOfAFailedJob(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	// The flaky event fails every attempt, with the attempt's number, until
	// the file fixed exists; the bad one fails for good at once.
	handler := writeFile(t, dir, "h.sh", `while read -r line; do
  case "$line" in
  *'"bad"'*) echo '{"error":"bad input","permanent":true}'; continue ;;
  *'"flaky"'*) if [ ! -e "$1/fixed" ]; then
      n=$(( $(cat "$1/n" 2>/dev/null || echo 0) + 1 )); echo "$n" >"$1/n"; echo "{\"error\":\"try $n of the backend\"}"; continue
    fi ;;
  esac
  echo '{"output":1}'
done
`)
	events := writeFile(t, dir, "e.jsonl", eventLines(5, func(i int) string {
		if i == 2 {
			return "flaky"
		}
		return "ok"
	}))
	start(t, e, "worker", "--concurrency", "1", "--retry-delay", "100ms", "--exec", "k=sh "+handler+" "+dir)
	start(t, e, "coordinator", "run", "--reducer", "k=count", "--sweep-interval", "1s")
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events, "--max-retry", "1", "--retention", "none"))
	waitFor(t, "the note of the first failed attempt", func() bool {
		st := status(t, e, job)
		return st.LastError != nil || st.State == "failed"
	})
	if r := runBin(t, e, "coordinator", "collect", job, "--wait", "--timeout", "1m"); r.code != 3 {
		t.Fatalf("collect --wait: exit %d, stderr %q; want 3 (failed)", r.code, r.stderr)
	}

	out := mustRun(t, e, "coordinator", "status", job)
	insp := mustRun(t, e, "coordinator", "inspect", job, "--failed")
	final := regexp.MustCompile(`(?m)^  e2 after 2 attempts at (\S+): try 2 of the backend$`).FindStringSubmatch(insp)
	if final == nil {
		t.Fatalf("inspect --failed =\n%s\nwant e2 failed after 2 attempts with try 2", insp)
	}
	if want := "last error  event e2, failed after 2 attempts, " + final[1] + ": try 2 of the backend\n"; !strings.Contains(out, want) ||
		strings.Contains(out, "attempt 1") || strings.Contains(out, "try 1") {
		t.Errorf("status of the failed job =\n%s\nwant %q, the final failure inspect --failed gives, not the retried attempt's note", out, want)
	}
	if !strings.Contains(insp, "last error  event e2, failed after 2 attempts, "+final[1]) {
		t.Errorf("inspect's status gives another last error:\n%s", insp)
	}
	if st := status(t, e, job); st.LastError == nil || st.LastError.Attempts != 2 || st.LastError.Reason != "try 2 of the backend" {
		t.Errorf("status --json last_error = %+v; want attempt 2, try 2 of the backend", st.LastError)
	}
	// status --watch --json ends with the line status --json gives: the
	// final failure as last error (it gave the retried attempt's note).
	if r := runBin(t, e, "coordinator", "status", job, "--watch", "--json"); r.code != 3 {
		t.Errorf("status --watch --json: exit %d, stderr %q; want 3 (failed)", r.code, r.stderr)
	} else {
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		var last progress.JSON
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.LastError == nil || *last.LastError != *status(t, e, job).LastError {
			t.Errorf("status --watch --json ends with %q (%v); want the last_error of status --json, %+v", lines[len(lines)-1], err, status(t, e, job).LastError)
		}
	}
	// list --json gives the same last error as status --json (it gave none).
	var listed []progress.JSON
	if out := mustRun(t, e, "coordinator", "list", "--state", "failed", "--json"); json.Unmarshal([]byte(out), &listed) != nil ||
		len(listed) != 1 || listed[0].ID != job || listed[0].LastError == nil || *listed[0].LastError != *status(t, e, job).LastError {
		t.Errorf("list --state failed --json = %s; want the job with the last_error of status --json, %+v", out, status(t, e, job).LastError)
	}
	// The commit records how long it keeps the data of a failed job
	// without a retention of its own (the committing coordinator's
	// FailedRetention, 24h in the binaries), and status says so.
	if !regexp.MustCompile(`retention 0s \(failed: its data is kept 24h after it finished: until \S+Z, for inspect, replay and retry\)`).MatchString(out) {
		t.Errorf("status of a failed job without retention =\n%s\nwant its data kept 24h after it finished", out)
	}
	if st := status(t, e, job); st.RetainedForMS != (24 * time.Hour).Milliseconds() {
		t.Errorf("status --json retained_for_ms = %d; want 24h in ms", st.RetainedForMS)
	}

	// Retry refused: a job that is running, one without retention, and
	// (once retried to its end) a done one.
	running := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--queue", "fanin:nobody", "--events", events))
	bad := writeFile(t, dir, "bad.jsonl", eventLines(3, func(i int) string { return []string{"ok", "bad", "ok"}[i] }))
	partial := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", bad, "--retention", "none", "--policy", "continue"))
	if r := runBin(t, e, "coordinator", "collect", partial, "--wait", "--timeout", "1m"); r.code != 3 {
		t.Fatalf("collect --wait of the partial job: exit %d, stderr %q; want 3", r.code, r.stderr)
	}
	writeFile(t, dir, "fixed", "")
	mustRun(t, e, "coordinator", "retry", job, "--wait", "--timeout", "1m")
	const which = "only a failed or partial job whose outputs are still retained can be retried"
	for _, tc := range []struct{ job, want string }{
		{job, "coordinator: wrong job state: job " + job + " is done; " + which + " (it has every output: coordinator replay reduces it again)\n"},
		{running, "coordinator: wrong job state: job " + running + " is " + status(t, e, running).State + "; " + which +
			" (it has not ended yet: coordinator status --watch follows it)\n"},
		{partial, "coordinator: outputs not retained: job " + partial + " is partial and had no retention (--retention none): its outputs were deleted when it was committed; " +
			which + ": submit its events again as a new job\n"},
	} {
		if r := runBin(t, e, "coordinator", "retry", tc.job); r.code != 1 || r.stderr != tc.want {
			t.Errorf("retry refused: exit %d, stderr\n%q\nwant 1 and\n%q", r.code, r.stderr, tc.want)
		}
	}
}
