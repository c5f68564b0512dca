package redistest

import (
	"log"
	"testing"
)

// ForExample returns an isolated view of the shared Redis for a runnable
// example, which has no *testing.T, and a function that releases it. Call
// the function before the example returns.
func ForExample() (*Redis, func()) {
	tb := &exampleTB{}
	return New(tb), tb.cleanup
}

// exampleTB is the part of testing.TB that New and its cleanups use.
type exampleTB struct {
	testing.TB // not set: only the methods below are called
	cleanups   []func()
}

func (tb *exampleTB) Helper()                           {}
func (tb *exampleTB) Cleanup(f func())                  { tb.cleanups = append(tb.cleanups, f) }
func (tb *exampleTB) Fatalf(format string, args ...any) { log.Fatalf("redistest: "+format, args...) }

func (tb *exampleTB) cleanup() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
}
