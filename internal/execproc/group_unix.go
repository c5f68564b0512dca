//go:build unix

package execproc

import (
	"errors"
	"os/exec"
	"syscall"
)

// inGroup makes cmd the leader of a process group of its own, so that
// killGroup reaches every process it starts (a Python handler under sh -c,
// and whatever that one starts).
func inGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group led by pid with SIGKILL. A group that
// is gone already is not an error.
func killGroup(pid int) error {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// killLeftovers kills what remains of the process group led by pid, whose
// leader has exited and been waited for: processes it started and left
// running. The group's ID stays taken while any of them lives.
func killLeftovers(pid int) { _ = killGroup(pid) }
