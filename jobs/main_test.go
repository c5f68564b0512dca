package jobs

import (
	"os"
	"testing"

	"github.com/fanin-dev/fanin/internal/redistest"
)

func TestMain(m *testing.M) {
	// The multi-process tests re-execute this binary as a coordinator.
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper())
	}
	redistest.Main(m)
}
