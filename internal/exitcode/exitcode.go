package exitcode

import (
	"errors"
	"net"
	"syscall"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/outfile"
	"github.com/fanin-dev/fanin/internal/redisurl"
	"github.com/fanin-dev/fanin/internal/telemetry"
)

// The exit codes.
const (
	// OK is success.
	OK = 0
	// Failure is any error without a more precise code.
	Failure = 1
	// Usage is a bad flag, argument or input file.
	Usage = 2
	// JobFailed is a job that failed, ended partial or was cancelled.
	JobFailed = 3
	// Unreachable is a Redis that does not answer.
	Unreachable = 4
	// NotReady is a job without a result yet, or a timeout that passed.
	NotReady = 5
)

// Error is an error that carries its exit code.
type Error struct {
	// Code is the exit code.
	Code int
	// Err is the error.
	Err error
}

// Error returns the error's text.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the error.
func (e *Error) Unwrap() error { return e.Err }

// With returns err carrying code (nil when err is nil).
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Of returns the exit code for err: the code it carries; Usage for invalid
// settings or an unusable output path; Unreachable for an unreachable or
// unavailable Redis (redisurl.ErrUnreachable, cache.ErrUnavailable) or a
// network failure (a *net.OpError, a *net.DNSError, a network timeout);
// Failure otherwise; OK for nil. A bare system error (a syscall.Errno
// such as ENOSPC or EACCES, which implements net.Error) is not a network
// failure.
func Of(err error) int {
	var e *Error
	switch {
	case err == nil:
		return OK
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, redisurl.ErrInvalid), errors.Is(err, telemetry.ErrInvalid), errors.Is(err, outfile.ErrUnusable):
		return Usage
	case errors.Is(err, redisurl.ErrUnreachable), errors.Is(err, cache.ErrUnavailable), network(err):
		return Unreachable
	}
	return Failure
}

// network reports a failure of the network: a *net.OpError (a refused or
// reset connection), a *net.DNSError, or a net.Error that timed out and
// is not a bare syscall.Errno.
func network(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &op) || errors.As(err, &dns) {
		return true
	}
	var ne net.Error
	var errno syscall.Errno
	return errors.As(err, &ne) && ne.Timeout() && !errors.As(err, &errno)
}
