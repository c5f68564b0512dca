package jobs

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"time"

	json "github.com/goccy/go-json"

	"github.com/fanin-dev/fanin/workoutput"
)

// Reducer turns the outputs of one job into its result. The coordinator
// calls Reduce once per collection attempt, under the job's lock, and
// commits what it returns; an error is retried (CoordinatorConfig.
// ReduceAttempts) and then fails the job, keeping its outputs so that
// Coordinator.Replay can recover it.
//
// Reduce should honour ctx: it is cancelled, with cause locks.ErrLost, when
// the coordinator loses the job's lock (another coordinator takes over).
// Reduce may run more than once for a job (a retry, a takeover, a replay);
// only one result is committed. A nil or empty result is committed as an
// empty result, which Store.Result returns as such.
type Reducer interface {
	Reduce(ctx context.Context, job JobInfo, in *Input) ([]byte, error)
}

// ReducerFunc adapts a function to Reducer.
type ReducerFunc func(ctx context.Context, job JobInfo, in *Input) ([]byte, error)

// Reduce calls f.
func (f ReducerFunc) Reduce(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
	return f(ctx, job, in)
}

// JobInfo describes the job a Reducer reduces.
type JobInfo struct {
	// ID, Kind and Name are those of the job.
	ID, Kind, Name string
	// Sealed reports whether the producer sealed the job. A job collected
	// past its deadline without being sealed may have had more events to
	// come: it is failed under PolicyFail, and reduced as partial under
	// PolicyContinue.
	Sealed bool
	// Total is the number of events of the job (the number added so far
	// when it was never sealed).
	Total int64
	// Outputs is the number of events with an output.
	Outputs int64
	// Failed is the number of events recorded as failed.
	Failed int64
	// Missing is the number of events with neither output nor failure:
	// non-zero only for a job collected past its deadline.
	Missing int64
	// Created, Deadline and Completed (zero for a job collected past its
	// deadline) are times of the job.
	Created, Deadline, Completed time.Time
	// Policy is the job's failure policy.
	Policy workoutput.FailurePolicy
	// Token is the fencing token of this collection.
	Token int64
	// Replay reports a replay of a job collected before.
	Replay bool
	// Attempt counts the calls of Reduce in this collection, from 1.
	Attempt int
}

// Partial reports whether the job is not whole: some events have no output,
// or it was never sealed.
func (j JobInfo) Partial() bool { return j.Failed > 0 || j.Missing > 0 || !j.Sealed }

// Input gives a Reducer the job's outputs, failures and missing events as
// iterators that read Redis page by page: a reducer that folds as it goes
// runs in constant memory whatever the size of the job. Each call of a
// method starts a new read.
type Input struct {
	ctx           context.Context
	store         *workoutput.Store
	jobID         string
	outputs       int64
	failed        int64
	missing       int64
	maxResultSize int

	mu      sync.Mutex
	outaged error // the first outage an iterator ended with
	readErr error // the first error of any kind an iterator ended with
}

// Outputs yields every output of the job, raw (event ID and the bytes the
// handler returned; JSON for typed handlers), in no particular order. An
// error ends the sequence as its last pair.
func (in *Input) Outputs() iter.Seq2[workoutput.Output, error] {
	return watchOutage(in, in.store.Gather(in.ctx, in.jobID, in.outputs))
}

// Failures yields the job's failed events (reason, attempts, time).
func (in *Input) Failures() iter.Seq2[workoutput.Failure, error] {
	if in.failed == 0 {
		return func(func(workoutput.Failure, error) bool) {}
	}
	return watchOutage(in, in.store.Failures(in.ctx, in.jobID))
}

// Missing yields the IDs of the events with neither an output nor a
// failure: the events a job collected past its deadline never finished.
func (in *Input) Missing() iter.Seq2[string, error] {
	if in.missing == 0 {
		return func(func(string, error) bool) {}
	}
	return watchOutage(in, in.store.Missing(in.ctx, in.jobID))
}

// watchOutage passes seq through and records on in the first error it
// ends with, and the first that says Redis was unavailable: the coordinator
// then retries the reducer (as an outage, or as a failed attempt), whatever
// the reducer made of the error. A result built on a read that failed is
// never committed.
func watchOutage[T any](in *Input, seq iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for v, err := range seq {
			if err != nil {
				in.readFailed(err)
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// readFailed records on in that a read of its inputs ended with err.
func (in *Input) readFailed(err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.readErr = cmp.Or(in.readErr, err)
	if isOutage(err) {
		in.outaged = cmp.Or(in.outaged, err)
	}
}

// outage returns the first outage an iterator of in ended with, or nil.
func (in *Input) outage() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.outaged
}

// readError returns the first error an iterator of in ended with.
func (in *Input) readError() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.readErr
}

// MaxResultSize is the largest result the coordinator commits
// (CoordinatorConfig.MaxResultSize); a reducer that builds a result as it
// goes can stop early with an error wrapping ErrResultTooLarge.
func (in *Input) MaxResultSize() int { return in.maxResultSize }

// TypedOutput is one output decoded by Outputs.
type TypedOutput[T any] struct {
	// EventID identifies the event.
	EventID string
	// Value is the decoded output.
	Value T
}

// Outputs yields the job's outputs decoded from JSON into T (the outputs of
// handlers registered with Handle are JSON), in no particular order. An
// output that does not decode ends the sequence with an error naming the
// event. With more than one CPU (GOMAXPROCS) and a large job, the outputs
// are decoded on up to maxDecoders CPUs while the caller handles them, a
// few batches of 256 outputs or 256 KiB ahead (see decodeOutputs): a T
// with its own UnmarshalJSON must then allow calls on several goroutines
// at once (each on its own value).
func Outputs[T any](in *Input) iter.Seq2[TypedOutput[T], error] {
	if workers := min(runtime.GOMAXPROCS(0), maxDecoders); workers > 1 && in.outputs >= 2*decodeBatch {
		return decodeOutputs[T](in, workers)
	}
	return func(yield func(TypedOutput[T], error) bool) {
		for o, err := range in.Outputs() {
			if err != nil {
				yield(TypedOutput[T]{}, err)
				return
			}
			v, err := decodeOutput[T](o)
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// JSONLines returns a Reducer whose result has one line per output:
// {"id":"<event ID>","output":<output>}, the output as is when it is JSON,
// as a JSON string otherwise. Lines come in no particular order. The result
// is built in memory and committed to Redis, so it is capped by
// CoordinatorConfig.MaxResultSize: a larger job fails with
// ErrResultTooLarge (use a Fold, or a reducer that writes elsewhere).
func JSONLines() Reducer {
	return ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		var buf bytes.Buffer
		for o, err := range in.Outputs() {
			if err != nil {
				return nil, err
			}
			line := struct {
				ID     string          `json:"id"`
				Output json.RawMessage `json:"output"`
			}{ID: o.EventID, Output: o.Value}
			if !json.Valid(o.Value) {
				s, _ := json.Marshal(string(o.Value))
				line.Output = s
			}
			b, err := json.Marshal(line)
			if err != nil {
				return nil, fmt.Errorf("jobs: JSON line of event %q: %w", o.EventID, err)
			}
			if buf.Len()+len(b)+1 > in.MaxResultSize() {
				return nil, fmt.Errorf("%w: JSON lines of job %s exceed %d bytes (CoordinatorConfig.MaxResultSize)", ErrResultTooLarge, job.ID, in.MaxResultSize())
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		return buf.Bytes(), nil
	})
}

// CountResult is the result of Count, as JSON.
type CountResult struct {
	// Outputs, Failed and Missing count the job's events by outcome.
	Outputs int64 `json:"outputs"`
	Failed  int64 `json:"failed"`
	Missing int64 `json:"missing"`
}

// Count returns a Reducer whose result is a CountResult: the number of
// outputs (counted by reading them all), failures and missing events.
func Count() Reducer {
	return ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		var n int64
		for _, err := range in.Outputs() {
			if err != nil {
				return nil, err
			}
			n++
		}
		return json.Marshal(CountResult{Outputs: n, Failed: job.Failed, Missing: job.Missing})
	})
}

// Fold returns a Reducer that decodes each output from JSON into T and folds
// it into an accumulator: init makes a fresh accumulator for every attempt,
// step adds one output, and finish turns the accumulator into the result
// (nil finish encodes it as JSON). It runs in constant memory when Acc
// does.
func Fold[T, Acc any](init func(job JobInfo) Acc, step func(acc Acc, eventID string, v T) (Acc, error), finish func(acc Acc) ([]byte, error)) Reducer {
	return ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		if init == nil || step == nil {
			return nil, fmt.Errorf("%w: Fold needs init and step functions", ErrInvalid)
		}
		acc := init(job)
		for o, err := range Outputs[T](in) {
			if err != nil {
				return nil, err
			}
			if acc, err = step(acc, o.EventID, o.Value); err != nil {
				return nil, err
			}
		}
		if finish == nil {
			return json.Marshal(acc)
		}
		return finish(acc)
	})
}
