package workoutput

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// FailurePolicy says what the coordinator does with a job that has failed
// events.
type FailurePolicy string

// The failure policies.
const (
	// PolicyFail fails the whole job when any event failed (the default).
	PolicyFail FailurePolicy = "fail"
	// PolicyContinue reduces the outputs there are and finishes the job
	// as partial.
	PolicyContinue FailurePolicy = "continue"
)

// Spec describes a job to open.
type Spec struct {
	// ID is the job ID, a UUID in its canonical 36-character form. Empty
	// means generate one.
	ID string
	// Kind names the handler of the job's events. Required.
	Kind string
	// Name is a free label for humans. Optional.
	Name string
	// Deadline is how long the job may take from its creation, at least
	// MinDeadline. Default Config.DefaultDeadline.
	Deadline time.Duration
	// Retention is how long the job's data is kept once finished. Default
	// Config.DefaultRetention; NoRetention deletes the job's data as soon as
	// its result is committed (its meta and result stay as a tombstone for
	// Config.Tombstone).
	Retention time.Duration
	// ChunkSize records how many events travel per task. Informational.
	ChunkSize int
	// MaxRetry is how often a failing event is retried; recorded in meta,
	// applied by the producer to the job's tasks. 0 means the producer's
	// default (jobs.ProducerConfig.MaxRetry); NoRetry, none: the first
	// failed attempt of an event is final (recorded as 0, by Store.Open as
	// by jobs.Producer).
	MaxRetry int
	// FailurePolicy is applied by the coordinator. Default PolicyFail.
	FailurePolicy FailurePolicy
	// EventTimeout bounds the handling of one event of the job: a handler
	// still running past it fails the attempt, with the reason "timed out
	// after EventTimeout", and the event is retried. 0 leaves it to the
	// worker (jobs.MuxConfig.EventTimeout).
	EventTimeout time.Duration
}

// NoRetention is the Spec.Retention of a job whose data (outputs,
// failures, events) is deleted as soon as the coordinator has committed it;
// its meta and result stay as a tombstone for Config.Tombstone, then live
// only in the coordinator's sinks. Status.Retention reports it as 0.
const NoRetention time.Duration = -1

// NoRetry is the Spec.MaxRetry of a job whose events are not retried: the
// first failed attempt of an event is final, as with asynq.MaxRetry(0).
// Store.Open and jobs.Producer record it as a MaxRetry of 0
// (Status.MaxRetry); Store.Open takes no other negative value.
const NoRetry = -1

// Batch is a set of events to register with a job.
type Batch struct {
	// IDs are caller-given event IDs, unique within the job.
	IDs []string
	// Generated is the number of events whose IDs the store generates
	// (GeneratedID of consecutive sequence numbers).
	Generated int
	// Key, when set, makes Store.Add idempotent: a retry with the same Key
	// registers nothing more and gets the first call's answer. Unique per
	// call (a UUID, say); at most 512 bytes. Open ignores it.
	Key string
}

// Len is the number of events of b.
func (b Batch) Len() int { return len(b.IDs) + b.Generated }

// Job is the result of opening a job.
type Job struct {
	// ID is the job ID.
	ID string
	// Created is the creation time.
	Created time.Time
	// Deadline is the time by which the job should be complete.
	Deadline time.Time
	// Completed reports that the job was created complete (sealed with 0
	// events): the caller hands it to the coordinator.
	Completed bool
}

// Output is the output of one event.
type Output struct {
	// EventID identifies the event.
	EventID string
	// Value is the encoded output (JSON for typed handlers). A Value that
	// Gather hands over is the caller's to keep or modify: it shares memory
	// with no other value.
	Value []byte
}

// Failure records why an event failed for good.
type Failure struct {
	// EventID identifies the event.
	EventID string `json:"-"`
	// Reason is the error text.
	Reason string `json:"reason"`
	// Attempts is how often the event was tried.
	Attempts int `json:"attempts"`
	// Time is when the failure was recorded.
	Time time.Time `json:"at"`
	// Payload is the event's payload, given to Store.Write with a failure
	// so that Store.Retry can put the event back to work: it is kept (at
	// most Config.MaxEventSize bytes; a larger one is not kept) until the
	// event has an output or the job's data expires. Not read back by
	// Failures.
	Payload []byte `json:"-"`
}

// Record is what Store.Write records: the outcomes of a chunk of events.
type Record struct {
	// Outputs are the events that succeeded.
	Outputs []Output
	// Failures are the events that failed for good.
	Failures []Failure
	// ID identifies the write: the retries of one write carry the same ID
	// (the worker uses a UUID per delivery of a chunk), so a retry after a
	// lost reply gets the first call's answer, and a second delivery of the
	// same events does not report completing the job again. At most 512
	// bytes. Empty: an ID is derived from the event IDs, so any two writes
	// of the same events count as one.
	ID string
}

// WriteResult is the outcome of Store.Write.
type WriteResult struct {
	// Completed reports that this write completed the job: exactly one
	// write (or seal) of a job reports it; the caller then hands the job to
	// the coordinator.
	Completed bool
	// Skipped reports that the job is neither open, running nor complete
	// (cancelled or already collected) and nothing was written.
	Skipped bool
}

// Status is a snapshot of a job.
type Status struct {
	// ID is the job ID.
	ID string
	// Kind and Name are those of the Spec.
	Kind, Name string
	// State is the job's state.
	State State
	// Sealed reports whether the job is sealed (its total is final).
	Sealed bool
	// Total is the number of events added so far (final once sealed).
	Total int64
	// Done is the number of events with an output.
	Done int64
	// Failed is the number of events recorded as failed.
	Failed int64
	// Pending is Total - Done - Failed.
	Pending int64
	// Created, Deadline and Completed (zero until complete) are times of
	// the job.
	Created, Deadline, Completed time.Time
	// Retention is how long the job's data is kept once finished.
	Retention time.Duration
	// ChunkSize, MaxRetry and FailurePolicy are those of the Spec.
	ChunkSize, MaxRetry int
	// FailurePolicy is applied by the coordinator.
	FailurePolicy FailurePolicy
	// EventTimeout is the Spec's (0: the worker's).
	EventTimeout time.Duration
	// Token is the fencing token of the coordinator's last claim (0 before
	// any).
	Token int64
	// Claimed is when the coordinator last claimed the job (zero before).
	Claimed time.Time
	// Finished is when the job was committed or cancelled (zero before).
	Finished time.Time
	// Error says why a failed or partial job ended so (failed or missing
	// events, a job never sealed, a reducer error, no reducer), as recorded
	// by the coordinator.
	Error string
	// Stalled says why the job's events are not being processed (see
	// Store.Stall); empty when nothing is known to hold them up.
	Stalled string
	// Retained reports that a finished job's data (outputs, failures,
	// result) is kept, so that it can be replayed; false before the job is
	// finished and for a job finished with NoRetention.
	Retained bool
	// RetainedFor is how long a finished job's data is kept after
	// Finished: the retention its commit or cancel applied, which for a
	// failed job without a retention of its own is the FailedRetention of
	// the Store that committed it. 0 when the data was deleted at once,
	// before the job is finished, and for a job finished by a version of
	// fanin that did not record it (Retained then tells whether its data is
	// kept).
	RetainedFor time.Duration
	// Retrying is the number of events whose last attempt failed and that
	// will be retried (Store.Note): neither output nor failure yet. 0 once
	// the job no longer accepts events (collecting, committed, cancelled):
	// their notes stay for Store.Attempts, but no retry comes.
	Retrying int64
	// LastError is the last failed attempt recorded by Store.Note:
	// EventID, Reason, Attempts and Time; zero when none, and zero for a
	// committed job (done, partial, failed), whose attempts are over:
	// Store.SetFinalLastError gives it its latest failure for good.
	LastError Failure
	// Retried is how often Store.Retry put the job's failed events back to
	// work.
	Retried int
	// Kept is the number of events whose payload is kept for a retry
	// (those that failed for good with Failure.Payload, until they get an
	// output): a failed or partial job can be retried when every one of its
	// failed and missing events has one.
	Kept int64
}

// CanRetry reports whether Store.Retry would put st's job back to work: it
// is failed or partial, sealed, its data kept, and every one of its failed
// and missing events has a kept payload.
func (st Status) CanRetry() bool {
	todo := st.Failed + st.Pending
	return (st.State == StateFailed || st.State == StatePartial) && st.Sealed && st.Retained && todo > 0 && st.Kept >= todo
}

// SweepResult lists the jobs a sweep took from the index because they were
// due. Each is now leased to the caller: the index will offer it again only
// once the sweep's lease has passed, unless a collection finishes it first.
type SweepResult struct {
	// Complete are jobs complete but not collected: their hand-off to a
	// coordinator was lost or failed.
	Complete []string
	// Overdue are open or running jobs past their deadline: the
	// coordinator collects them with what they have.
	Overdue []string
	// Collecting are jobs a coordinator has claimed and not committed: the
	// coordinator takes over those whose lock has expired (its holder
	// crashed or stalled).
	Collecting []string
	// Removed is how many index entries were dropped (finished jobs, and
	// jobs that no longer exist).
	Removed int
	// Gone are the jobs among them that had no data when due: never
	// created (a producer that died while opening them), or lost (a
	// failover without Config.ReplicaAcks, a FLUSHALL). Worth a warning.
	Gone []string
}

// generatedPrefix starts every generated event ID; caller-given IDs may not
// start with it.
const generatedPrefix = "#"

// maxEventIDLen caps the length of a caller-given event ID.
const maxEventIDLen = 512

// GeneratedID returns the event ID generated for sequence number seq: "#"
// followed by seq in base 36, short to keep Redis memory low.
func GeneratedID(seq int64) string {
	return generatedPrefix + strconv.FormatInt(seq, 36)
}

// ParseGeneratedID returns the sequence number of a generated event ID
// (GeneratedID), and false for any other ID.
func ParseGeneratedID(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, generatedPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 36, 64)
	if err != nil || n < 0 || GeneratedID(n) != id {
		return 0, false
	}
	return n, true
}

// NewJobID returns a new random job ID.
func NewJobID() string { return uuid.NewString() }

// ValidateJobID returns an error wrapping ErrInvalid unless id is a UUID in
// canonical form.
func ValidateJobID(id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return fmt.Errorf("%w: job ID %q is not a UUID (want the canonical lower-case 36-character form, like %q)",
			ErrInvalid, id, "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")
	}
	return nil
}

// ValidateEventID returns an error wrapping ErrInvalid when id is not a
// valid caller-given event ID: empty, longer than 512 bytes, or starting
// with "#" (reserved for generated IDs).
func ValidateEventID(id string) error { return validateEventID(id) }

// validateEventID checks a caller-given event ID.
func validateEventID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: event ID is empty (want a non-empty ID, or leave IDs out to have them generated)", ErrInvalid)
	case len(id) > maxEventIDLen:
		return fmt.Errorf("%w: event ID %.20q... is %d bytes (want at most %d)", ErrInvalid, id, len(id), maxEventIDLen)
	case id[0] == generatedPrefix[0]:
		return fmt.Errorf("%w: event ID %q starts with %q, which is reserved for generated IDs", ErrInvalid, id, generatedPrefix)
	}
	return nil
}
