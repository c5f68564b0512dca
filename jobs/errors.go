package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of package jobs; errors returned wrap them with details.
// Errors about a job's state (not found, sealed, duplicate event, too large)
// are those of package workoutput.
var (
	// ErrInvalid is returned for a bad argument or configuration.
	ErrInvalid = errors.New("jobs: invalid input")

	// ErrBadInput marks an event that can never succeed (its payload does
	// not decode, for example). A handler returns an error wrapping it to
	// fail the event at once, without retry; the failure is recorded.
	ErrBadInput = errors.New("jobs: bad input")

	// ErrUnknownKind is recorded as the failure of events whose kind has no
	// handler.
	ErrUnknownKind = errors.New("jobs: unknown kind")

	// ErrBadChunk is returned for a task payload that is not a chunk of
	// events (the task is archived without retry).
	ErrBadChunk = errors.New("jobs: malformed chunk")

	// ErrEventTimeout is matched by the error of an event whose handler
	// did not return within its timeout (a TimeoutError): a failure of
	// the attempt, retried like any other.
	ErrEventTimeout = errors.New("jobs: event timed out")
)

// TimeoutError is the error of an event whose handler ran past its timeout
// (MuxConfig.EventTimeout, workoutput.Spec.EventTimeout). It reads "timed
// out after <After>", then what the handler said when its context ended
// (an exec co-process: which process was killed, its exit, its last
// stderr lines). It matches ErrEventTimeout.
type TimeoutError struct {
	// After is the timeout that passed.
	After time.Duration
	// Cause is the handler's own error once its context ended (nil when
	// it was abandoned).
	Cause error
	// Abandoned reports a handler that ignored its context for
	// AbandonAfter: its goroutine was left to end on its own.
	Abandoned bool
}

// Error returns "timed out after D" and the details.
func (e *TimeoutError) Error() string {
	msg := "timed out after " + e.After.String()
	switch {
	case e.Abandoned:
		msg += fmt.Sprintf("; the handler ignored its cancelled context for %v and was abandoned", AbandonAfter)
	case e.Cause != nil && !errors.Is(e.Cause, context.DeadlineExceeded):
		msg += " (the handler then failed: " + e.Cause.Error() + ")"
	case e.Cause != nil && e.Cause.Error() != context.DeadlineExceeded.Error():
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Is matches ErrEventTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrEventTimeout }

// Unwrap returns the handler's error.
func (e *TimeoutError) Unwrap() error { return e.Cause }

// Errors of the coordinator.
var (
	// ErrBusy is returned by Coordinator.Collect and Replay when another
	// coordinator holds the job's lock: it is collecting the job now.
	ErrBusy = errors.New("jobs: job is being collected by another coordinator")

	// ErrNoReducer is returned when a job's kind has no reducer; the job
	// is left as it is, for a coordinator that has one.
	ErrNoReducer = errors.New("jobs: no reducer for the job's kind")

	// ErrBadOutput is returned by the typed output iterators when an
	// output does not decode.
	ErrBadOutput = errors.New("jobs: output does not decode")

	// ErrResultTooLarge is returned when a result exceeds
	// CoordinatorConfig.MaxResultSize; the job fails without retrying the
	// reducer.
	ErrResultTooLarge = errors.New("jobs: result too large")

	// ErrSink is returned, joined with the sinks' errors, when a committed
	// result could not be written to a sink. The commit stands; the result
	// is in Redis (Store.Result).
	ErrSink = errors.New("jobs: sink write failed")
)
