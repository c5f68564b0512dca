package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
)

// The operator's day (issue 14): served kinds, timeouts and process
// groups, --exec-procs, retries of failed events, progress off a terminal,
// failures that show at once, scripting.

// writeFile writes body to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// eventLines returns n events {"id":"e<i>","p":<p(i)>} as JSON lines.
func eventLines(n int, p func(i int) string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"id\":\"e%d\",\"p\":%q}\n", i, p(i))
	}
	return b.String()
}

// members lists the live processes through coordinator kinds --json.
func members(t *testing.T, environ []string) []jobs.Member {
	t.Helper()
	var ms []jobs.Member
	out := mustRun(t, environ, "coordinator", "kinds", "--json")
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("kinds --json %q: %v", out, err)
	}
	return ms
}

// gone reports whether process pid has ended (or is a zombie nobody
// reaps).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}

// pidIn reads a PID written by a handler.
func pidIn(t *testing.T, path string) int {
	t.Helper()
	var pid int
	waitFor(t, "the handler to write "+filepath.Base(path), func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && pid > 0
	})
	return pid
}

// TestServedKinds: submit warns when no live worker or coordinator serves
// the kind, --require-served (or its variable) refuses with exit 2 and
// submits nothing; status, inspect and list say what the job waits for;
// coordinator kinds lists the live processes, which leave when stopped.
func TestServedKinds(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	events := writeFile(t, dir, "e.jsonl", eventLines(5, func(int) string { return "x" }))

	r := runBin(t, e, "coordinator", "submit", "--kind", "echo", "--events", events)
	if r.code != 0 || !strings.Contains(r.stderr, `no worker serves kind "echo"`) || !strings.Contains(r.stderr, `no coordinator reduces kind "echo"`) {
		t.Fatalf("submit with nobody serving: exit %d, stderr %q; want 0 and a warning naming both", r.code, r.stderr)
	}
	waiting := strings.TrimSpace(r.stdout)
	for _, environ := range [][]string{e, append(e[:len(e):len(e)], "FANIN_REQUIRE_SERVED=1")} {
		args := []string{"submit", "--kind", "echo", "--events", events}
		if len(environ) == len(e) {
			args = append(args, "--require-served")
		}
		r := runBin(t, environ, "coordinator", args...)
		if r.code != 2 || !strings.Contains(r.stderr, `--require-served: no worker serves kind "echo"; no coordinator reduces kind "echo"; nothing was submitted`) {
			t.Errorf("submit --require-served with nobody serving: exit %d, stderr %q; want 2", r.code, r.stderr)
		}
	}
	var listed []progress.JSON
	if err := json.Unmarshal([]byte(mustRun(t, e, "coordinator", "list", "--json")), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("list --json = %+v, %v; want the one job submitted", listed, err)
	}
	want := []string{`no worker serves kind "echo"`, `no coordinator reduces kind "echo"`}
	if !slices.Equal(listed[0].Waiting, want) {
		t.Errorf("list --json waiting = %q; want %q", listed[0].Waiting, want)
	}
	for _, args := range [][]string{{"status", waiting}, {"inspect", waiting}, {"list"}} {
		out := mustRun(t, e, "coordinator", args...)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("coordinator %v does not say %q:\n%s", args, w, out)
			}
		}
	}

	w := start(t, e, "worker", "--concurrency", "2", "--exec", `echo=while read -r l; do echo '{"output":1}'; done`)
	start(t, e, "coordinator", "run", "--reducer", "echo=count", "--sweep-interval", "1s")
	waitFor(t, "a worker and a coordinator in coordinator kinds", func() bool { return len(members(t, e)) == 2 })
	for _, m := range members(t, e) {
		if !slices.Contains(m.Kinds, "echo") || m.PID == 0 || m.Host == "" || m.Version == "" {
			t.Errorf("member %+v; want kind echo, its PID, host and version", m)
		}
	}
	if out := mustRun(t, e, "coordinator", "kinds"); !strings.Contains(out, "worker") || !strings.Contains(out, "coordinator") || !strings.Contains(out, "echo") {
		t.Errorf("coordinator kinds =\n%s", out)
	}
	r = runBin(t, e, "coordinator", "submit", "--kind", "echo", "--events", events, "--require-served", "--wait", "--timeout", "1m")
	if r.code != 0 || strings.Contains(r.stderr, "warning") || !strings.Contains(r.stdout, `"outputs":5`) {
		t.Fatalf("submit --require-served --wait once served: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	mustRun(t, e, "coordinator", "collect", waiting, "--wait", "--timeout", "1m")
	if out := mustRun(t, e, "coordinator", "status", waiting); strings.Contains(out, "waiting") {
		t.Errorf("a done job still says it waits:\n%s", out)
	}
	w.signal(t, syscall.SIGTERM)
	if code := w.wait(t); code != 0 {
		t.Fatalf("worker exit %d after SIGTERM", code)
	}
	if ms := members(t, e); len(ms) != 1 || ms[0].Role != jobs.RoleCoordinator {
		t.Fatalf("after the worker stopped, kinds lists %+v; want the coordinator only", ms)
	}
}

// TestEventTimeoutsKillProcessGroups: an exec handler that hangs fails its
// event "timed out after D" (the worker's --event-timeout, or the job's
// own), with its exit and last stderr line in the reason, and its process
// group is killed (a grandchild included, checked by PID); a worker stopped
// by SIGTERM leaves no co-process nor grandchild behind.
func TestEventTimeoutsKillProcessGroups(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	handler := writeFile(t, dir, "h.sh", `dir=$1
while read -r line; do
  case "$line" in
  *'"hang'*) sleep 300 & echo $! > "$dir/hang-child"; echo $$ > "$dir/hang-self"; echo "hanging on purpose" >&2; wait ;;
  *'"bg"'*) sleep 300 & echo $! > "$dir/bg-child"; echo $$ > "$dir/bg-self"; echo '{"output":"bg"}' ;;
  *) echo '{"output":"ok"}' ;;
  esac
done
`)
	w := start(t, e, "worker", "--concurrency", "1", "--event-timeout", "1s", "--retry-delay", "100ms", "--exec", "k=sh "+handler+" "+dir)
	start(t, e, "coordinator", "run", "--reducer", "k=count", "--sweep-interval", "1s")
	// The worker's timeout, to the end: the event fails after its retry.
	events := writeFile(t, dir, "hang.jsonl", `{"id":"ok","p":"x"}`+"\n"+`{"id":"h","p":"hang"}`+"\n")
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events, "--max-retry", "1"))
	if r := runBin(t, e, "coordinator", "collect", job, "--wait", "--timeout", "1m"); r.code != 3 {
		t.Fatalf("collect of a job whose handler hangs: exit %d, %q; want 3 (failed)", r.code, r.stderr)
	}
	var rep struct {
		Failed []struct {
			ID, Reason string
			Attempts   int
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, e, "coordinator", "inspect", job, "--failed", "--json")), &rep); err != nil || len(rep.Failed) != 1 || rep.Failed[0].Attempts != 2 {
		t.Fatalf("inspect --failed --json: %+v, %v; want one event failed after 2 attempts", rep, err)
	}
	checkKilled := func(reason, timeout string) {
		t.Helper()
		for _, want := range []string{timeout + ": co-process pid ", "signal: killed", `last stderr: "hanging on purpose"`} {
			if !strings.Contains(reason, want) {
				t.Errorf("reason %q lacks %q", reason, want)
			}
		}
		for _, f := range []string{"hang-child", "hang-self"} {
			pid := pidIn(t, filepath.Join(dir, f))
			waitFor(t, f+" to be killed with its group", func() bool { return gone(pid) })
			_ = os.Remove(filepath.Join(dir, f))
		}
	}
	checkKilled(rep.Failed[0].Reason, "timed out after 1s")
	// The job's own timeout, seen on the first failed attempt.
	events = writeFile(t, dir, "hang2.jsonl", `{"id":"h","p":"hang2"}`+"\n")
	job = strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events, "--event-timeout", "300ms"))
	waitFor(t, "the first attempt to time out", func() bool { return status(t, e, job).LastError != nil })
	checkKilled(status(t, e, job).LastError.Reason, "timed out after 300ms")
	mustRun(t, e, "coordinator", "cancel", job)
	if !strings.Contains(w.logText(), "exec handler stopped with its process group") || !strings.Contains(w.logText(), "hanging on purpose") {
		t.Errorf("the worker log lacks the kill and the co-process's stderr:\n%s", w.logText())
	}

	// A co-process that left a grandchild running: SIGTERM stops both.
	events = writeFile(t, dir, "bg.jsonl", `{"id":"b","p":"bg"}`+"\n")
	job = strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events))
	mustRun(t, e, "coordinator", "collect", job, "--wait", "--timeout", "1m")
	child, self := pidIn(t, filepath.Join(dir, "bg-child")), pidIn(t, filepath.Join(dir, "bg-self"))
	if gone(child) || gone(self) {
		t.Fatalf("the co-process %d or its child %d is not running before SIGTERM: the check would prove nothing", self, child)
	}
	w.signal(t, syscall.SIGTERM)
	if code := w.wait(t); code != 0 {
		t.Fatalf("worker exit %d after SIGTERM", code)
	}
	// The worker's last act is SIGKILL to the co-process's group; a killed
	// process may still be on its way out when the worker has exited (state
	// R, as CI saw once), so wait for it as checkKilled does.
	for _, pid := range []int{self, child} {
		waitFor(t, fmt.Sprintf("process %d, killed with the worker's co-process group, to be gone", pid), func() bool { return gone(pid) })
	}
}

// TestExecProcsFollowConcurrency: without --exec-procs, a worker of
// --concurrency 3 runs 3 co-processes of its exec kind at once.
// TestEndlessCoprocessAnswerIsCut: a co-process that answers with a line
// that never ends (cat /dev/zero) costs the worker at most --max-output-size
// plus 64 KiB: the event fails with a reason naming the limit, and the
// worker stays up (before: the worker read the line into memory, 1.2 GB in
// 6 s).
func TestEndlessCoprocessAnswerIsCut(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	w := start(t, e, "worker", "--concurrency", "1", "--max-output-size", "1000", "--exec", "z=cat /dev/zero")
	start(t, e, "coordinator", "run", "--reducer", "z=count", "--sweep-interval", "1s")
	events := writeFile(t, dir, "z.jsonl", `{"id":"a"}`+"\n")
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "z", "--events", events, "--max-retry", "0"))
	if r := runBin(t, e, "coordinator", "collect", job, "--wait", "--timeout", "1m"); r.code != 3 {
		t.Fatalf("collect of a job whose co-process never ends its line: exit %d, %q; want 3 (failed)", r.code, r.stderr)
	}
	reason := status(t, e, job).LastError
	want := `"cat /dev/zero" answered a line over 66536 bytes`
	if reason == nil || !strings.Contains(reason.Reason, want) {
		t.Fatalf("last error %+v; want a reason with %q", reason, want)
	}
	select {
	case <-w.done:
		t.Fatalf("the worker exited: %s", w.logText())
	default:
	}
}

// TestExecReducersCannotHoldAJob: a reducer command that writes without
// end fails its job at once with the result's limit named (before: the
// coordinator read and discarded it, at a core's worth of CPU, until the
// reduce timeout, 10 minutes an attempt); one that leaves a process running
// gets its result and that process is killed with its group.
func TestExecReducersCannotHoldAJob(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	left := filepath.Join(dir, "left")
	start(t, e, "worker", "--concurrency", "1", "--exec", `z=while read -r l; do echo '{"output":1}'; done`,
		"--exec", `y=while read -r l; do echo '{"output":1}'; done`)
	start(t, e, "coordinator", "run", "--reducer", "z=exec:cat /dev/zero",
		"--reducer", "y=exec:sleep 300 & echo $! > "+left+"; echo result", "--sweep-interval", "1s")
	events := writeFile(t, dir, "e.jsonl", `{"id":"a"}`+"\n")
	endless := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "z", "--events", events))
	if r := runBin(t, e, "coordinator", "collect", endless, "--wait", "--timeout", "2m"); r.code != 3 || !strings.Contains(r.stderr, "exceeds 16777216 bytes (it was stopped)") {
		t.Fatalf("collect of a job whose reducer writes without end: exit %d, %q; want 3 and the result's limit", r.code, r.stderr)
	}
	leaves := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "y", "--events", events))
	if out := mustRun(t, e, "coordinator", "collect", leaves, "--wait", "--timeout", "2m"); out != "result\n" {
		t.Fatalf("result of a reducer that left a process running: %q; want %q", out, "result\n")
	}
	pid := pidIn(t, left)
	waitFor(t, "the reducer's leftover sleep to be killed with its group", func() bool { return gone(pid) })
}

func TestExecProcsFollowConcurrency(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	events := writeFile(t, dir, "e.jsonl", eventLines(15, func(int) string { return "x" }))
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "pid", "--events", events, "--chunk", "1"))
	start(t, e, "worker", "--concurrency", "3", "--exec", `pid=while read -r l; do sleep 0.3; echo "{\"output\":$$}"; done`)
	start(t, e, "coordinator", "run", "--reducer", "pid=jsonl")
	out := mustRun(t, e, "coordinator", "collect", job, "--wait", "--timeout", "1m")
	pids := map[string]bool{}
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var v struct{ Output json.RawMessage }
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("result line %q: %v", line, err)
		}
		pids[string(v.Output)] = true
	}
	if len(pids) != 3 {
		t.Fatalf("the events ran in %d co-processes (%v); want 3, one per --concurrency", len(pids), pids)
	}
}

// TestRetryFailedEvents: coordinator retry puts a failed job's failed
// events back to work once the handler is fixed; the job completes with
// every output and is committed again under a new token. A job that is
// done, or whose data is no longer retained, is refused.
func TestRetryFailedEvents(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	handler := writeFile(t, dir, "h.sh", `while read -r line; do
  case "$line" in *'"odd"'*) if [ ! -e "$1/fixed" ]; then echo '{"error":"odd one out","permanent":true}'; continue; fi ;; esac
  echo '{"output":1}'
done
`)
	events := writeFile(t, dir, "e.jsonl", eventLines(20, func(i int) string {
		if i%3 == 0 {
			return "odd"
		}
		return "even"
	}))
	start(t, e, "worker", "--concurrency", "2", "--exec", "k=sh "+handler+" "+dir)
	start(t, e, "coordinator", "run", "--reducer", "k=count", "--sweep-interval", "1s")
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events, "--chunk", "4"))
	gone := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events, "--retention", "none", "--policy", "continue"))
	if r := runBin(t, e, "coordinator", "collect", job, "--wait", "--timeout", "1m"); r.code != 3 || !strings.Contains(r.stderr, "7 events failed") {
		t.Fatalf("collect: exit %d %q; want 3, 7 events failed", r.code, r.stderr)
	}
	if r := runBin(t, e, "coordinator", "status", gone, "--watch", "--json"); r.code != 3 || !strings.Contains(r.stdout, `"state":"partial"`) {
		t.Fatalf("status --watch of the job without retention: exit %d %q; want 3 (partial)", r.code, r.stdout)
	}
	writeFile(t, dir, "fixed", "")
	r := runBin(t, e, "coordinator", "retry", job, "--wait", "--timeout", "1m")
	if r.code != 0 || r.stdout != `{"outputs":20,"failed":0,"missing":0}`+"\n" || !strings.Contains(r.stderr, "7 events put back to work") {
		t.Fatalf("retry --wait: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if st := status(t, e, job); st.State != "done" || st.Token != 2 || st.Retried != 1 || st.Done != 20 {
		t.Fatalf("after the retry: %+v; want done, 20 outputs, token 2, retried once", st)
	}
	for _, tc := range []struct{ job, want string }{
		{job, "wrong job state: job " + job + " is done"},
		{gone, "outputs not retained: job " + gone},
	} {
		if r := runBin(t, e, "coordinator", "retry", tc.job); r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "workoutput:") {
			t.Errorf("retry refused: exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.want)
		}
	}
}

// TestProgressAndFailuresOffATerminal: with stderr not a terminal,
// status --watch, collect --wait and submit write plain lines (no '\r');
// the first failed attempt of an event shows in status and inspect
// --missing at once, long before its retry (Asynq's default delay, 15 s
// or more), and inspect --failed gives each failed event's attempts and
// error.
func TestProgressAndFailuresOffATerminal(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL="+srv.URL(), "FANIN_PROGRESS_INTERVAL=50ms")
	dir := t.TempDir()
	events := writeFile(t, dir, "e.jsonl", eventLines(40, func(i int) string {
		switch i {
		case 7:
			return "flaky"
		case 9:
			return "bad"
		}
		return "ok"
	}))
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events, "--chunk", "5"))
	watch := start(t, e, "coordinator", "status", job, "--watch", "--interval", "20ms")
	start(t, e, "worker", "--concurrency", "2", "--exec", `k=while read -r l; do case "$l" in
  *'"flaky"'*) echo '{"error":"flaky backend"}' ;;
  *'"bad"'*) echo '{"error":"bad sighting","permanent":true}' ;;
  *) echo '{"output":1}' ;; esac; done`)
	waitFor(t, "status to show the failed attempt", func() bool {
		st := status(t, e, job)
		return st.Retrying == 1 && st.LastError != nil
	})
	st := status(t, e, job)
	if st.LastError.Event != "e7" || st.LastError.Reason != "flaky backend" || st.LastError.Attempts != 1 {
		t.Fatalf("status --json last_error = %+v; want e7, flaky backend, attempt 1", st.LastError)
	}
	if out := mustRun(t, e, "coordinator", "status", job); !strings.Contains(out, "1 events failed an attempt and will be retried") ||
		!strings.Contains(out, "event e7, attempt 1") || !strings.Contains(out, "flaky backend") {
		t.Fatalf("status =\n%s", out)
	}
	waitFor(t, "the other events", func() bool { st := status(t, e, job); return st.Done == 38 && st.Failed == 1 })
	insp := mustRun(t, e, "coordinator", "inspect", job, "--missing", "--failed")
	if !strings.Contains(insp, "missing events (1 shown):\n  e7: 1 attempts failed, the last at ") || !strings.Contains(insp, ": flaky backend (retried)") ||
		!strings.Contains(insp, "  e9 after 1 attempts at ") || !strings.Contains(insp, ": bad input: bad sighting") {
		t.Fatalf("inspect --missing --failed =\n%s", insp)
	}
	// The watch writes a line every 50 ms: wait for one with the retry
	// before the job ends (on a fast machine all of the above can take less).
	waitFor(t, "status --watch to show the retry", func() bool {
		return strings.Contains(watch.logText(), "retrying (last error: flaky backend)")
	})
	mustRun(t, e, "coordinator", "cancel", job)
	start(t, e, "coordinator", "run", "--reducer", "k=count")
	if code := watch.wait(t); code != 3 {
		t.Fatalf("status --watch of a cancelled job: exit %d; want 3\n%s", code, watch.logText())
	}
	log := watch.logText()
	if strings.Contains(log, "\r") || !strings.Contains(log, "running: ") || !strings.Contains(log, "retrying (last error: flaky backend)") ||
		!strings.Contains(log, "cancelled: ") {
		t.Fatalf("status --watch off a terminal wrote:\n%q", log)
	}

	// submit and collect --wait off a terminal.
	big := writeFile(t, dir, "big.jsonl", eventLines(20000, func(int) string { return "ok" }))
	// --progress-interval 1ms: submit shows its progress once it has taken
	// that long (a second by default), which 20,000 events may not take.
	r := runBin(t, e, "coordinator", "submit", "--kind", "k", "--events", big, "--chunk", "100", "--wait", "--timeout", "2m", "--progress-interval", "1ms")
	if r.code != 0 || strings.Contains(r.stderr, "\r") || !strings.Contains(r.stderr, "submitting: ") ||
		!strings.Contains(r.stderr, "submitted: 20,000 events") || !strings.Contains(r.stderr, "done: 20,000/20,000 events done") {
		t.Fatalf("submit --wait off a terminal: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestScripting: --version; every flag of both binaries names its
// environment variable, which works; with --json errors are JSON on
// stderr with the exit code; inspect --json keeps empty lists; messages
// name flags, not Go packages or fields.
func TestScripting(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	for _, b := range []string{"worker", "coordinator"} {
		if out := mustRun(t, e, b, "--version"); !strings.HasPrefix(out, b+" ") || !strings.Contains(out, "go1.") {
			t.Errorf("%s --version = %q", b, out)
		}
	}
	helps := [][]string{{"worker", "--help"}}
	for _, c := range []string{"submit", "run", "status", "list", "inspect", "collect", "cancel", "replay", "retry", "kinds", "serve"} {
		helps = append(helps, []string{"coordinator", c, "--help"})
	}
	for _, h := range helps {
		inFlags := false
		for line := range strings.SplitSeq(mustRun(t, e, h[0], h[1:]...), "\n") {
			flag := strings.TrimSpace(line)
			switch {
			case strings.HasSuffix(line, "Flags:"):
				inFlags = true
				continue
			case flag == "":
				inFlags = false
			}
			if !inFlags || !strings.HasPrefix(flag, "-") || strings.Contains(flag, "--help") || strings.Contains(flag, "--version") {
				continue
			}
			if !strings.Contains(flag, "env FANIN_") {
				t.Errorf("%v: flag without an environment variable: %s", h, flag)
			}
		}
	}
	for _, tc := range []struct {
		bin, variable, want string
		args                []string
	}{
		{"worker", "FANIN_EXEC_PROCS=-1", "--exec-procs -1: must not be negative", nil},
		{"worker", "FANIN_SHUTDOWN_TIMEOUT=-1s", "--shutdown-timeout -1s: must not be negative", nil},
		{"worker", "FANIN_RETRY_DELAY=-1s", "--retry-delay -1s: must not be negative", nil},
		{"worker", "FANIN_EVENT_TIMEOUT=-1s", "--event-timeout -1s: must not be negative", nil},
		{"coordinator", "FANIN_SUBMIT_MAX_RETRY=-1", "--max-retry -1: must not be negative", []string{"submit", "--kind", "k", "--events", "x"}},
	} {
		if r := runBin(t, append(e[:len(e):len(e)], tc.variable), tc.bin, tc.args...); r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s with %s: exit %d, stderr %q; want 2 and %q", tc.bin, tc.variable, r.code, r.stderr, tc.want)
		}
	}
	type jsonErr struct {
		Error    string `json:"error"`
		ExitCode int    `json:"exit_code"`
	}
	for _, tc := range []struct {
		environ []string
		args    []string
		code    int
		want    string
	}{
		{e, []string{"--json", "status", "not-a-uuid"}, 2, `invalid input: job ID "not-a-uuid" is not a UUID`},
		{e, []string{"status", "--bogus", "--json"}, 2, "unknown flag: --bogus"},
		{append(e[:len(e):len(e)], "FANIN_JSON=1"), []string{"frobnicate"}, 2, "unknown command"},
		{e, []string{"--json", "status", "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d"}, 1, "job not found: 8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d"},
	} {
		r := runBin(t, tc.environ, "coordinator", tc.args...)
		var je jsonErr
		if err := json.Unmarshal([]byte(r.stderr), &je); err != nil || r.code != tc.code || je.ExitCode != tc.code || !strings.Contains(je.Error, tc.want) {
			t.Errorf("coordinator %v: exit %d, stderr %q (%v); want JSON with exit_code %d and %q", tc.args, r.code, r.stderr, err, tc.code, tc.want)
		}
	}
	dir := t.TempDir()
	events := writeFile(t, dir, "e.jsonl", `{"id":"a"}`+"\n"+`{"id":"big","pad":"0123456789"}`+"\n")
	r := runBin(t, e, "coordinator", "submit", "--kind", "k", "--events", events, "--max-event-size", "20")
	// Refused as soon as the line is read, as POST /jobs does.
	if r.code != 2 || !strings.Contains(r.stderr, `coordinator: `+events+` line 2 is over 20 bytes (the largest event accepted, --max-event-size)`) {
		t.Errorf("submit of an oversize event: exit %d, stderr %q", r.code, r.stderr)
	}
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", events))
	out := mustRun(t, e, "coordinator", "inspect", job, "--failed", "--outputs", "--json")
	if !strings.Contains(out, `"failed":[]`) || !strings.Contains(out, `"outputs":[]`) || strings.Contains(out, `"missing"`) {
		t.Errorf("inspect --failed --outputs --json = %s; want the empty lists asked for, and no other", out)
	}
}
