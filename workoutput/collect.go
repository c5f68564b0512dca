package workoutput

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/locks"
)

// LockResource returns the locks resource a coordinator locks to collect
// jobID. Lock it with a locks.Provider whose KeyPrefix is the Store's
// namespace (Config.Namespace): the lock, its token counter and its fence
// key then carry the job's hash tag and live in the job's slot, and Claim
// and Commit check the fencing token against the same fence key as
// locks.Fence.
func LockResource(jobID string) string { return lockResource(jobID) }

// NotifyChannel returns the pub/sub channel on which Notify announces
// completed jobs (the message is the job ID).
func (s *Store) NotifyChannel() string { return notifyChannel(s.cfg.Namespace) }

// Notify announces on NotifyChannel that jobID is complete, so a subscribed
// coordinator collects it at once. Delivery is best effort (pub/sub keeps
// nothing): the collect task and the sweeper are the durable hand-off.
func (s *Store) Notify(ctx context.Context, jobID string) error {
	if err := s.client.Publish(ctx, notifyChannel(s.cfg.Namespace), jobID).Err(); err != nil {
		return unavailable("notify completion of job "+jobID, err)
	}
	return nil
}

// ClaimMode says which states Claim accepts.
type ClaimMode string

// The claim modes.
const (
	// ClaimCollect claims a complete job, an open job past its deadline,
	// or a collecting job whose previous holder lost its lock.
	ClaimCollect ClaimMode = "collect"
	// ClaimReplay also claims a done, partial or failed job whose outputs
	// are still retained, to reduce it again.
	ClaimReplay ClaimMode = "replay"
)

// Claim moves a job to collecting under token, the fencing token of the
// caller's lock on LockResource(jobID), and returns the state it was in.
// From then on writes to the job are ignored and only token can Commit. In
// one atomic step it checks the job's state (see ClaimMode) and the token:
// a token older than the highest seen is rejected with an error wrapping
// locks.ErrFenced.
//
// Other errors: ErrJobNotFound, ErrState (naming the state: an open job
// before its deadline, a cancelled or already collected job), ErrNotRetained
// (a replay of a job whose outputs have expired).
func (s *Store) Claim(ctx context.Context, jobID string, token int64, mode ClaimMode) (State, error) {
	if err := ValidateJobID(jobID); err != nil {
		return "", err
	}
	if token < 1 {
		return "", fmt.Errorf("%w: token %d (want a fencing token >= 1 from locks)", ErrInvalid, token)
	}
	if mode != ClaimCollect && mode != ClaimReplay {
		return "", fmt.Errorf("%w: claim mode %q (want %q or %q)", ErrInvalid, mode, ClaimCollect, ClaimReplay)
	}
	k := keysOf(s.cfg.Namespace, jobID)
	from, err := s.scripts.claim.Run(ctx, s.client, []string{k.meta, k.outputs, k.fence}, token, string(mode)).Text()
	if err != nil {
		return "", s.scriptErr(jobID, err)
	}
	return State(from), nil
}

// Commit is the outcome of a collection, written by Store.Commit.
type Commit struct {
	// JobID is the job.
	JobID string
	// Token is the fencing token the job was claimed with.
	Token int64
	// State is the final state: StateDone, StatePartial or StateFailed.
	State State
	// Result is stored under the job's result key; nil stores none (and
	// removes an earlier result).
	Result []byte
	// Error is recorded in the job's meta (Status.Error); "" clears it.
	Error string
	// Retention is how long every key of the job lives after the commit;
	// 0 deletes them all at once, with UNLINK.
	Retention time.Duration
}

// Commit writes a collection's outcome, once, in one atomic step: it checks
// the fencing token (a token older than the highest seen, or other than the
// one that claimed the job, is rejected with an error wrapping
// locks.ErrFenced), writes the result, moves the job from collecting to its
// final state and applies the retention to every key of the job (meta,
// outputs, failures, events, result, fence). It returns the number of
// outputs the job has.
//
// Other errors: ErrJobNotFound, ErrState (the job is not collecting),
// ErrInvalid (a bad Commit).
func (s *Store) Commit(ctx context.Context, c Commit) (int64, error) {
	if err := ValidateJobID(c.JobID); err != nil {
		return 0, err
	}
	switch {
	case c.Token < 1:
		return 0, fmt.Errorf("%w: Commit.Token is %d (want the fencing token of the claim)", ErrInvalid, c.Token)
	case c.State != StateDone && c.State != StatePartial && c.State != StateFailed:
		return 0, fmt.Errorf("%w: Commit.State is %q (want %q, %q or %q)", ErrInvalid, c.State, StateDone, StatePartial, StateFailed)
	case c.Retention < 0:
		return 0, fmt.Errorf("%w: Commit.Retention is %v (want >= 0; 0 deletes the job at once)", ErrInvalid, c.Retention)
	case c.Retention > 0 && c.Retention < time.Millisecond:
		return 0, fmt.Errorf("%w: Commit.Retention is %v (want 0 or at least 1ms)", ErrInvalid, c.Retention)
	}
	k := keysOf(s.cfg.Namespace, c.JobID)
	has, result := "0", []byte{}
	if c.Result != nil {
		has, result = "1", c.Result
	}
	n, err := s.scripts.commit.Run(ctx, s.client,
		[]string{k.meta, k.outputs, k.failures, k.events, k.result, k.fence},
		c.Token, string(c.State), has, result, c.Error, c.Retention.Milliseconds()).Int64()
	if err != nil {
		return 0, s.scriptErr(c.JobID, err)
	}
	return n, nil
}

// Result returns the committed result of a job. A job without a result (not
// collected yet, failed, or expired) returns an error wrapping
// ErrJobNotFound or ErrNoResult.
func (s *Store) Result(ctx context.Context, jobID string) ([]byte, error) {
	if err := ValidateJobID(jobID); err != nil {
		return nil, err
	}
	b, err := s.client.Get(ctx, keysOf(s.cfg.Namespace, jobID).result).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: job %s (not collected, failed, or expired)", ErrNoResult, jobID)
	}
	if err != nil {
		return nil, unavailable("result of job "+jobID, err)
	}
	return b, nil
}

// Gather streams the outputs of a job the caller has claimed. size is the
// number of outputs (Status.Done): a hash of at most Config.SmallHash fields
// is read with one HGETALL, which is faster and blocks Redis for well under
// a millisecond; a larger one is scanned page by page (HSCAN, Config.
// ScanPage fields a page) through the cache layer, so neither Redis nor the
// caller ever holds the whole hash, and the next page is fetched while the
// caller handles the current one.
//
// A claimed job's outputs no longer change, so HSCAN yields each output
// once (Redis may repeat a field of a hash that is resized during the scan;
// only writes resize it). An error ends the sequence as its last pair.
func (s *Store) Gather(ctx context.Context, jobID string, size int64) iter.Seq2[Output, error] {
	return func(yield func(Output, error) bool) {
		if err := ValidateJobID(jobID); err != nil {
			yield(Output{}, err)
			return
		}
		k := keysOf(s.cfg.Namespace, jobID)
		if size <= int64(s.cfg.SmallHash) {
			m, err := s.client.HGetAll(ctx, k.outputs).Result()
			if err != nil {
				yield(Output{}, unavailable("outputs of job "+jobID, err))
				return
			}
			for id, v := range m {
				if !yield(Output{EventID: id, Value: []byte(v)}, nil) {
					return
				}
			}
			return
		}
		for page, err := range s.pages(ctx, jobID) {
			if err != nil {
				yield(Output{}, err)
				return
			}
			for _, o := range page {
				if !yield(o, nil) {
					return
				}
			}
		}
	}
}

// pages reads the outputs of a job page by page in a goroutine, one page
// ahead of the consumer.
func (s *Store) pages(ctx context.Context, jobID string) iter.Seq2[[]Output, error] {
	type page struct {
		outs []Output
		err  error
	}
	return func(yield func([]Output, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan page, 1)
		go func() {
			defer close(ch)
			size := s.cfg.ScanPage
			buf := make([]Output, 0, size)
			send := func(p page) bool {
				select {
				case ch <- p:
					return true
				case <-ctx.Done():
					return false
				}
			}
			for f, err := range s.Outputs(ctx, jobID) {
				if err != nil {
					send(page{err: err})
					return
				}
				raw, err := f.Item.Raw(nil)
				if err != nil {
					send(page{err: fmt.Errorf("workoutput: output of event %q in job %s: %w", f.Field, jobID, err)})
					return
				}
				buf = append(buf, Output{EventID: f.Field, Value: raw})
				if len(buf) == size {
					if !send(page{outs: buf}) {
						return
					}
					buf = make([]Output, 0, size)
				}
			}
			if len(buf) > 0 {
				send(page{outs: buf})
			}
		}()
		defer func() {
			cancel()
			for range ch { // let the reader end before returning
			}
		}()
		for p := range ch {
			if !yield(p.outs, p.err) || p.err != nil {
				return
			}
		}
	}
}

// fencedErr maps a FENCED or OWNER reply of a script to an error wrapping
// locks.ErrFenced.
func fencedErr(jobID, msg string) error {
	if owner, ok := strings.CutPrefix(msg, "OWNER "); ok {
		return fmt.Errorf("%w: job %s was claimed with token %s", locks.ErrFenced, jobID, owner)
	}
	return fmt.Errorf("%w: job %s: a newer coordinator (token %s) has claimed it", locks.ErrFenced, jobID, strings.TrimPrefix(msg, "FENCED "))
}
