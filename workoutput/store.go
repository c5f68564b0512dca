package workoutput

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/rediscache"
)

// Store owns the state of fanin jobs in Redis. It is safe for concurrent use.
type Store struct {
	client  redis.UniversalClient
	hashes  cache.Hashes
	cfg     Config
	scripts scripts
}

// New returns a Store on client. It returns an error wrapping ErrInvalid when
// client is nil or cfg is invalid.
//
// On a *redis.ClusterClient, New adds a hook to the client that makes it
// reload its slot map as soon as a command fails with a network error or
// CLUSTERDOWN: after a master dies and its replica is promoted, the client
// (and Asynq, which shares it) then follows the failover at once instead of
// after go-redis' periodic reload (ClusterStateReloadInterval, 60 s).
func New(client redis.UniversalClient, cfg Config) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: redis client is nil (want a redis.UniversalClient)", ErrInvalid)
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if c.Hashes == nil {
		rc, err := rediscache.New(client, rediscache.Config{})
		if err != nil {
			return nil, fmt.Errorf("%w: cache layer: %w", ErrInvalid, err)
		}
		c.Hashes = rc
	}
	if err := checkReplicaConfig(client, c); err != nil {
		return nil, err
	}
	followFailover(client)
	return &Store{client: client, hashes: c.Hashes, cfg: c, scripts: newScripts()}, nil
}

// Config returns the Store's configuration with defaults filled in.
func (s *Store) Config() Config { return s.cfg }

// CheckEvent returns an error wrapping ErrTooLarge when payload exceeds
// Config.MaxEventSize.
func (s *Store) CheckEvent(eventID string, payload []byte) error {
	if len(payload) > s.cfg.MaxEventSize {
		return fmt.Errorf("%w: event %q is %d bytes (want at most %d, Config.MaxEventSize)",
			ErrTooLarge, eventID, len(payload), s.cfg.MaxEventSize)
	}
	return nil
}

// CheckOutput returns an error wrapping ErrTooLarge when value exceeds
// Config.MaxOutputSize.
func (s *Store) CheckOutput(eventID string, value []byte) error {
	if len(value) > s.cfg.MaxOutputSize {
		return fmt.Errorf("%w: output of event %q is %d bytes (want at most %d, Config.MaxOutputSize)",
			ErrTooLarge, eventID, len(value), s.cfg.MaxOutputSize)
	}
	return nil
}

// checkBatch validates the caller-given IDs of b (form, uniqueness within b)
// and the job size cap.
func (s *Store) checkBatch(b Batch) error {
	if b.Generated < 0 {
		return fmt.Errorf("%w: Batch.Generated is %d (want >= 0)", ErrInvalid, b.Generated)
	}
	if b.Len() > s.cfg.MaxEvents {
		return fmt.Errorf("%w: %d events (want at most %d per job, Config.MaxEvents)", ErrTooLarge, b.Len(), s.cfg.MaxEvents)
	}
	if len(b.IDs) == 0 {
		return nil
	}
	seen := make(map[string]struct{}, len(b.IDs))
	for _, id := range b.IDs {
		if err := validateEventID(id); err != nil {
			return err
		}
		if _, dup := seen[id]; dup {
			return fmt.Errorf("%w: event ID %q is given twice in one call (want IDs unique within the job)", ErrDuplicateEvent, id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// Open creates a job from spec and registers the events of b. With seal, the
// job is sealed at once with b's events as its total (a job sealed with 0
// events is created complete: Job.Completed). Without seal, events are added
// with Add and the job sealed with Seal.
//
// The job is added to the sweeper's index before it is created, so the
// sweeper can never miss a job that exists.
func (s *Store) Open(ctx context.Context, spec Spec, b Batch, seal bool) (Job, error) {
	if spec.ID == "" {
		spec.ID = NewJobID()
	} else if err := ValidateJobID(spec.ID); err != nil {
		return Job{}, err
	}
	if strings.TrimSpace(spec.Kind) == "" {
		return Job{}, fmt.Errorf("%w: Spec.Kind is empty (want the name of the handler of the job's events)", ErrInvalid)
	}
	if spec.Deadline < 0 || (spec.Retention < 0 && spec.Retention != NoRetention) || spec.ChunkSize < 0 || spec.MaxRetry < 0 {
		return Job{}, fmt.Errorf("%w: Spec has a negative Deadline, Retention, ChunkSize or MaxRetry (want >= 0, 0 means the default; Retention may be NoRetention)", ErrInvalid)
	}
	switch spec.FailurePolicy {
	case "":
		spec.FailurePolicy = PolicyFail
	case PolicyFail, PolicyContinue:
	default:
		return Job{}, fmt.Errorf("%w: Spec.FailurePolicy is %q (want %q or %q)", ErrInvalid, spec.FailurePolicy, PolicyFail, PolicyContinue)
	}
	if err := s.checkBatch(b); err != nil {
		return Job{}, err
	}
	if spec.Deadline == 0 {
		spec.Deadline = s.cfg.DefaultDeadline
	}
	switch spec.Retention {
	case 0:
		spec.Retention = s.cfg.DefaultRetention
	case NoRetention:
		spec.Retention = 0
	}
	now := time.Now()
	deadline := now.Add(spec.Deadline)
	expires := deadline.Add(spec.Retention + s.cfg.SafetyMargin)

	n := strconv.Itoa(b.Len())
	sealed, total := "0", "0"
	if seal {
		sealed, total = "1", n
	}
	meta := []any{
		"kind", spec.Kind, "name", spec.Name, "state", string(StateOpen),
		"sealed", sealed, "total", total, "n", n, "seq", b.Generated,
		"created", now.UnixMilli(), "deadline", deadline.UnixMilli(),
		"retention", spec.Retention.Milliseconds(), "chunk", spec.ChunkSize,
		"maxretry", spec.MaxRetry, "policy", string(spec.FailurePolicy),
		"expires", expires.UnixMilli(),
	}
	k := keysOf(s.cfg.Namespace, spec.ID)
	// The index entry is written first and removed only once the job is
	// finished, or gone past its deadline (Sweep): a job that exists is
	// always indexed.
	var zadd *redis.IntCmd
	if err := s.replicated(ctx, indexKey(s.cfg.Namespace), func(p redis.Pipeliner) {
		zadd = p.ZAdd(ctx, indexKey(s.cfg.Namespace), redis.Z{Score: float64(deadline.UnixMilli()), Member: spec.ID})
	}); err != nil {
		return Job{}, err
	}
	if err := zadd.Err(); err != nil {
		return Job{}, unavailable("index job "+spec.ID, err)
	}
	args := make([]any, 0, 2+len(meta)+len(b.IDs))
	args = append(args, expires.UnixMilli(), len(meta))
	args = append(args, meta...)
	for _, id := range b.IDs {
		args = append(args, id)
	}
	cmd, rerr := s.runWrite(ctx, s.scripts.open, []string{k.meta, k.events, k.outputs, k.failures}, args...)
	res, err := cmd.Int()
	if err = cmp.Or(err, rerr); err != nil {
		return Job{}, s.scriptErr(spec.ID, err)
	}
	return Job{ID: spec.ID, Created: time.UnixMilli(now.UnixMilli()), Deadline: time.UnixMilli(deadline.UnixMilli()), Completed: res == 1}, nil
}

// Add registers the events of b with an open, unsealed job, all or nothing:
// a duplicate event ID (ErrDuplicateEvent), a sealed job (ErrSealed), an
// unknown job (ErrJobNotFound) or too many events (ErrTooLarge) rejects the
// whole call. It returns the first sequence number reserved for b's
// generated events: their IDs are GeneratedID(first), GeneratedID(first+1),
// and so on.
func (s *Store) Add(ctx context.Context, jobID string, b Batch) (first int64, err error) {
	if err := ValidateJobID(jobID); err != nil {
		return 0, err
	}
	if err := s.checkBatch(b); err != nil {
		return 0, err
	}
	k := keysOf(s.cfg.Namespace, jobID)
	args := make([]any, 0, 2+len(b.IDs))
	args = append(args, s.cfg.MaxEvents, b.Generated)
	for _, id := range b.IDs {
		args = append(args, id)
	}
	cmd, rerr := s.runWrite(ctx, s.scripts.add, []string{k.meta, k.events}, args...)
	first, err = cmd.Int64()
	if err = cmp.Or(err, rerr); err != nil {
		if n, ok := strings.CutPrefix(err.Error(), "TOOMANY "); ok {
			return 0, fmt.Errorf("%w: job %s has %s events, adding %d would exceed %d (Config.MaxEvents)", ErrTooLarge, jobID, n, b.Len(), s.cfg.MaxEvents)
		}
		return 0, s.scriptErr(jobID, err)
	}
	return first, nil
}

// Seal fixes the total of a job to the events added so far; no event can be
// added afterwards. It reports whether the seal completed the job (every
// event already had an output or failure, or the job has no event): the
// caller then hands it to the coordinator. Sealing a sealed job does
// nothing.
func (s *Store) Seal(ctx context.Context, jobID string) (completed bool, err error) {
	if err := ValidateJobID(jobID); err != nil {
		return false, err
	}
	k := keysOf(s.cfg.Namespace, jobID)
	cmd, rerr := s.runWrite(ctx, s.scripts.seal, []string{k.meta, k.outputs, k.failures})
	res, err := cmd.Int()
	if err = cmp.Or(err, rerr); err != nil {
		return false, s.scriptErr(jobID, err)
	}
	return res == 1, nil
}

// Pending returns the job's state and, for each of eventIDs, whether it
// already has an output, in one round trip: a redelivered chunk skips the
// events already done.
func (s *Store) Pending(ctx context.Context, jobID string, eventIDs []string) (State, []bool, error) {
	if err := ValidateJobID(jobID); err != nil {
		return "", nil, err
	}
	k := keysOf(s.cfg.Namespace, jobID)
	res, err := s.scripts.pending.Run(ctx, s.client, []string{k.meta, k.outputs}, stringArgs(eventIDs)...).Slice()
	if err != nil {
		return "", nil, s.scriptErr(jobID, err)
	}
	if len(res) != 2 {
		return "", nil, fmt.Errorf("%w: pending script returned %d values, want 2", cache.ErrUnavailable, len(res))
	}
	state, _ := res[0].(string)
	flags, _ := res[1].(string)
	done := make([]bool, len(eventIDs))
	for i := range done {
		done[i] = i < len(flags) && flags[i] == '1'
	}
	return State(state), done, nil
}

// Write records the outputs and failures of a chunk of events and checks
// completion, in one atomic round trip. Outputs are set idempotently (the
// first output of an event wins) and replace an earlier failure; a failure
// is recorded only for an event without output. Exactly one Write or Seal of
// a job reports WriteResult.Completed.
//
// With Config.ReplicaAcks, an error wrapping ErrNotReplicated means the
// master applied the write but too few replicas acknowledged it in time: the
// WriteResult is still the write's (Completed stays true only for this
// call), and the caller should retry the Write until it succeeds.
func (s *Store) Write(ctx context.Context, jobID string, outputs []Output, failures []Failure) (WriteResult, error) {
	if err := ValidateJobID(jobID); err != nil {
		return WriteResult{}, err
	}
	args := make([]any, 0, 1+2*len(outputs)+2*len(failures))
	args = append(args, len(outputs))
	for _, o := range outputs {
		if o.EventID == "" {
			return WriteResult{}, fmt.Errorf("%w: output with empty event ID", ErrInvalid)
		}
		if err := s.CheckOutput(o.EventID, o.Value); err != nil {
			return WriteResult{}, err
		}
		args = append(args, o.EventID, o.Value)
	}
	for _, f := range failures {
		if f.EventID == "" {
			return WriteResult{}, fmt.Errorf("%w: failure with empty event ID", ErrInvalid)
		}
		b, err := json.Marshal(f)
		if err != nil {
			return WriteResult{}, fmt.Errorf("workoutput: encode failure of event %q: %w", f.EventID, err)
		}
		args = append(args, f.EventID, b)
	}
	k := keysOf(s.cfg.Namespace, jobID)
	cmd, rerr := s.runWrite(ctx, s.scripts.write, []string{k.meta, k.outputs, k.failures}, args...)
	res, err := cmd.Int()
	if err != nil {
		return WriteResult{}, s.scriptErr(jobID, err)
	}
	// Applied on the master; with rerr (ErrNotReplicated) not yet durable.
	return WriteResult{Completed: res == 1, Skipped: res == -1}, rerr
}

// Transition moves a job to state to if it is in one of from (the
// coordinator's compare-and-set). It reports false when the job already is
// in state to; an error wrapping ErrState names the current state otherwise.
func (s *Store) Transition(ctx context.Context, jobID string, to State, from ...State) (bool, error) {
	if err := ValidateJobID(jobID); err != nil {
		return false, err
	}
	args := make([]any, 0, 1+len(from))
	args = append(args, string(to))
	for _, f := range from {
		args = append(args, string(f))
	}
	cmd, rerr := s.runWrite(ctx, s.scripts.transition, []string{keysOf(s.cfg.Namespace, jobID).meta}, args...)
	res, err := cmd.Int()
	if err = cmp.Or(err, rerr); err != nil {
		return false, s.scriptErr(jobID, err)
	}
	return res == 1, nil
}

// Cancel cancels an open or complete job: workers skip its remaining events
// and the coordinator does not collect it. Cancelling a cancelled job does
// nothing; cancelling a collected job is an error wrapping ErrState.
func (s *Store) Cancel(ctx context.Context, jobID string) error {
	_, err := s.Transition(ctx, jobID, StateCancelled, StateOpen, StateComplete)
	return err
}

// Status returns a consistent snapshot of a job.
func (s *Store) Status(ctx context.Context, jobID string) (Status, error) {
	if err := ValidateJobID(jobID); err != nil {
		return Status{}, err
	}
	k := keysOf(s.cfg.Namespace, jobID)
	var meta *redis.MapStringStringCmd
	var done, failed *redis.IntCmd
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HGetAll(ctx, k.meta)
		done = p.HLen(ctx, k.outputs)
		failed = p.HLen(ctx, k.failures)
		return nil
	})
	if err != nil {
		return Status{}, unavailable("status of job "+jobID, err)
	}
	m := meta.Val()
	if len(m) == 0 {
		return Status{}, notFound(jobID)
	}
	num := func(f string) int64 { n, _ := strconv.ParseInt(m[f], 10, 64); return n }
	ms := func(f string) time.Time {
		if n := num(f); n > 0 {
			return time.UnixMilli(n)
		}
		return time.Time{}
	}
	st := Status{
		ID: jobID, Kind: m["kind"], Name: m["name"], State: State(m["state"]),
		Sealed: m["sealed"] == "1", Total: num("n"), Done: done.Val(), Failed: failed.Val(),
		Created: ms("created"), Deadline: ms("deadline"), Completed: ms("completed"),
		Retention: time.Duration(num("retention")) * time.Millisecond,
		ChunkSize: int(num("chunk")), MaxRetry: int(num("maxretry")), FailurePolicy: FailurePolicy(m["policy"]),
		Token: num("token"), Finished: ms("finished"), Error: m["error"],
	}
	if st.Sealed {
		st.Total = num("total")
	}
	st.Pending = max(st.Total-st.Done-st.Failed, 0)
	return st, nil
}

// Missing yields the IDs of the job's events that have neither an output nor
// a failure, page by page, so a stuck job says what it waits for. An event
// finished during the iteration may or may not be yielded. An error ends the
// sequence as its last pair.
func (s *Store) Missing(ctx context.Context, jobID string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := ValidateJobID(jobID); err != nil {
			yield("", err)
			return
		}
		k := keysOf(s.cfg.Namespace, jobID)
		seq, err := s.client.HGet(ctx, k.meta, "seq").Int64()
		if errors.Is(err, redis.Nil) {
			yield("", notFound(jobID))
			return
		}
		if err != nil {
			yield("", unavailable("missing events of job "+jobID, err))
			return
		}
		// filter yields the missing IDs among ids; false means stop.
		filter := func(ids []string) bool {
			if len(ids) == 0 {
				return true
			}
			res, err := s.scripts.missing.Run(ctx, s.client, []string{k.outputs, k.failures}, stringArgs(ids)...).StringSlice()
			if err != nil {
				yield("", unavailable("missing events of job "+jobID, err))
				return false
			}
			for _, id := range res {
				if !yield(id, nil) {
					return false
				}
			}
			return true
		}
		page := s.cfg.ScanPage
		ids := make([]string, 0, page)
		for i := int64(0); i < seq; i++ {
			ids = append(ids, GeneratedID(i))
			if len(ids) == page {
				if !filter(ids) {
					return
				}
				ids = ids[:0]
			}
		}
		if !filter(ids) {
			return
		}
		var cursor uint64
		for {
			keys, next, err := s.client.SScan(ctx, k.events, cursor, "", int64(page)).Result()
			if err != nil {
				yield("", unavailable("missing events of job "+jobID, err))
				return
			}
			if !filter(keys) {
				return
			}
			if cursor = next; cursor == 0 {
				return
			}
		}
	}
}

// Outputs streams the job's outputs (field = event ID) through the cache
// layer, page by page. An error ends the sequence as its last pair.
func (s *Store) Outputs(ctx context.Context, jobID string) iter.Seq2[cache.HashField, error] {
	if err := ValidateJobID(jobID); err != nil {
		return func(yield func(cache.HashField, error) bool) { yield(cache.HashField{}, err) }
	}
	return s.hashes.HashScan(ctx, keysOf(s.cfg.Namespace, jobID).outputs, s.cfg.ScanPage)
}

// Output reads the output of one event through the cache layer; a miss is an
// Item whose HasValue is false.
func (s *Store) Output(ctx context.Context, jobID, eventID string) (cache.Item, error) {
	if err := ValidateJobID(jobID); err != nil {
		return cache.Item{}, err
	}
	return s.hashes.HashGet(ctx, keysOf(s.cfg.Namespace, jobID).outputs, eventID)
}

// Failures streams the job's failed events through the cache layer. An
// error ends the sequence as its last pair.
func (s *Store) Failures(ctx context.Context, jobID string) iter.Seq2[Failure, error] {
	return func(yield func(Failure, error) bool) {
		if err := ValidateJobID(jobID); err != nil {
			yield(Failure{}, err)
			return
		}
		for f, err := range s.hashes.HashScan(ctx, keysOf(s.cfg.Namespace, jobID).failures, s.cfg.ScanPage) {
			if err != nil {
				yield(Failure{}, err)
				return
			}
			var fl Failure
			if err := f.Item.Decode(&fl); err != nil {
				yield(Failure{}, fmt.Errorf("workoutput: failure of event %q in job %s: %w", f.Field, jobID, err))
				return
			}
			fl.EventID = f.Field
			if !yield(fl, nil) {
				return
			}
		}
	}
}

// Sweep walks the job index once: it returns the jobs complete but not
// collected and the open jobs past their deadline at now, and drops from the
// index the jobs in a terminal state and those that no longer exist once
// their deadline has passed (before it, a missing job may be one that Open
// has indexed but not created yet). The
// coordinator runs it every sweep interval, so a worker that crashes between
// completing a job and enqueuing its collect task delays collection by at
// most one interval.
func (s *Store) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	idx := indexKey(s.cfg.Namespace)
	var drop []any
	page := int64(s.cfg.ScanPage)
	for start := int64(0); ; start += page {
		entries, err := s.client.ZRangeWithScores(ctx, idx, start, start+page-1).Result()
		if err != nil {
			return res, unavailable("sweep job index", err)
		}
		if len(entries) == 0 {
			break
		}
		ids := make([]string, len(entries))
		for i, e := range entries {
			ids[i], _ = e.Member.(string)
		}
		cmds := make([]*redis.SliceCmd, len(ids))
		_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				cmds[i] = p.HMGet(ctx, keysOf(s.cfg.Namespace, id).meta, "state", "deadline")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return res, unavailable("sweep job index", err)
		}
		for i, id := range ids {
			v := cmds[i].Val()
			state, _ := v[0].(string)
			switch {
			case state == "" && float64(now.UnixMilli()) > entries[i].Score:
				drop = append(drop, id) // gone (expired, deleted)
			case state == "":
				// Indexed by Open, maybe not created yet: keep it until
				// its deadline (the index score).
			case State(state).Terminal():
				drop = append(drop, id)
			case State(state) == StateComplete:
				res.Complete = append(res.Complete, id)
			case State(state) == StateCollecting:
				res.Collecting = append(res.Collecting, id)
			case State(state) == StateOpen:
				dl, _ := v[1].(string)
				if ms, err := strconv.ParseInt(dl, 10, 64); err == nil && now.UnixMilli() > ms {
					res.Overdue = append(res.Overdue, id)
				}
			}
		}
		if int64(len(entries)) < page {
			break
		}
	}
	if len(drop) > 0 {
		n, err := s.client.ZRem(ctx, idx, drop...).Result()
		if err != nil {
			return res, unavailable("sweep job index", err)
		}
		res.Removed = int(n)
	}
	return res, nil
}

// scriptErr maps a Lua error reply to a sentinel error.
func (s *Store) scriptErr(jobID string, err error) error {
	if errors.Is(err, ErrNotReplicated) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "ERR ")
	switch {
	case msg == "NOTFOUND":
		return notFound(jobID)
	case msg == "EXISTS":
		return fmt.Errorf("%w: job %s (want a new job ID)", ErrJobExists, jobID)
	case msg == "NOTRETAINED":
		return fmt.Errorf("%w: job %s: its outputs have expired (a replay needs the job's retention to be running)", ErrNotRetained, jobID)
	case msg == "SEALED":
		return fmt.Errorf("%w: job %s is sealed, no event can be added (want Add before Seal)", ErrSealed, jobID)
	case strings.HasPrefix(msg, "DUP "):
		return fmt.Errorf("%w: event ID %q already exists in job %s (want IDs unique within the job)", ErrDuplicateEvent, msg[4:], jobID)
	case strings.HasPrefix(msg, "FENCED "), strings.HasPrefix(msg, "OWNER "):
		return fencedErr(jobID, msg)
	case strings.HasPrefix(msg, "STATE "):
		return fmt.Errorf("%w: job %s is %s", ErrState, jobID, msg[6:])
	}
	return unavailable("job "+jobID, err)
}

func notFound(jobID string) error {
	return fmt.Errorf("%w: %s (never opened, expired or deleted)", ErrJobNotFound, jobID)
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", cache.ErrUnavailable, what, err)
}

func stringArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
