package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// env is the environment of the binaries: this process's, without any
// fanin or Redis setting, plus extra.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FANIN_") || strings.HasPrefix(kv, "REDIS_URL=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// result is what a finished binary did.
type result struct {
	stdout, stderr string
	code           int
}

// runBin runs a binary to its end (at most 4 minutes) with the given
// environment: one of the binaries under test, or a program given by its
// absolute path.
func runBin(t *testing.T, environ []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(bin, name)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// mustRun runs a binary that must succeed and returns its stdout.
func mustRun(t *testing.T, environ []string, name string, args ...string) string {
	t.Helper()
	r := runBin(t, environ, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// proc is a binary running in the background.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start starts a binary in the background, its output in a log file; it is
// killed when the test ends.
func start(t *testing.T, environ []string, name string, args ...string) *proc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := redistest.StartProcess(cmd); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logf.Name(), done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("log of %s %v:\n%s", name, args, b)
		}
	})
	return p
}

// signal sends sig to p.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for p to exit (at most 2 minutes) and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not exit", p.cmd.Path)
	}
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatalf("%s: %v", p.cmd.Path, p.err)
	return 0
}

// logText returns p's output so far.
func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// status reads a job's status through coordinator status --json.
func status(t *testing.T, environ []string, job string) progress.JSON {
	t.Helper()
	var st progress.JSON
	out := mustRun(t, environ, "coordinator", "status", job, "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json %q: %v", out, err)
	}
	return st
}

// waitFor polls cond every 2 ms for at most a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
