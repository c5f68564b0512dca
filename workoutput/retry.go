package workoutput

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Failed attempts and retries of a job's events.
//
// A worker notes each failed attempt of an event that will be retried
// (Note): status shows the first failure of a job at once, and inspect the
// attempts and last error of each event still missing. A worker records an
// event that failed for good with its payload (Failure.Payload), so that
// Retry can put a failed or partial job's failed events back to work
// without the producer: the caller enqueues them again from the kept
// payloads (Retryable, Payloads).

// lastError is the JSON form of meta.lasterr, and of a failed attempt in
// the errors hash: a Failure with its event.
type lastError struct {
	Event    string    `json:"event"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Note records failed attempts of events that will be retried (each
// Failure's EventID, Reason, Attempts so far and Time): Status.Retrying
// counts the events noted and Status.LastError is the last attempt of errs
// that was recorded; an event's note goes when it gets an output or fails
// for good, and with a Retry.
//
// The attempt of an event that already has an output or a failure (another
// delivery finished it, or it failed for good) is not recorded: that event
// is over. Every event ID must be registered with the job, as for Write:
// an ID that is not rejects the whole call with an error wrapping
// ErrUnknownEvent, and nothing is recorded. A job that is not accepting
// events, or does not exist, is left alone (no error).
func (s *Store) Note(ctx context.Context, jobID string, errs []Failure) error {
	if err := ValidateJobID(jobID); err != nil {
		return err
	}
	if len(errs) == 0 {
		return nil
	}
	// The script checks that every ID is registered, as write.lua does:
	// here, the form of each, the largest generated one and the
	// caller-given ones, which the script takes first, counted; the
	// attempts follow in the caller's order (the last one recorded is the
	// job's last error).
	gen := generatedMax{}
	given := make([]any, 0, len(errs))
	pairs := make([]any, 0, 2*len(errs))
	for _, f := range errs {
		if f.EventID == "" {
			return fmt.Errorf("%w: a failed attempt with an empty event ID", ErrInvalid)
		}
		isGiven, err := gen.classify(jobID, f.EventID)
		if err != nil {
			return err
		}
		if isGiven {
			given = append(given, f.EventID)
		}
		b, err := json.Marshal(lastError{Event: f.EventID, Reason: f.Reason, Attempts: f.Attempts, At: f.Time.UTC()})
		if err != nil {
			return fmt.Errorf("%w: encode failed attempt of event %q: %w", ErrInvalid, f.EventID, err)
		}
		pairs = append(pairs, f.EventID, b)
	}
	args := make([]any, 0, 3+len(given)+len(pairs))
	args = append(args, gen.limit, gen.id, len(given))
	args = append(append(args, given...), pairs...)
	k := keysOf(s.cfg.Namespace, jobID)
	cmd, rerr := s.runWrite(ctx, s.scripts.note, []string{k.meta, k.outputs, k.failures, k.events, k.errors}, args...)
	if err := cmp.Or(cmd.Err(), rerr); err != nil {
		return s.scriptErr(jobID, err)
	}
	return nil
}

// Attempts returns the last failed attempt noted (Note) of each of
// eventIDs that has one: for the events still being retried.
func (s *Store) Attempts(ctx context.Context, jobID string, eventIDs []string) (map[string]Failure, error) {
	if err := ValidateJobID(jobID); err != nil {
		return nil, err
	}
	out := map[string]Failure{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	vals, err := s.client.HMGet(ctx, keysOf(s.cfg.Namespace, jobID).errors, eventIDs...).Result()
	if err != nil {
		return nil, redisErr("failed attempts of job "+jobID, err)
	}
	for i, v := range vals {
		text, ok := v.(string)
		if !ok {
			continue
		}
		var f Failure
		if err := json.Unmarshal([]byte(text), &f); err != nil {
			return nil, fmt.Errorf("%w: failed attempt of event %q in job %s does not decode: %w", ErrInternal, eventIDs[i], jobID, err)
		}
		f.EventID = eventIDs[i]
		out[eventIDs[i]] = f
	}
	return out, nil
}

// Retried is what Store.Retry did.
type Retried struct {
	// Events is the number of events put back to work: every event that
	// had no output.
	Events int64
	// Deadline is the job's new deadline: as far from the retry as the
	// first one was from the job's creation.
	Deadline time.Time
	// Again reports a repeated call (same key): nothing changed, the first
	// call's answer is returned.
	Again bool
}

// Retry puts the failed and missing events of a failed or partial job back
// to work, keeping its outputs (the retry transition: the job runs again,
// and is collected and committed again, under a new fencing token, once
// every event has an output or a failure). Their failures and notes are
// dropped, so each event starts over with a fresh count of attempts, and
// the old result goes. The job gets a new deadline, as far from now as its
// first one was from its creation, and is indexed due then (plus
// Config.SweepDelay) before it moves; every key of the job gets the safety
// TTL again (the new deadline + the job's retention + Config.SafetyMargin).
//
// The caller then enqueues the events again from their kept payloads
// (Retryable, Payloads; jobs.Producer.Retry does it all). Each must have
// its payload kept: recorded with its failure by a worker (Failure.Payload).
// An event that never ran (missing at the deadline) has none, unless a
// retry that was interrupted before enqueuing it left it so.
//
// key identifies the call: a repeated call with the same key (a lost reply)
// changes nothing and gets the first answer, with Again set. The job
// remembers the key of every retry applied (for as long as its meta hash
// lives), so a call repeated after later retries of the job is still
// answered so: the events it put back and the deadline it set.
//
// Errors: ErrJobNotFound, ErrState (the job is not failed or partial),
// ErrNotRetained (its data is gone), ErrNotRetriable (never sealed, no
// failed or missing event, or some without a kept payload; nothing
// changes). With Config.ReplicaAcks, an error wrapping ErrNotReplicated
// comes with the master's answer: the retry is applied (or was, for an
// answer with Again), not yet on enough replicas.
func (s *Store) Retry(ctx context.Context, jobID, key string) (Retried, error) {
	if err := ValidateJobID(jobID); err != nil {
		return Retried{}, err
	}
	if key == "" || len(key) > maxEventIDLen {
		return Retried{}, fmt.Errorf("%w: retry key of %d bytes (want 1 to %d, unique per call)", ErrInvalid, len(key), maxEventIDLen)
	}
	keys := keysOf(s.cfg.Namespace, jobID).all()
	check, err := s.retryScript(ctx, jobID, keys, "check", key, 0)
	switch {
	case check.Again: // applied before (err: not yet replicated, maybe)
		return check.Retried, err
	case errors.Is(err, ErrNotReplicated): // the check writes nothing: go on
	case err != nil:
		return Retried{}, err
	}
	now := s.now()
	deadline := now.Add(check.allowance).Truncate(time.Millisecond)
	// Indexed before it runs again, due at its new deadline; an entry that
	// is due sooner (a stale one) stays, and a sweep puts the job back.
	if err := s.index(ctx, jobID, redis.ZAddArgs{LT: true, Members: []redis.Z{{Score: float64(deadline.Add(s.cfg.SweepDelay).UnixMilli()), Member: jobID}}}); err != nil {
		return Retried{}, err
	}
	done, err := s.retryScript(ctx, jobID, keys, "apply", key, deadline.UnixMilli())
	return done.Retried, err
}

// retried is retry.lua's answer.
type retried struct {
	Retried
	allowance time.Duration // the job's first deadline - its creation
}

// retryScript runs retry.lua in mode. Its answer is the master's also
// with an error wrapping ErrNotReplicated (applied on the master, not yet
// on enough replicas), as Write's is.
func (s *Store) retryScript(ctx context.Context, jobID string, keys []string, mode, key string, deadline int64) (retried, error) {
	cmd, rerr := s.runWrite(ctx, s.scripts.retry, keys, mode, key, deadline, s.cfg.SafetyMargin.Milliseconds())
	res, err := cmd.Slice()
	if err != nil {
		return retried{}, s.scriptErr(jobID, cmp.Or(rerr, err))
	}
	if len(res) != 4 {
		return retried{}, fmt.Errorf("%w: retry script returned %d values, want 4", ErrInternal, len(res))
	}
	text := func(v any) string { t, _ := v.(string); return t }
	n, _ := res[1].(int64)
	allowance, _ := strconv.ParseInt(text(res[2]), 10, 64)
	return retried{Retried: Retried{Events: n, Deadline: unixMilli(text(res[3])), Again: text(res[0]) == "again"},
		allowance: time.Duration(allowance) * time.Millisecond}, rerr
}

// Retryable yields the IDs of the job's events that have a kept payload
// and neither an output nor a failure: after Retry, the events to enqueue
// again. An error ends the sequence as its last pair.
func (s *Store) Retryable(ctx context.Context, jobID string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := ValidateJobID(jobID); err != nil {
			yield("", err)
			return
		}
		k := keysOf(s.cfg.Namespace, jobID)
		var cursor uint64
		for {
			fields, next, err := s.client.HScan(ctx, k.payloads, cursor, "", int64(s.cfg.ScanPage)).Result()
			if err != nil {
				yield("", redisErr("payloads of job "+jobID, err))
				return
			}
			ids := make([]string, 0, len(fields)/2)
			for i := 0; i < len(fields); i += 2 {
				ids = append(ids, fields[i])
			}
			if !s.yieldMissing(ctx, k, "payloads of job "+jobID, ids, yield) {
				return
			}
			if cursor = next; cursor == 0 {
				return
			}
		}
	}
}

// Payloads returns the kept payloads of eventIDs (Failure.Payload), in
// order; an event whose payload is not kept is an error wrapping
// ErrNotRetriable.
func (s *Store) Payloads(ctx context.Context, jobID string, eventIDs []string) ([][]byte, error) {
	if err := ValidateJobID(jobID); err != nil {
		return nil, err
	}
	if len(eventIDs) == 0 {
		return nil, nil
	}
	vals, err := s.client.HMGet(ctx, keysOf(s.cfg.Namespace, jobID).payloads, eventIDs...).Result()
	if err != nil {
		return nil, redisErr("payloads of job "+jobID, err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		text, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: the payload of event %q of job %s is not kept", ErrNotRetriable, eventIDs[i], jobID)
		}
		out[i] = []byte(text)
	}
	return out, nil
}
