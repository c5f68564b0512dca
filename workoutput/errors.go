package workoutput

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
)

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

	// ErrNotRetriable is returned by Retry for a job whose failed or missing
	// events cannot run again: it was never sealed, it has none, or their
	// payloads are not kept.
	ErrNotRetriable = errors.New("workoutput: events cannot be retried")

	// ErrNoResult is returned by Result for a job without a committed
	// result.
	ErrNoResult = errors.New("workoutput: no result")

	// ErrUnknownEvent is returned by Write for an event ID the job never
	// registered (with Open or Add): nothing of the call is written.
	ErrUnknownEvent = errors.New("workoutput: event not registered with the job")

	// ErrPermission is returned when Redis refuses a command for want of
	// rights (NOAUTH, WRONGPASS, NOPERM): fix the ACL, retrying will not help.
	ErrPermission = errors.New("workoutput: redis refused the command: permission denied")

	// ErrInternal is returned when Redis answers with an error that is
	// neither an outage nor a refusal of this package's own making: a Lua
	// runtime error, WRONGTYPE (another program wrote to fanin's keys), an
	// unexpected reply. It is a bug or foreign data, not an outage: it is
	// not retried.
	ErrInternal = errors.New("workoutput: unexpected redis error")

	// ErrNotReplicated is returned when a write was applied on the master
	// but fewer than Config.ReplicaAcks replicas acknowledged it within
	// Config.ReplicaTimeout. Such an error also wraps cache.ErrUnavailable:
	// retry the write, which is idempotent.
	ErrNotReplicated = errors.New("workoutput: write not acknowledged by enough replicas")
)

// redisErr classifies an error from a Redis call about what. Outages (a
// network error, a timeout, a server loading, busy, read-only after a
// failover, out of memory, or a cluster without a quorum) wrap
// cache.ErrUnavailable: retrying the idempotent call is right. A refusal for
// want of rights wraps ErrPermission; any other error reply wraps
// ErrInternal. The error of the call is always in the chain.
func redisErr(what string, err error) error {
	if errors.Is(err, cache.ErrUnavailable) || errors.Is(err, ErrNotReplicated) {
		return err
	}
	var reply redis.Error
	if errors.As(err, &reply) && !isOutageReply(err.Error()) {
		code := replyCode(err.Error())
		switch {
		case strings.HasPrefix(code, "NOAUTH"), strings.HasPrefix(code, "WRONGPASS"), strings.HasPrefix(code, "NOPERM"):
			return fmt.Errorf("%w: %s: %w", ErrPermission, what, err)
		}
		return fmt.Errorf("%w: %s: %w", ErrInternal, what, err)
	}
	return unavailable(what, err)
}

// txErr returns the error of a MULTI/EXEC pipeline whose commands were
// cmds: for EXECABORT (Redis refused a command as it was queued, and so
// the whole transaction), the refused command's own error, which names the
// cause (NOPERM, OOM, READONLY), instead of the abort's.
func txErr(cmds []redis.Cmder, err error) error {
	if err == nil || !redis.HasErrorPrefix(err, "EXECABORT") {
		return err
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && !redis.HasErrorPrefix(e, "EXECABORT") {
			return e
		}
	}
	return err
}

// isOutageReply reports whether a Redis error reply says the server cannot
// serve the command for now.
func isOutageReply(msg string) bool {
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY",
		"NOREPLICAS", "MOVED", "ASK", "OOM", "ERR max number of clients"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// replyCode returns the error reply of a script without the suffix Redis 7
// appends to errors raised with error() (" script: <sha>, on
// @user_script:<line>.") and without a leading "ERR ".
func replyCode(msg string) string {
	msg = strings.TrimPrefix(msg, "ERR ")
	if i := strings.Index(msg, " script: "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
