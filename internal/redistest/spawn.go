package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// The parent-death signal of a child process fires when the OS thread that
// started it exits, not the process. All children are therefore started from
// one goroutine locked to its own thread for the life of the test binary, so
// the signal fires exactly when the binary dies, whatever way it dies.
var (
	spawnOnce     sync.Once
	spawnRequests chan spawnRequest
)

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// startChild starts cmd so that the kernel kills it with SIGKILL when this
// test binary exits.
func startChild(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnRequests = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the binary
			for req := range spawnRequests {
				req.done <- req.cmd.Start()
			}
		}()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	req := spawnRequest{cmd: cmd, done: make(chan error, 1)}
	spawnRequests <- req
	return <-req.done
}

// StartProcess starts cmd (cmd.Start) tied to the test binary: the kernel
// kills it with SIGKILL when the binary exits, even on a panic or a
// timeout. Tests that run child processes (the binaries, a helper mode of
// the test binary, a Sentinel) start them with it; killing and waiting for
// them at the end of the test stays theirs to do.
func StartProcess(cmd *exec.Cmd) error { return startChild(cmd) }
