package test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// get fetches url, retrying while the server starts.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	var err error
	for range 500 {
		var resp *http.Response
		if resp, err = http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, err)
	return 0, ""
}

// TestQueuesMetricsAndHealth: Asynq's Inspector (what asynqmon and the
// asynq CLI use) sees a submitted job's chunks in fanin's queue, and the
// worker and the coordinator serve /metrics and /healthz.
func TestQueuesMetricsAndHealth(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	events := filepath.Join(dir, "s.jsonl")
	mustRun(t, e, "zombies", "generate", "-n", "1000", "--out", events)
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "zombies.sighting", "--events", events, "--chunk", "100"))

	insp := asynq.NewInspectorFromRedisClient(srv.Client(t))
	tasks, err := insp.ListPendingTasks("default")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 10 || tasks[0].Type != "fanin:events" {
		t.Fatalf("Asynq sees %d pending tasks (first %+v), want 10 chunks of type fanin:events", len(tasks), tasks[0])
	}

	wAddr, cAddr := closedAddr(t), closedAddr(t)
	w := start(t, e, "worker", "--metrics-addr", wAddr, "--log-format", "json")
	c := start(t, e, "coordinator", "run", "--metrics-addr", cAddr)
	mustRun(t, e, "coordinator", "collect", job, "--wait", "--timeout", "1m")

	for _, addr := range []string{wAddr, cAddr} {
		if code, body := get(t, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("%s/healthz = %d %q, want 200 ok", addr, code, body)
		}
	}
	_, body := get(t, "http://"+wAddr+"/metrics")
	for _, want := range []string{`fanin_tasks_processed_total{outcome="ok",type="fanin:events"} 10`, "fanin_jobs_completed_total 1", `fanin_queue_tasks{queue="default"`,
		`fanin_events_processed_total{kind="zombies.sighting"} 1000`, `fanin_events_failed_total{kind="zombies.sighting"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("worker /metrics lacks %q", want)
		}
	}
	_, body = get(t, "http://"+cAddr+"/metrics")
	for _, want := range []string{`fanin_results_committed_total{state="done"} 1`, `fanin_jobs_committed_total{state="done"} 1`,
		`fanin_jobs{state="done"} 1`, `fanin_jobs{state="running"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("coordinator /metrics lacks %q:\n%s", want, body)
		}
	}
	// Both stop gracefully on SIGTERM, with exit code 0 and JSON logs from
	// the worker.
	for _, p := range []*proc{w, c} {
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Errorf("exit after SIGTERM = %d, want 0\n%s", code, p.logText())
		}
	}
	if !strings.Contains(w.logText(), `"msg":"worker stopped"`) {
		t.Errorf("worker JSON log lacks the stop:\n%s", w.logText())
	}
}

// TestDemoIsDeterministic runs the demo against a real Redis (--redis) with
// one worker and embedded with four: the result JSON is byte-identical.
func TestDemoIsDeterministic(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	out := mustRun(t, env(), "zombies", "-n", "3000", "--seed", "11", "--workers", "4", "--out", a)
	if !strings.Contains(out, "3000 sightings") || !strings.Contains(out, "Cities to notify") {
		t.Fatalf("demo summary = %q", out)
	}
	out2 := mustRun(t, env(), "zombies", "--redis", srv.URL(), "-n", "3000", "--seed", "11", "--workers", "1", "--chunk", "7", "--out", b)
	if out2 != out {
		t.Fatalf("the summaries differ:\n%s\n---\n%s", out, out2)
	}
	ra, _ := os.ReadFile(a)
	rb, _ := os.ReadFile(b)
	if len(ra) == 0 || string(ra) != string(rb) {
		t.Fatalf("results differ: %d and %d bytes", len(ra), len(rb))
	}
}
