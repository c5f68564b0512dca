package httpapi

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyClockStartsAtTheFirstRead: the time a request waits for its
// turn (MaxSubmits) before its body is read does not count against the
// body's rate.
func TestSlowBodyClockStartsAtTheFirstRead(t *testing.T) {
	t.Parallel()
	const stall = 50 * time.Millisecond
	body := newSlowBodyReader(httptest.NewRecorder(), strings.NewReader(strings.Repeat("x", 1000)), stall, 1<<20)
	time.Sleep(3 * stall) // waiting its turn
	if b, err := io.ReadAll(body); err != nil || len(b) != 1000 {
		t.Fatalf("a body read at once after a wait: %d bytes, %v; want all 1000", len(b), err)
	}
}
