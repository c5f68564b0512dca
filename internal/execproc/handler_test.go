package execproc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/fanin-dev/fanin/internal/execproc"
	"github.com/fanin-dev/fanin/jobs"
)

// helperCommand runs this test binary as a co-process.
func helperCommand(mode string) string {
	return fmt.Sprintf("EXECPROC_HELPER=%s exec %q", mode, os.Args[0])
}

func TestHandlerRestartsCrashedCoprocess(t *testing.T) {
	t.Parallel()
	h, err := execproc.NewHandler(execproc.Config{Kind: "echo", Command: helperCommand("handle"), Procs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
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

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []execproc.Config{{Kind: "k"}, {Command: "cat"}, {Kind: "k", Command: "cat", Procs: -1}} {
		if _, err := execproc.NewHandler(cfg); !errors.Is(err, execproc.ErrInvalid) {
			t.Errorf("NewHandler(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
	if _, err := execproc.Reducer(" "); !errors.Is(err, execproc.ErrInvalid) {
		t.Errorf("Reducer(blank) = %v, want ErrInvalid", err)
	}
}
