package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bin is the directory holding the binaries under test, built once by
// TestMain.
var bin string

// TestMain builds the worker, coordinator and zombies binaries once, runs
// the tests, and removes the binaries. The tests use only dedicated
// redis-server processes (redistest.StartServer), which stop with their
// test, so redistest.Main's shared-server teardown is not needed here.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fanin-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		for name, pkg := range map[string]string{
			"worker":      "../cmd/worker",
			"coordinator": "../cmd/coordinator",
			"zombies":     "../examples/zombies",
		} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
				return 1
			}
		}
		bin = dir
		return m.Run()
	}()
	os.Exit(code)
}
