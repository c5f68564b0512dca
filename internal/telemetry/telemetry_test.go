package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/internal/telemetry"
)

func TestNewLogger(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l, err := telemetry.NewLogger(&buf, "JSON", "warn")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hidden")
	l.Warn("shown", "job", "j1")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("JSON log %q: %v", buf.String(), err)
	}
	if rec["msg"] != "shown" || rec["job"] != "j1" || rec["level"] != "WARN" {
		t.Fatalf("record = %v", rec)
	}
	buf.Reset()
	l, err = telemetry.NewLogger(&buf, "text", "debug")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("dbg", "k", 1)
	if !strings.Contains(buf.String(), "msg=dbg k=1") {
		t.Fatalf("text log = %q", buf.String())
	}
	for _, tc := range [][2]string{{"xml", "info"}, {"text", "loud"}} {
		if _, err := telemetry.NewLogger(io.Discard, tc[0], tc[1]); !errors.Is(err, telemetry.ErrInvalid) || !strings.Contains(err.Error(), "want") {
			t.Errorf("NewLogger(%q, %q) = %v, want ErrInvalid saying what is wanted", tc[0], tc[1], err)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerExposesMetricsAndHealth(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client := srv.Client(t)
	ac := asynq.NewClientFromRedisClient(client)
	if _, err := ac.Enqueue(asynq.NewTask("test:task", nil), asynq.Queue("q1")); err != nil {
		t.Fatal(err)
	}
	reg := telemetry.NewRegistry()
	reg.MustRegister(telemetry.QueueCollector(asynq.NewInspectorFromRedisClient(client), "q1", "absent"))
	tm := telemetry.NewTaskMetrics(reg)
	h := tm.Middleware(asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return errors.New("boom") }))
	_ = h.ProcessTask(context.Background(), asynq.NewTask("test:task", nil))

	healthy := true
	s, err := telemetry.Listen("127.0.0.1:0", reg, func(ctx context.Context) error {
		if !healthy {
			return errors.New("redis down")
		}
		return client.Ping(ctx).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	base := "http://" + s.Addr()

	code, body := get(t, base+"/metrics")
	for _, want := range []string{
		`fanin_queue_tasks{queue="q1",state="pending"} 1`,
		`fanin_tasks_processed_total{outcome="error",type="test:task"} 1`,
		"go_goroutines",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q:\n%.600s", code, want, body)
		}
	}
	if strings.Contains(body, `queue="absent"`) {
		t.Errorf("/metrics reports a queue that does not exist")
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	healthy = false
	if code, body := get(t, base+"/healthz"); code != 503 || !strings.Contains(body, "redis down") {
		t.Errorf("/healthz when unhealthy = %d %q, want 503 naming the error", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestListenRejectsBadAddress(t *testing.T) {
	t.Parallel()
	_, err := telemetry.Listen("nonsense", telemetry.NewRegistry(), func(context.Context) error { return nil })
	if !errors.Is(err, telemetry.ErrInvalid) {
		t.Fatalf("Listen(nonsense) = %v, want ErrInvalid", err)
	}
}
