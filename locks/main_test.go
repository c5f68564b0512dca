package locks

import (
	"os"
	"testing"

	"github.com/fanin-dev/fanin/internal/redistest"
)

func TestMain(m *testing.M) {
	// The multi-process tests re-execute this binary as a lock client.
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	redistest.Main(m)
}
