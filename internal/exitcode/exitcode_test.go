package exitcode_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/outfile"
	"github.com/fanin-dev/fanin/internal/redisurl"
)

func TestOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, exitcode.OK},
		{errors.New("x"), exitcode.Failure},
		{exitcode.With(exitcode.JobFailed, errors.New("job failed")), exitcode.JobFailed},
		{fmt.Errorf("wrapped: %w", exitcode.With(exitcode.NotReady, errors.New("later"))), exitcode.NotReady},
		{fmt.Errorf("status: %w", cache.ErrUnavailable), exitcode.Unreachable},
		{fmt.Errorf("%w: refused", redisurl.ErrUnreachable), exitcode.Unreachable},
		{fmt.Errorf("%w: bad port", redisurl.ErrInvalid), exitcode.Usage},
		{fmt.Errorf("--out: %w: is a directory", outfile.ErrUnusable), exitcode.Usage},
		{fmt.Errorf("write x: %w", errors.New("no space left on device")), exitcode.Failure},
		// A syscall.Errno implements net.Error: it is not a network
		// failure for that.
		{fmt.Errorf("write x: %w", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), exitcode.Failure},
		{syscall.EACCES, exitcode.Failure},
		{syscall.EAGAIN, exitcode.Failure}, // its Timeout() is true
		{fmt.Errorf("--out: %w: %w", outfile.ErrUnusable, &fs.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}), exitcode.Usage},
		{&net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, exitcode.Unreachable},
		{fmt.Errorf("lookup: %w", &net.DNSError{Err: "no such host", Name: "redis.invalid", IsNotFound: true}), exitcode.Unreachable},
	} {
		if got := exitcode.Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	// Errors of real system calls.
	dir := t.TempDir()
	_, err := os.Create(filepath.Join(dir, "nodir", "x.json"))
	var errno syscall.Errno
	if !errors.As(err, &errno) || exitcode.Of(err) != exitcode.Failure {
		t.Errorf("Of(%v) = %d, want %d (a syscall.Errno is no network failure)", err, exitcode.Of(err), exitcode.Failure)
	}
	if err := outfile.Write(filepath.Join(dir, "nodir", "x.json"), []byte("x")); exitcode.Of(err) != exitcode.Usage {
		t.Errorf("Of(%v) = %d, want %d", err, exitcode.Of(err), exitcode.Usage)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if _, err := net.Dial("tcp", addr); exitcode.Of(err) != exitcode.Unreachable {
		t.Errorf("Of(%v) = %d, want %d", err, exitcode.Of(err), exitcode.Unreachable)
	}
	if exitcode.With(exitcode.Usage, nil) != nil {
		t.Error("With(code, nil) is not nil")
	}
}
