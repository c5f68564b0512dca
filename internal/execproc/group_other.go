//go:build !unix

package execproc

import (
	"os"
	"os/exec"
)

// inGroup does nothing where process groups are not available.
func inGroup(*exec.Cmd) {}

// killGroup kills the process pid only, where process groups are not
// available.
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	_ = p.Kill()
	return nil
}

// killLeftovers does nothing where process groups are not available: the
// leader has been waited for, and its PID may already name another process.
func killLeftovers(int) {}
