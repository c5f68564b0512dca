package telemetry_test

import (
	"os"

	"github.com/fanin-dev/fanin/internal/telemetry"
)

// A JSON logger at info level; debug records are dropped.
func ExampleNewLogger() {
	l, err := telemetry.NewLogger(os.Stdout, "json", "info")
	if err != nil {
		panic(err)
	}
	l = l.With("component", "example")
	l.Debug("dropped")
	l.Info("worker started", "concurrency", 8)
	// The time changes on every run, so the example has no Output line.
}
