package execproc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/execproc"
	"github.com/fanin-dev/fanin/jobs"
)

// helperHandler returns a Handler of cfg, closed when the test ends.
func helperHandler(t *testing.T, cfg execproc.Config) *execproc.Handler {
	t.Helper()
	h, err := execproc.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// helperCommand runs this test binary as a co-process.
func helperCommand(mode string) string {
	return fmt.Sprintf("EXECPROC_HELPER=%s exec %q", mode, os.Args[0])
}

func TestHandlerRestartsCrashedCoprocess(t *testing.T) {
	t.Parallel()
	h := helperHandler(t, execproc.Config{Kind: "echo", Command: helperCommand("handle"), Procs: 1})
	ctx := context.Background()
	pid := func(payload string) int {
		t.Helper()
		out, err := h.Handle(ctx, []byte(payload))
		if err != nil {
			t.Fatalf("Handle(%s): %v", payload, err)
		}
		var v struct {
			Echo json.RawMessage `json:"echo"`
			PID  int             `json:"pid"`
		}
		if err := json.Unmarshal(out, &v); err != nil || string(v.Echo) != payload {
			t.Fatalf("output %s for %s: %v", out, payload, err)
		}
		return v.PID
	}
	first := pid(`{"n":1}`)
	if again := pid(`[2]`); again != first {
		t.Fatalf("second event ran in pid %d, want the same long-lived co-process %d", again, first)
	}
	// A non-JSON payload travels as a JSON string.
	pid(`"plain text"`)
	if _, err := h.Handle(ctx, []byte("crash")); !errors.Is(err, execproc.ErrProtocol) {
		t.Fatalf("Handle(crash) = %v, want ErrProtocol (retried)", err)
	}
	if after := pid(`{"n":3}`); after == first {
		t.Fatalf("after a crash the co-process was not restarted (pid %d)", after)
	}
	if _, err := h.Handle(ctx, []byte("garbage")); !errors.Is(err, execproc.ErrProtocol) {
		t.Fatalf("Handle(garbage) = %v, want ErrProtocol", err)
	}
	if _, err := h.Handle(ctx, []byte(`"bad"`)); !errors.Is(err, jobs.ErrBadInput) {
		t.Fatalf("permanent error = %v, want ErrBadInput", err)
	}
	if _, err := h.Handle(ctx, []byte(`"flaky"`)); err == nil || errors.Is(err, jobs.ErrBadInput) {
		t.Fatalf("retryable error = %v, want a plain error", err)
	}
	pid(`{"n":4}`)
}

// TestAnswerForAnotherEventIsRefused: an answer that names another event
// than its request's is a protocol error and restarts the co-process (a
// handler that wrote one line too many would otherwise shift every later
// answer onto the wrong event); one that names its own event (empty here,
// outside a job: test.TestPythonProducerMatchesEmbeddedDemo runs a handler
// that echoes real ones), or none, is taken.
func TestAnswerForAnotherEventIsRefused(t *testing.T) {
	t.Parallel()
	h := helperHandler(t, execproc.Config{Kind: "k", Command: helperCommand("handle"), Procs: 1})
	ctx := context.Background()
	if out, err := h.Handle(ctx, []byte(`"echo-event"`)); err != nil || string(out) != "2" {
		t.Fatalf("an answer naming its own event: %s, %v; want it taken", out, err)
	}
	_, err := h.Handle(ctx, []byte(`"other-event"`))
	if want := `answered for event "someone-else"`; !errors.Is(err, execproc.ErrProtocol) || !strings.Contains(err.Error(), want) {
		t.Fatalf("an answer naming another event: %v; want ErrProtocol and %q", err, want)
	}
	if out, err := h.Handle(ctx, []byte(`{"n":1}`)); err != nil || !strings.Contains(string(out), `"echo":{"n":1}`) {
		t.Fatalf("after it: %s, %v; want the restarted co-process's answer", out, err)
	}
}

// TestResponseLinesAreBounded: a response line is read up to the largest
// output plus ResponseOverhead and no further; a longer one, or one that
// never ends, is a protocol error (the event is retried) and the
// co-process is restarted, instead of the line being read into memory
// without bound.
func TestResponseLinesAreBounded(t *testing.T) {
	t.Parallel()
	const maxOutput = 10
	h := helperHandler(t, execproc.Config{Kind: "k", Command: helperCommand("handle"), Procs: 1, MaxOutputSize: maxOutput})
	ctx := context.Background()
	limit := maxOutput + execproc.ResponseOverhead
	if out, err := h.Handle(ctx, []byte(fmt.Sprintf(`{"pad":%d}`, limit))); err != nil || len(out) != limit-len(`{"output":}`) {
		t.Fatalf("a line of exactly %d bytes: %d bytes of output, %v; want it read", limit, len(out), err)
	}
	for _, payload := range []string{fmt.Sprintf(`{"pad":%d}`, limit+1), `"endless"`} {
		_, err := h.Handle(ctx, []byte(payload))
		want := fmt.Sprintf("answered a line over %d bytes", limit)
		if !errors.Is(err, execproc.ErrProtocol) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Handle(%s) = %v; want ErrProtocol and %q", payload, err, want)
		}
	}
	if out, err := h.Handle(ctx, []byte(`{"n":1}`)); err != nil || !strings.Contains(string(out), `"echo":{"n":1}`) {
		t.Fatalf("after the long lines: %s, %v; want the restarted co-process's answer", out, err)
	}
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []execproc.Config{{Kind: "k"}, {Command: "cat"}, {Kind: "k", Command: "cat", Procs: -1}, {Kind: "k", Command: "cat", MaxOutputSize: -1}} {
		if _, err := execproc.NewHandler(cfg); !errors.Is(err, execproc.ErrInvalid) {
			t.Errorf("NewHandler(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
	if _, err := execproc.Reducer(" "); !errors.Is(err, execproc.ErrInvalid) {
		t.Errorf("Reducer(blank) = %v, want ErrInvalid", err)
	}
}

// TestTimedOutCoprocessIsKilledWithItsGroup: an event whose context ends
// kills its co-process and everything that one started; the error wraps
// the context's and names the PID, the exit and the last stderr lines. A
// co-process that exits names its exit status the same way.
func TestTimedOutCoprocessIsKilledWithItsGroup(t *testing.T) {
	t.Parallel()
	h := helperHandler(t, execproc.Config{Kind: "k", Command: helperCommand("handle"), Procs: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := h.Handle(ctx, []byte(`"hang"`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Handle(hang) = %v; want it to wrap context.DeadlineExceeded", err)
	}
	m := regexp.MustCompile(`grandchild (\d+)`).FindStringSubmatch(err.Error())
	if m == nil || !strings.Contains(err.Error(), "signal: killed") || !strings.Contains(err.Error(), "last stderr:") {
		t.Fatalf("Handle(hang) = %q; want the exit and the last stderr lines (with the grandchild's PID)", err)
	}
	pid, _ := strconv.Atoi(m[1])
	waitGone(t, pid)
	_, err = h.Handle(context.Background(), []byte(`"crash"`))
	if !errors.Is(err, execproc.ErrProtocol) || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), `"about to crash"`) {
		t.Fatalf("Handle(crash) = %q; want ErrProtocol with the exit status and the last stderr line", err)
	}
}

// waitGone waits until process pid is gone (or a zombie nobody reaps).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs: %s", pid, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
