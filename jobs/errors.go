package jobs

import "errors"

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
)

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
