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
	"unsafe"

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

// DefaultClaimLease is the Lease of a Claim that gives none.
const DefaultClaimLease = 30 * time.Second

// Claim asks Store.Claim for a job.
type Claim struct {
	// JobID is the job.
	JobID string
	// Token is the fencing token of the caller's lock on
	// LockResource(JobID).
	Token int64
	// Mode says which states the claim accepts. Default ClaimCollect.
	Mode ClaimMode
	// Lease is how long the caller may take to commit before a sweep
	// offers the job for a takeover: the TTL of the caller's lock. Default
	// DefaultClaimLease (30 s).
	Lease time.Duration
}

// Claim moves a job to collecting under c.Token and returns the state it was
// in. From then on writes to the job are ignored and only c.Token can
// Commit. In one atomic step it checks the job's state (see ClaimMode) and
// the token: a token older than the highest seen is rejected with an error
// wrapping locks.ErrFenced. A retry by the same token gets the same answer.
//
// Before claiming, Claim indexes the job at the end of c.Lease, so that a
// claim whose coordinator dies is taken over by a sweep (a replay of a job
// the index had dropped included).
//
// Other errors: ErrJobNotFound, ErrState (naming the state: an open or
// running job before its deadline, a cancelled or already collected job),
// ErrNotRetained (a replay of a job whose data is gone).
func (s *Store) Claim(ctx context.Context, c Claim) (State, error) {
	if err := ValidateJobID(c.JobID); err != nil {
		return "", err
	}
	if c.Token < 1 {
		return "", fmt.Errorf("%w: Claim.Token is %d (want a fencing token >= 1 from locks)", ErrInvalid, c.Token)
	}
	c.Mode = cmp.Or(c.Mode, ClaimCollect)
	if c.Mode != ClaimCollect && c.Mode != ClaimReplay {
		return "", fmt.Errorf("%w: Claim.Mode is %q (want %q or %q)", ErrInvalid, c.Mode, ClaimCollect, ClaimReplay)
	}
	if c.Lease < 0 || (c.Lease > 0 && c.Lease < time.Millisecond) {
		return "", fmt.Errorf("%w: Claim.Lease is %v (want 0 for the default, or at least 1ms)", ErrInvalid, c.Lease)
	}
	c.Lease = cmp.Or(c.Lease, DefaultClaimLease)
	now := s.now()
	if err := s.indexAt(ctx, c.JobID, now.Add(c.Lease)); err != nil {
		return "", err
	}
	k := keysOf(s.cfg.Namespace, c.JobID)
	cmd, rerr := s.runWrite(ctx, s.scripts.claim, []string{k.meta, k.outputs, k.fence}, c.Token, string(c.Mode), now.UnixMilli())
	from, err := cmd.Text()
	if err = cmp.Or(err, rerr); err != nil {
		return "", s.scriptErr(c.JobID, err)
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
	// Retention is how long every key of the job lives after the commit.
	// 0 deletes the job's data at once, with UNLINK, and keeps its meta and
	// result as a tombstone for Config.Tombstone; a failed job is never
	// deleted at once:
	// with 0 it gets Config.FailedRetention, so its reasons stay readable
	// and it can be replayed.
	Retention time.Duration
}

// Commit writes a collection's outcome, once, in one atomic step: it checks
// that c.Token is the token that claimed the job (another token is rejected
// with an error wrapping locks.ErrFenced, and changes nothing), that the
// final state is true to the job's events (done needs a sealed job whose
// every event has an output; partial needs a failed or missing event),
// writes the result, moves the job from collecting to its final state and
// applies the retention to every key of the job (meta, outputs, failures,
// events, result, fence, the lock's token counter). It returns the number of
// outputs the job has. A retry by the same token after a lost reply gets the
// same answer.
//
// Other errors: ErrJobNotFound, ErrState (the job is not collecting),
// ErrInvalid (a bad Commit, or a final state the events contradict).
func (s *Store) Commit(ctx context.Context, c Commit) (int64, error) {
	if err := ValidateJobID(c.JobID); err != nil {
		return 0, err
	}
	switch {
	case c.Token < 1:
		return 0, fmt.Errorf("%w: Commit.Token is %d (want the fencing token of the claim)", ErrInvalid, c.Token)
	case !c.State.Committed():
		return 0, fmt.Errorf("%w: Commit.State is %q (want %q, %q or %q)", ErrInvalid, c.State, StateDone, StatePartial, StateFailed)
	case c.Retention < 0:
		return 0, fmt.Errorf("%w: Commit.Retention is %v (want >= 0; 0 deletes the job's data at once)", ErrInvalid, c.Retention)
	case c.Retention > 0 && c.Retention < time.Millisecond:
		return 0, fmt.Errorf("%w: Commit.Retention is %v (want 0 or at least 1ms)", ErrInvalid, c.Retention)
	}
	if c.State == StateFailed && c.Retention == 0 {
		c.Retention = s.cfg.FailedRetention
	}
	k := keysOf(s.cfg.Namespace, c.JobID)
	has, result := "0", []byte{}
	if c.Result != nil {
		has, result = "1", c.Result
	}
	cmd, rerr := s.runWrite(ctx, s.scripts.commit, k.all(),
		c.Token, string(c.State), has, result, c.Error, c.Retention.Milliseconds(), s.cfg.Tombstone.Milliseconds(), s.now().UnixMilli())
	n, err := cmd.Int64()
	if err = cmp.Or(err, rerr); err != nil {
		return 0, s.scriptErr(c.JobID, err)
	}
	s.unindex(ctx, c.JobID)
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
		return nil, redisErr("result of job "+jobID, err)
	}
	return b, nil
}

// Gather streams the outputs of a job the caller has claimed, in no
// particular order, never holding the whole hash (in Redis or here). size
// is the number of outputs (Status.Done). The outputs held at once, in pages
// fetched ahead and the page the caller handles, stay within
// Config.GatherBudget bytes: pages are sized from the largest output the job
// has. Three read paths, chosen by measurement (docs/BENCHMARKS.md):
//
//   - at most Config.SmallHash outputs that fit the budget: one HGETALL,
//     faster than pages and blocking Redis for well under a millisecond;
//   - otherwise, by event ID: HMGET of a page of IDs at a time, three
//     requests in flight while the caller handles the previous page. The
//     IDs are the job's caller-given ones, read a page at a time with
//     LRANGE from the list Open and Add keep of them in the order
//     registered (each LRANGE sent in the round trip of the previous
//     page's HMGET), then the generated ones ("#0", "#1", ...), which need
//     no list. HMGET costs Redis about what one HVALS of the whole hash costs,
//     in slices of half a millisecond, and LRANGE a fraction of that;
//     HSCAN costs twice as much, as it copies every field and value;
//   - a job whose list of caller-given IDs is incomplete (registered by a
//     version of fanin without it): HSCAN pages through the cache layer,
//     the next page fetched while the caller handles the current one.
//
// Write accepts registered event IDs only, so every output is found on
// every path. A claimed job's outputs no longer change, so HSCAN yields
// each output once (Redis repeats a field only when the hash is resized
// during the scan, which only writes do). Gather refuses to read a job that
// still accepts writes by HSCAN, with an error wrapping ErrState (Claim it
// first); the other paths yield each output at most once in any state. A
// job that does not exist is an error wrapping ErrJobNotFound. An error
// ends the sequence as its last pair.
func (s *Store) Gather(ctx context.Context, jobID string, size int64) iter.Seq2[Output, error] {
	return func(yield func(Output, error) bool) {
		if err := ValidateJobID(jobID); err != nil {
			yield(Output{}, err)
			return
		}
		k := keysOf(s.cfg.Namespace, jobID)
		var meta *redis.SliceCmd
		var listed *redis.IntCmd
		if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			meta = p.HMGet(ctx, k.meta, "n", "seq", "omax", "state")
			listed = p.LLen(ctx, k.ids)
			return nil
		}); err != nil {
			yield(Output{}, redisErr("outputs of job "+jobID, err))
			return
		}
		m := meta.Val()
		field := func(i int) int64 { // -1 when missing
			t, _ := m[i].(string)
			n, err := strconv.ParseInt(t, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
		n, seq, omax := field(0), field(1), field(2)
		state, _ := m[3].(string)
		if state == "" {
			yield(Output{}, notFound(jobID))
			return
		}
		if omax < 0 { // written before outputs were measured
			omax = int64(s.cfg.MaxOutputSize)
		}
		budget := int64(s.cfg.GatherBudget)
		if size <= int64(s.cfg.SmallHash) && size*omax <= budget {
			all, err := s.client.HGetAll(ctx, k.outputs).Result()
			if err != nil {
				yield(Output{}, redisErr("outputs of job "+jobID, err))
				return
			}
			for id, v := range all {
				if !yield(Output{EventID: id, Value: replyBytes(v)}, nil) {
					return
				}
			}
			return
		}
		workers, fetch := 1, fetcher(nil)
		given := n - seq // caller-given IDs
		byID := seq >= 0 && given >= 0 && listed.Val() == given
		if byID {
			// Three HMGETs in flight keep Redis busy while the client
			// parses the replies: on 2 vCPUs, 1M outputs read at
			// 0.74-0.77x one HVALS's speed with 3, 0.48-0.62x with 2, and
			// no better with 4 (docs/BENCHMARKS.md, issue 17).
			workers = 3
		}
		// Pages held at once: one being filled per worker, workers in the
		// channel, and the one the caller handles.
		page := int(min(max(budget/(int64(2*workers+1)*max(omax, 1)), 1), int64(s.cfg.ScanPage)))
		switch {
		case byID:
			fetch = s.fetchByID(jobID, given, seq, page)
		case State(state).accepting():
			// A write during the scan may resize the hash, and HSCAN
			// then repeats fields: only a claimed job is read this way.
			yield(Output{}, fmt.Errorf("%w: job %s is %s and registered without its list of event IDs: Gather reads it only once claimed (want Claim first)", ErrState, jobID, state))
			return
		default:
			fetch = s.fetchScan(jobID, page)
		}
		for outs, err := range prefetch(ctx, workers, fetch) {
			if err != nil {
				yield(Output{}, err)
				return
			}
			for _, o := range outs {
				if !yield(o, nil) {
					return
				}
			}
		}
	}
}

// fetcher fetches pages of outputs and hands each to emit, which returns
// false when the consumer is gone.
type fetcher func(ctx context.Context, emit func([]Output) bool) error

// fetchByID reads the outputs of the job's given caller-given events (the
// first given entries of its ids list) and of its generated events #0 ..
// #(seq-1), with HMGET of page IDs at a time; the goroutines calling it
// share the pages. Position i < given is the list's entry i, position
// given + j the generated ID #j. While listed IDs are left, each goroutine
// claims its next page before it reads the current one, and sends the
// LRANGE of the next page's listed IDs in the same round trip as the HMGET
// of the current page's outputs: one round trip a page on both ID paths
// (caller-given IDs: the reduce of 1M outputs 8 % faster on 2 vCPUs,
// docs/BENCHMARKS.md, issue 17, eighth step).
func (s *Store) fetchByID(jobID string, given, seq int64, page int) fetcher {
	k := keysOf(s.cfg.Namespace, jobID)
	var next atomic.Int64
	// claim returns the next page's positions [first, end); first >= end
	// when none is left.
	claim := func() (first, end int64) {
		first = next.Add(int64(page)) - int64(page)
		return first, min(first+int64(page), given+seq)
	}
	// idsOf returns the page's IDs: the listed ones read by lr, then the
	// generated ones.
	idsOf := func(ids []string, lr *redis.StringSliceCmd, first, end int64) ([]string, error) {
		ids = ids[:0]
		if lr != nil {
			got, err := lr.Result()
			if err != nil {
				return nil, redisErr("event IDs of job "+jobID, err)
			}
			if want := min(end, given) - first; int64(len(got)) != want {
				return nil, fmt.Errorf("%w: job %s lists %d event IDs from position %d, want %d", ErrInternal, jobID, len(got), first, want)
			}
			ids = append(ids, got...)
		}
		for i := max(first, given); i < end; i++ {
			ids = append(ids, GeneratedID(i-given))
		}
		return ids, nil
	}
	return func(ctx context.Context, emit func([]Output) bool) error {
		first, end := claim()
		if first >= end {
			return nil
		}
		var lr *redis.StringSliceCmd
		if first < given {
			lr = s.client.LRange(ctx, k.ids, first, min(end, given)-1)
		}
		ids, err := idsOf(make([]string, 0, page), lr, first, end)
		if err != nil {
			return err
		}
		nextIDs := make([]string, 0, page)
		for {
			// While listed IDs are left, claim the next page now, so that
			// its LRANGE goes with this page's HMGET; past them, claim it
			// once this page is handed over, as pages of generated IDs
			// need no read. (A page claimed late starts past the listed
			// IDs: next only grows.)
			ahead := next.Load() < given
			nextFirst, nextEnd := int64(0), int64(0)
			if ahead {
				nextFirst, nextEnd = claim()
			}
			var hm *redis.SliceCmd
			var nextLR *redis.StringSliceCmd
			if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
				hm = p.HMGet(ctx, k.outputs, ids...)
				if ahead && nextFirst < min(nextEnd, given) { // listed IDs next
					nextLR = p.LRange(ctx, k.ids, nextFirst, min(nextEnd, given)-1)
				}
				return nil
			}); err != nil {
				if hm.Err() != nil {
					return redisErr("outputs of job "+jobID, hm.Err())
				}
				return redisErr("event IDs of job "+jobID, err)
			}
			vals := hm.Val()
			outs := make([]Output, 0, len(vals))
			for i, v := range vals {
				if str, ok := v.(string); ok {
					outs = append(outs, Output{EventID: ids[i], Value: replyBytes(str)})
				}
			}
			if len(outs) > 0 && !emit(outs) {
				return nil
			}
			if !ahead {
				nextFirst, nextEnd = claim()
			}
			if nextFirst >= nextEnd {
				return nil
			}
			if nextIDs, err = idsOf(nextIDs, nextLR, nextFirst, nextEnd); err != nil {
				return err
			}
			ids, nextIDs = nextIDs, ids
		}
	}
}

// replyBytes returns the bytes of s, a value of a reply go-redis parsed,
// without copying them. go-redis reads each bulk string of a reply into a
// buffer of its own and hands it over as a string (proto.Reader's
// readStringReply); the reply is dropped once its values are taken, so the
// slice is the only reference left to that buffer, and the caller may keep
// or modify it as a copy. Copying instead cost a third of Gather's
// allocated bytes (BenchmarkGatherByID).
func replyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// fetchScan reads the outputs hash with HSCAN pages of about page fields
// through the cache layer.
func (s *Store) fetchScan(jobID string, page int) fetcher {
	return func(ctx context.Context, emit func([]Output) bool) error {
		buf := make([]Output, 0, page)
		for f, err := range s.hashes.HashScan(ctx, keysOf(s.cfg.Namespace, jobID).outputs, page) {
			if err != nil {
				return redisErr("outputs of job "+jobID, err)
			}
			raw, err := f.Item.Raw(nil)
			if err != nil {
				return fmt.Errorf("%w: output of event %q in job %s: %w", ErrInternal, f.Field, jobID, err)
			}
			buf = append(buf, Output{EventID: f.Field, Value: raw})
			if len(buf) == page {
				if !emit(buf) {
					return nil
				}
				buf = make([]Output, 0, page)
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
// the sequence does, also when the consumer stops early. When ctx ends
// first, the sequence ends with an error wrapping its cause, never as if
// every page had been read.
func prefetch(ctx context.Context, workers int, fetch fetcher) iter.Seq2[[]Output, error] {
	type page struct {
		outs []Output
		err  error
	}
	return func(yield func([]Output, error) bool) {
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan page, workers)
		var wg sync.WaitGroup
		// cut records that a goroutine dropped a page or an error because
		// ctx ended: before the consumer stops (which cancels ctx only once
		// it is done), that is parent's end.
		var cut atomic.Bool
		emit := func(outs []Output) bool {
			select {
			case ch <- page{outs: outs}:
				return true
			case <-ctx.Done():
				cut.Store(true)
				return false
			}
		}
		for range workers {
			wg.Go(func() {
				if err := fetch(ctx, emit); err != nil {
					select {
					case ch <- page{err: err}:
					case <-ctx.Done():
						cut.Store(true)
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
		if cut.Load() {
			yield(nil, fmt.Errorf("outputs read in part only: %w", context.Cause(parent)))
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
