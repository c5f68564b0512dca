package workoutput

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	cmd, rerr := s.runWrite(ctx, s.scripts.claim, []string{k.meta, k.outputs, k.fence}, token, string(mode))
	from, err := cmd.Text()
	if err = cmp.Or(err, rerr); err != nil {
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
// outputs, failures, events, result, fence, the lock's token counter). It
// returns the number of outputs the job has.
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
	cmd, rerr := s.runWrite(ctx, s.scripts.commit,
		[]string{k.meta, k.outputs, k.failures, k.events, k.result, k.fence, k.token},
		c.Token, string(c.State), has, result, c.Error, c.Retention.Milliseconds())
	n, err := cmd.Int64()
	if err = cmp.Or(err, rerr); err != nil {
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

// Gather streams the outputs of a job the caller has claimed, in no
// particular order, never holding the whole hash (in Redis or here). size
// is the number of outputs (Status.Done). Three read paths, chosen by
// measurement (docs/BENCHMARKS.md):
//
//   - at most Config.SmallHash outputs: one HGETALL, faster than pages and
//     blocking Redis for well under a millisecond;
//   - a job whose event IDs are all generated ("#0", "#1", ...): HMGET of
//     Config.ScanPage IDs at a time, two requests in flight while the
//     caller handles the previous page. HMGET costs Redis about what one
//     HVALS of the whole hash costs, in slices of half a millisecond; HSCAN
//     costs twice that, as it copies every field and value;
//   - otherwise (caller-given IDs) HSCAN pages of Config.ScanPage fields
//     through the cache layer, the next page fetched while the caller
//     handles the current one. (Listing the IDs with SSCAN to HMGET them
//     costs Redis more than HSCAN.)
//
// A claimed job's outputs no longer change, so HSCAN yields each output
// once (Redis repeats a field only when the hash is resized during the
// scan, which only writes do). On the HMGET path, an output written under
// an event ID the job never registered (possible only through Store.Write)
// is still yielded: Gather counts what the HMGETs found and, when that falls
// short of size, scans the hash for the outputs of unregistered IDs. An
// error ends the sequence as its last pair.
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
		m, err := s.client.HMGet(ctx, k.meta, "n", "seq").Result()
		if err != nil {
			yield(Output{}, unavailable("outputs of job "+jobID, err))
			return
		}
		n, _ := m[0].(string)
		seqText, _ := m[1].(string)
		seq, _ := strconv.ParseInt(seqText, 10, 64)
		passes := []fetcher{s.fetchScan(jobID, func(string) bool { return true })}
		workers := []int{1}
		if n == seqText && seq > 0 {
			// All generated: HMGET them, then look for unregistered IDs
			// only if some outputs were not found.
			passes = []fetcher{s.fetchGenerated(jobID, seq), s.fetchScan(jobID, func(id string) bool { return !isGenerated(id, seq) })}
			workers = []int{2, 1}
		}
		var found int64
		for i, fetch := range passes {
			if i > 0 && found >= size {
				return
			}
			for page, err := range prefetch(ctx, workers[i], fetch) {
				if err != nil {
					yield(Output{}, err)
					return
				}
				for _, o := range page {
					found++
					if !yield(o, nil) {
						return
					}
				}
			}
		}
	}
}

// isGenerated reports whether id is the generated ID of a sequence number
// below seq.
func isGenerated(id string, seq int64) bool {
	rest, ok := strings.CutPrefix(id, generatedPrefix)
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(rest, 36, 64)
	return err == nil && n >= 0 && n < seq && GeneratedID(n) == id
}

// fetcher fetches pages of outputs and hands each to emit, which returns
// false when the consumer is gone.
type fetcher func(ctx context.Context, emit func([]Output) bool) error

// fetchGenerated reads the outputs of generated events #0 .. #(seq-1) with
// HMGET of ScanPage IDs; the goroutines calling it share the pages.
func (s *Store) fetchGenerated(jobID string, seq int64) fetcher {
	key := keysOf(s.cfg.Namespace, jobID).outputs
	page := int64(s.cfg.ScanPage)
	var next atomic.Int64
	return func(ctx context.Context, emit func([]Output) bool) error {
		ids := make([]string, 0, page)
		for {
			first := next.Add(page) - page
			if first >= seq {
				return nil
			}
			ids = ids[:0]
			for i := first; i < min(first+page, seq); i++ {
				ids = append(ids, GeneratedID(i))
			}
			vals, err := s.client.HMGet(ctx, key, ids...).Result()
			if err != nil {
				return unavailable("outputs of job "+jobID, err)
			}
			outs := make([]Output, 0, len(vals))
			for i, v := range vals {
				if str, ok := v.(string); ok {
					outs = append(outs, Output{EventID: ids[i], Value: []byte(str)})
				}
			}
			if len(outs) > 0 && !emit(outs) {
				return nil
			}
		}
	}
}

// fetchScan reads the outputs hash with HSCAN pages through the cache layer
// and keeps the outputs whose event ID passes keep.
func (s *Store) fetchScan(jobID string, keep func(eventID string) bool) fetcher {
	return func(ctx context.Context, emit func([]Output) bool) error {
		size := s.cfg.ScanPage
		buf := make([]Output, 0, size)
		for f, err := range s.Outputs(ctx, jobID) {
			if err != nil {
				return err
			}
			if !keep(f.Field) {
				continue
			}
			raw, err := f.Item.Raw(nil)
			if err != nil {
				return fmt.Errorf("workoutput: output of event %q in job %s: %w", f.Field, jobID, err)
			}
			buf = append(buf, Output{EventID: f.Field, Value: raw})
			if len(buf) == size {
				if !emit(buf) {
					return nil
				}
				buf = make([]Output, 0, size)
			}
		}
		if len(buf) > 0 {
			emit(buf)
		}
		return nil
	}
}

// prefetch runs fetch in workers goroutines and yields the pages they emit,
// at most workers pages ahead of the consumer. The goroutines end before
// the sequence does, also when the consumer stops early.
func prefetch(ctx context.Context, workers int, fetch fetcher) iter.Seq2[[]Output, error] {
	type page struct {
		outs []Output
		err  error
	}
	return func(yield func([]Output, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan page, workers)
		var wg sync.WaitGroup
		emit := func(outs []Output) bool {
			select {
			case ch <- page{outs: outs}:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for range workers {
			wg.Go(func() {
				if err := fetch(ctx, emit); err != nil {
					select {
					case ch <- page{err: err}:
					case <-ctx.Done():
					}
				}
			})
		}
		go func() { wg.Wait(); close(ch) }()
		defer func() {
			cancel()
			for range ch { // let the workers end before returning
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
