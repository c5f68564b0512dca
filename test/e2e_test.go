package test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// e2eSightings is the size of the end-to-end job: FANIN_E2E_N, default
// 20,000.
func e2eSightings(t *testing.T) int {
	t.Helper()
	n := 20_000
	if v := os.Getenv("FANIN_E2E_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("FANIN_E2E_N=%q (want a positive integer)", v)
		}
	}
	return n
}

// TestSeparateProcessesMatchEmbeddedDemo runs the whole flow as separate
// processes against a real Redis: generate sightings, submit them, three
// workers (one killed with SIGKILL in the middle of the job and started
// again), two coordinators, collect. The result is byte-identical to the
// embedded single-process demo on the same seed.
func TestSeparateProcessesMatchEmbeddedDemo(t *testing.T) {
	t.Parallel()
	n := e2eSightings(t)
	const seed = "7"
	dir := t.TempDir()

	// The embedded demo: one process, miniredis, no Redis configured.
	demoOut := filepath.Join(dir, "demo.json")
	mustRun(t, env(), "zombies", "-n", strconv.Itoa(n), "--seed", seed, "--workers", "3", "--out", demoOut)
	want, err := os.ReadFile(demoOut)
	if err != nil {
		t.Fatal(err)
	}

	srv := redistest.StartServer(t, redistest.ServerOptions{})
	store, err := workoutput.New(srv.Client(t), workoutput.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := env("FANIN_REDIS_URL=" + srv.URL())
	events := filepath.Join(dir, "sightings.jsonl")
	mustRun(t, e, "zombies", "generate", "-n", strconv.Itoa(n), "--seed", seed, "--out", events)
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "zombies.sighting", "--events", events, "--chunk", "50", "--name", "e2e"))

	// Worker 1 alone first, so that it is surely in the middle of the job
	// when it is killed: stopped (SIGSTOP) as soon as it has written
	// something, checked unfinished, then killed.
	ctx := context.Background()
	w1 := start(t, e, "worker", "--concurrency", "2")
	waitFor(t, "worker 1 to write outputs", func() bool {
		st, err := store.Status(ctx, job)
		return err == nil && st.Done > 0
	})
	w1.signal(t, syscall.SIGSTOP)
	st, err := store.Status(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if st.Done+st.Failed >= st.Total {
		t.Fatalf("the job finished before worker 1 was stopped (%d of %d); make it larger with FANIN_E2E_N", st.Done, st.Total)
	}
	w1.signal(t, syscall.SIGKILL)
	if code := w1.wait(t); code != -int(syscall.SIGKILL) {
		t.Fatalf("worker 1 exit = %d, want killed", code)
	}
	t.Logf("worker 1 killed at %d of %d events", st.Done, st.Total)

	// --retry-delay: the chunk worker 1 was running comes back, once Asynq
	// sees its lease expired, after 200 ms instead of 15 to 45 s.
	start(t, e, "worker", "--concurrency", "2", "--retry-delay", "200ms")
	start(t, e, "worker", "--concurrency", "2", "--retry-delay", "200ms")
	start(t, e, "worker", "--concurrency", "2", "--retry-delay", "200ms") // worker 1 again
	start(t, e, "coordinator", "run", "--sweep-interval", "1s")
	start(t, e, "coordinator", "run", "--sweep-interval", "1s")

	got := filepath.Join(dir, "collected.json")
	r := runBin(t, e, "coordinator", "collect", job, "--wait", "--timeout", "3m", "--out", got)
	if r.code != 0 {
		t.Fatalf("collect: exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("separate processes gave a result of %d bytes that differs from the embedded demo's %d bytes", len(b), len(want))
	}
	final := status(t, e, job)
	if final.State != "done" || final.Done != int64(n) || final.Failed != 0 {
		t.Fatalf("final status = %+v, want done with %d outputs", final, n)
	}
	// The same result through stdout, with the trailing newline collect adds.
	if out := mustRun(t, e, "coordinator", "collect", job); out != string(want)+"\n" {
		t.Fatalf("collect to stdout differs from --out")
	}
}

// TestSIGTERMLosesNothing stops a busy worker with SIGTERM: it exits 0,
// and the events it had in flight are processed by the next worker; none is
// lost or failed. The job uses exec handlers and an exec reducer.
func TestSIGTERMLosesNothing(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	store, err := workoutput.New(srv.Client(t), workoutput.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	const n = 300
	var lines strings.Builder
	for i := range n {
		lines.WriteString(`{"id":"e` + strconv.Itoa(i) + `","n":` + strconv.Itoa(i) + "}\n")
	}
	events := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(events, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "slow.echo", "--events", events, "--chunk", "5", "--max-retry", "0"))

	// Each event takes 20 ms in a shell co-process: the worker is busy when
	// SIGTERM arrives. --max-retry 0: an event whose chunk failed would be
	// recorded as failed at once, so "no failure" means none was cut short.
	handler := `slow.echo=while read -r line; do sleep 0.02; echo "{\"output\":$line}"; done`
	w1 := start(t, e, "worker", "--concurrency", "3", "--exec", handler, "--exec-procs", "3")
	waitFor(t, "worker 1 to write outputs", func() bool {
		st, err := store.Status(context.Background(), job)
		return err == nil && st.Done >= 10
	})
	w1.signal(t, syscall.SIGTERM)
	if code := w1.wait(t); code != 0 {
		t.Fatalf("worker exit after SIGTERM = %d, want 0\n%s", code, w1.logText())
	}
	st, err := store.Status(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failed != 0 || st.Done >= n {
		t.Fatalf("after SIGTERM: %d done, %d failed of %d; want none failed and some left", st.Done, st.Failed, n)
	}
	if !strings.Contains(w1.logText(), "worker stopped") {
		t.Fatalf("worker log lacks the graceful stop:\n%s", w1.logText())
	}

	start(t, e, "worker", "--concurrency", "4", "--exec", handler, "--exec-procs", "4")
	start(t, e, "coordinator", "run", "--reducer", "slow.echo=exec:wc -l | tr -d ' '")
	out := mustRun(t, e, "coordinator", "collect", job, "--wait", "--timeout", "2m")
	if out != strconv.Itoa(n)+"\n" {
		t.Fatalf("exec reducer counted %q outputs, want %d", out, n)
	}
	final := status(t, e, job)
	if final.Done != n || final.Failed != 0 {
		t.Fatalf("final status = %+v, want %d done", final, n)
	}
	// Every output went through the co-process: it echoes the request.
	insp := mustRun(t, e, "coordinator", "inspect", job, "--outputs", "--limit", "1", "--json")
	if !strings.Contains(insp, `"kind":"slow.echo"`) || !strings.Contains(insp, `"payload":{"id":"e`) {
		t.Fatalf("inspect --outputs = %s, want the co-process's echo of a request", insp)
	}
}
