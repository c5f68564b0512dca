package workoutput

import "errors"

// Sentinel errors. Errors returned by Store wrap one of them with the value
// that was wrong and what was expected; check them with errors.Is.
var (
	// ErrJobNotFound is returned when a job does not exist (never opened,
	// expired or deleted).
	ErrJobNotFound = errors.New("workoutput: job not found")

	// ErrJobExists is returned when opening a job whose ID is already used.
	ErrJobExists = errors.New("workoutput: job already exists")

	// ErrSealed is returned when adding events to a sealed job.
	ErrSealed = errors.New("workoutput: job is sealed")

	// ErrDuplicateEvent is returned when an event ID is given twice for one
	// job, in one call or across calls.
	ErrDuplicateEvent = errors.New("workoutput: duplicate event ID")

	// ErrTooLarge is returned when an event, an output or a job exceeds a
	// configured size cap.
	ErrTooLarge = errors.New("workoutput: too large")

	// ErrInvalid is returned for malformed input: a job ID that is not a
	// UUID, an empty kind or event ID, a negative duration.
	ErrInvalid = errors.New("workoutput: invalid input")

	// ErrState is returned when a job is not in a state that allows the
	// operation (for example cancelling a job that is already done).
	ErrState = errors.New("workoutput: wrong job state")

	// ErrNotRetained is returned when replaying a job whose outputs are no
	// longer kept (its retention has passed, or was 0).
	ErrNotRetained = errors.New("workoutput: outputs not retained")

	// ErrNoResult is returned by Result for a job without a committed
	// result.
	ErrNoResult = errors.New("workoutput: no result")

	// ErrNotReplicated is returned when a write was applied on the master
	// but fewer than Config.ReplicaAcks replicas acknowledged it within
	// Config.ReplicaTimeout. Such an error also wraps cache.ErrUnavailable:
	// retry the write, which is idempotent.
	ErrNotReplicated = errors.New("workoutput: write not acknowledged by enough replicas")
)
