package redistest

import (
	"log"
	"testing"
)

// ForExample returns an isolated view of the shared Redis for a runnable
// example, which has no *testing.T, and a function that releases it. Call
// the function before the example returns.
func ForExample() (*Redis, func()) {
	tb := &ExampleTB{}
	return New(tb), tb.Close
}

// ExampleTB is the part of testing.TB the harness uses, for runnable
// examples that start their own servers:
//
//	tb := &redistest.ExampleTB{}
//	defer tb.Close()
//	client := redistest.StartServer(tb, redistest.ServerOptions{}).Client(tb)
//
// Fatalf ends the program; Close runs the cleanups.
type ExampleTB struct {
	testing.TB // not set: only the methods below are called
	cleanups   []func()
}

// Helper does nothing.
func (tb *ExampleTB) Helper() {}

// Cleanup registers f to run at Close.
func (tb *ExampleTB) Cleanup(f func()) { tb.cleanups = append(tb.cleanups, f) }

// Fatalf logs the message and exits.
func (tb *ExampleTB) Fatalf(format string, args ...any) { log.Fatalf("redistest: "+format, args...) }

// Close runs the registered cleanups, last first.
func (tb *ExampleTB) Close() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
	tb.cleanups = nil
}
