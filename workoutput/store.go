package workoutput

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	client     redis.UniversalClient
	hashes     cache.Hashes
	cfg        Config
	scripts    scripts
	stagePiece int // see the constant stagePiece; tests make it small
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
	return &Store{client: client, hashes: c.Hashes, cfg: c, scripts: newScripts(), stagePiece: stagePiece}, nil
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
// job is created sealed (running) with b's events as its total (a job sealed
// with 0 events is created complete: Job.Completed). Without seal, it is
// open: events are added with Add and the job sealed with Seal.
//
// The job is added to the sweeper's index before it is created, so the
// sweeper can never miss a job that exists. Open is idempotent: a retry of
// the same request (same Spec.ID, same spec and events) after a lost reply
// gets the first call's answer, as long as the job has not moved on. Another
// request for a job ID in use gets ErrJobExists. More than a thousand
// caller-given IDs are sent in pieces of a thousand before the job is
// created (stageIDs), so that no command holds Redis for the whole batch;
// the job still appears at once, with all of them.
func (s *Store) Open(ctx context.Context, spec Spec, b Batch, seal bool) (Job, error) {
	if spec.ID == "" {
		spec.ID = NewJobID()
	} else if err := ValidateJobID(spec.ID); err != nil {
		return Job{}, err
	}
	if strings.TrimSpace(spec.Kind) == "" {
		return Job{}, fmt.Errorf("%w: Spec.Kind is empty (want the name of the handler of the job's events)", ErrInvalid)
	}
	if spec.Deadline < 0 || (spec.Retention < 0 && spec.Retention != NoRetention) || spec.ChunkSize < 0 || (spec.MaxRetry < 0 && spec.MaxRetry != NoRetry) || spec.EventTimeout < 0 {
		return Job{}, fmt.Errorf("%w: Spec has a negative Deadline, Retention, ChunkSize, MaxRetry or EventTimeout (want >= 0, 0 means the default; Retention may be NoRetention, MaxRetry NoRetry)", ErrInvalid)
	}
	if spec.Deadline > 0 && spec.Deadline < MinDeadline {
		return Job{}, fmt.Errorf("%w: Spec.Deadline is %v (want at least %v, a job's times are kept to the millisecond; 0 means the default)", ErrInvalid, spec.Deadline, MinDeadline)
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
	if spec.MaxRetry == NoRetry {
		spec.MaxRetry = 0 // as jobs.Producer records it
	}
	now := s.now()
	deadline := now.Add(spec.Deadline)
	expires := deadline.Add(spec.Retention + s.cfg.SafetyMargin)
	n := strconv.Itoa(b.Len())
	meta := []any{
		"kind", spec.Kind, "name", spec.Name, "sealed", "0", "total", "0", "n", n, "seq", b.Generated,
		"created", now.UnixMilli(), "deadline", deadline.UnixMilli(),
		"retention", spec.Retention.Milliseconds(), "chunk", spec.ChunkSize,
		"maxretry", spec.MaxRetry, "policy", string(spec.FailurePolicy),
		"expires", expires.UnixMilli(), "etimeout", spec.EventTimeout.Milliseconds(),
	}
	// The index entry is written first and removed only once the job is
	// finished, or gone past its deadline (Sweep): a job that exists is
	// always indexed. Its first due time leaves SweepDelay for the clocks
	// of the producer and the coordinators to differ; open.lua refuses to
	// create a job past its deadline, so a sweep that finds no job for a
	// due entry may drop it. An entry already there (a retry, or another
	// request for a job ID in use) is left as it is.
	if err := s.indexNew(ctx, spec.ID, deadline.Add(s.cfg.SweepDelay)); err != nil {
		return Job{}, err
	}
	oc := openCall{jobID: spec.ID, fingerprint: openFingerprint(spec, b, seal), seal: seal, meta: meta, expires: expires, deadline: deadline}
	var (
		res int64
		err error
	)
	// Once more when the staged IDs were not all there (STAGED): a piece
	// lost with a failover, say, or a call that took longer than stagedTTL.
	for attempt := 1; attempt <= 2; attempt++ {
		if res, err = s.open(ctx, oc, b.IDs); !errors.Is(err, errStagedIncomplete) {
			break
		}
	}
	if err != nil {
		return Job{}, err
	}
	return Job{ID: spec.ID, Created: time.UnixMilli(now.UnixMilli()), Deadline: time.UnixMilli(deadline.UnixMilli()), Completed: res == 1}, nil
}

// stagePiece is how Open registers caller-given event IDs: up to
// stagePiece go as arguments of open.lua; more are sent in pieces of
// stagePiece before the job is created (stageIDs), as arguments of
// open.lua would hold Redis for the whole batch: a script's arguments cost
// Redis about as much again as the commands that store them, and 20,000
// IDs held it for 16 ms in one call, a million for most of a second
// (docs/BENCHMARKS.md, issue 17); a thousand in one command cost it about
// 0.3 ms. A staged piece is a MULTI/EXEC of SADD and RPUSH of its IDs and
// the PEXPIRE of both keys, so that the staged keys always have a TTL:
// stagedTTL, after which an Open that never finished leaves nothing behind.
const stagePiece = 1000

// stagedTTL is the TTL of the staged keys of an Open.
const stagedTTL = 10 * time.Minute

// errStagedIncomplete reports that open.lua did not find every staged ID
// once (STAGED); Open's error then also wraps cache.ErrUnavailable.
var errStagedIncomplete = errors.New("workoutput: the staged event IDs of the job were incomplete")

// openCall is one call of open.lua: the job's ID, the request's
// fingerprint, seal, the meta fields and values, and its times.
type openCall struct {
	jobID, fingerprint string
	seal               bool
	meta               []any
	expires, deadline  time.Time
}

// inlineToken stands for the call in the staged keys that open.lua is given,
// and does not touch, when the IDs go as arguments.
const inlineToken = "inline"

// open runs oc with ids: staged when there are more than s.stagePiece, as
// arguments otherwise. It returns open.lua's answer.
func (s *Store) open(ctx context.Context, oc openCall, ids []string) (int64, error) {
	if len(ids) <= s.stagePiece {
		set, list := stagedIDsKeys(s.cfg.Namespace, oc.jobID, inlineToken)
		return s.runOpen(ctx, oc, ids, 0, set, list)
	}
	set, list := stagedIDsKeys(s.cfg.Namespace, oc.jobID, NewJobID())
	if err := s.stageIDs(ctx, oc.jobID, set, list, ids); err != nil {
		// Best effort: the keys expire after stagedTTL anyway.
		_ = s.client.Del(context.WithoutCancel(ctx), set, list).Err()
		return 0, err
	}
	return s.runOpen(ctx, oc, nil, len(ids), set, list)
}

// runOpen runs open.lua for oc with the inline IDs as arguments, or with
// staged IDs in the set and list given (staged > 0).
func (s *Store) runOpen(ctx context.Context, oc openCall, inline []string, staged int, set, list string) (int64, error) {
	k := keysOf(s.cfg.Namespace, oc.jobID)
	args := make([]any, 0, 7+len(oc.meta)+len(inline))
	args = append(args, s.now().UnixMilli(), oc.expires.UnixMilli(), oc.deadline.UnixMilli(),
		oc.fingerprint, boolArg(oc.seal), staged, len(oc.meta))
	args = append(args, oc.meta...)
	for _, id := range inline {
		args = append(args, id)
	}
	cmd, rerr := s.runWrite(ctx, s.scripts.open, []string{k.meta, k.events, k.outputs, k.failures, k.ids, set, list}, args...)
	res, err := cmd.Int64()
	if err = cmp.Or(err, rerr); err != nil {
		if replyCode(err.Error()) == "STAGED" {
			// Transient, as the outage that lost a piece: a caller that
			// rides out outages (jobs.Producer) opens the job again.
			return 0, unavailable(fmt.Sprintf("open job %s with %d staged event IDs", oc.jobID, staged), errStagedIncomplete)
		}
		return 0, s.scriptErr(oc.jobID, err)
	}
	return res, nil
}

// stageIDs stores ids in the set and the list given, in pieces of
// s.stagePiece, each an atomic MULTI/EXEC that also gives both keys
// stagedTTL.
func (s *Store) stageIDs(ctx context.Context, jobID, set, list string, ids []string) error {
	for start := 0; start < len(ids); start += s.stagePiece {
		piece := stringArgs(ids[start:min(start+s.stagePiece, len(ids))])
		cmds, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, set, piece...)
			p.RPush(ctx, list, piece...)
			p.PExpire(ctx, set, stagedTTL)
			p.PExpire(ctx, list, stagedTTL)
			return nil
		})
		if err != nil {
			return redisErr(fmt.Sprintf("stage event IDs %d to %d of job %s", start, start+len(piece)-1, jobID), txErr(cmds, err))
		}
	}
	return nil
}

// openFingerprint identifies an Open request by everything but its times,
// so that a retry is recognised as the same request.
func openFingerprint(spec Spec, b Batch, seal bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %d %d %d %d %t %d %d %d\x00", spec.Kind, spec.Name, spec.FailurePolicy,
		spec.Deadline, spec.Retention, spec.ChunkSize, spec.MaxRetry, seal, b.Generated, len(b.IDs), spec.EventTimeout)
	for _, id := range b.IDs {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// generatedMax finds, among the event IDs of a Write, the generated one of
// the largest sequence number.
type generatedMax struct {
	limit int64  // 1 + the largest sequence number; 0 for none
	id    string // its ID
}

// classify checks the form of eventID: a caller-given ID (reported given),
// or a generated one in canonical form, which it counts. An ID of neither
// form can never have been registered: ErrUnknownEvent, or ErrInvalid when
// empty.
func (g *generatedMax) classify(jobID, eventID string) (given bool, err error) {
	if eventID == "" {
		return false, fmt.Errorf("%w: an output or failure with an empty event ID", ErrInvalid)
	}
	if strings.HasPrefix(eventID, generatedPrefix) {
		n, ok := ParseGeneratedID(eventID)
		if !ok {
			return false, fmt.Errorf("%w: event ID %q in job %s (want a caller-given ID, or %q and a base-36 sequence number in canonical form)",
				ErrUnknownEvent, eventID, jobID, generatedPrefix)
		}
		if n >= g.limit {
			g.limit, g.id = n+1, eventID
		}
		return false, nil
	}
	if len(eventID) > maxEventIDLen {
		return false, fmt.Errorf("%w: event ID %.20q... in job %s is %d bytes (want at most %d)", ErrUnknownEvent, eventID, jobID, len(eventID), maxEventIDLen)
	}
	return true, nil
}

// writeID identifies a Write that has no Record.ID by its event IDs: any two
// writes of the same events count as one.
func writeID(outputs []Output, failures []Failure) string {
	h := sha256.New()
	for _, o := range outputs {
		h.Write([]byte(o.EventID))
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	for _, f := range failures {
		h.Write([]byte(f.EventID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// now reads the Store's clock (Config.Now).
func (s *Store) now() time.Time { return s.cfg.Now() }

// Add registers the events of b with an open job, all or nothing: a
// duplicate event ID (ErrDuplicateEvent), a sealed job (ErrSealed), an
// unknown job (ErrJobNotFound) or too many events (ErrTooLarge) rejects the
// whole call. It returns the first sequence number reserved for b's
// generated events: their IDs are GeneratedID(first), GeneratedID(first+1),
// and so on.
//
// Give b a Key to make the call idempotent: a retry with the same Key after a
// lost reply registers nothing more and returns the first call's answer.
// Without a Key, a retry of a call that did succeed registers b's events
// twice (or fails with ErrDuplicateEvent).
func (s *Store) Add(ctx context.Context, jobID string, b Batch) (first int64, err error) {
	if err := ValidateJobID(jobID); err != nil {
		return 0, err
	}
	if err := s.checkBatch(b); err != nil {
		return 0, err
	}
	if len(b.Key) > maxEventIDLen {
		return 0, fmt.Errorf("%w: Batch.Key is %d bytes (want at most %d)", ErrInvalid, len(b.Key), maxEventIDLen)
	}
	k := keysOf(s.cfg.Namespace, jobID)
	args := make([]any, 0, 3+len(b.IDs))
	args = append(args, s.cfg.MaxEvents, b.Generated, b.Key)
	for _, id := range b.IDs {
		args = append(args, id)
	}
	cmd, rerr := s.runWrite(ctx, s.scripts.add, []string{k.meta, k.events, k.adds, k.ids}, args...)
	first, err = cmd.Int64()
	if err = cmp.Or(err, rerr); err != nil {
		if n, ok := strings.CutPrefix(err.Error(), "TOOMANY "); ok {
			return 0, fmt.Errorf("%w: job %s has %s events, adding %d would exceed %d (Config.MaxEvents)", ErrTooLarge, jobID, n, b.Len(), s.cfg.MaxEvents)
		}
		return 0, s.scriptErr(jobID, err)
	}
	return first, nil
}

// Seal fixes the total of a job to the events added so far (open ->
// running); no event can be added afterwards. It reports whether the seal
// completed the job (every event already had an output or failure, or the
// job has no event): the caller then hands it to the coordinator. Sealing a
// sealed job changes nothing and reports what the first seal reported.
// Sealing a job that was never sealed and has moved on (cancelled, or
// collected past its deadline) is an error wrapping ErrState.
func (s *Store) Seal(ctx context.Context, jobID string) (completed bool, err error) {
	if err := ValidateJobID(jobID); err != nil {
		return false, err
	}
	k := keysOf(s.cfg.Namespace, jobID)
	cmd, rerr := s.runWrite(ctx, s.scripts.seal, []string{k.meta, k.outputs, k.failures}, s.now().UnixMilli())
	res, err := cmd.Int()
	if err = cmp.Or(err, rerr); err != nil {
		return false, s.scriptErr(jobID, err)
	}
	return res == 1, nil
}

// ChunkState is what Pending reads about a job before a chunk of its events
// runs.
type ChunkState struct {
	// State is the job's state.
	State State
	// Done reports, per event ID asked for, whether it already has an
	// output.
	Done []bool
	// Created and Deadline are those of the job.
	Created, Deadline time.Time
	// EventTimeout is the job's Spec.EventTimeout (0: none given).
	EventTimeout time.Duration
}

// Pending returns the job's state and times and, for each of eventIDs,
// whether it already has an output, in one round trip: a redelivered chunk
// skips the events already done.
func (s *Store) Pending(ctx context.Context, jobID string, eventIDs []string) (ChunkState, error) {
	if err := ValidateJobID(jobID); err != nil {
		return ChunkState{}, err
	}
	k := keysOf(s.cfg.Namespace, jobID)
	res, err := s.scripts.pending.Run(ctx, s.client, []string{k.meta, k.outputs}, stringArgs(eventIDs)...).Slice()
	if err != nil {
		return ChunkState{}, s.scriptErr(jobID, err)
	}
	if len(res) != 5 {
		return ChunkState{}, fmt.Errorf("%w: pending script returned %d values, want 5", ErrInternal, len(res))
	}
	text := func(v any) string { t, _ := v.(string); return t }
	flags := text(res[1])
	etimeout, _ := strconv.ParseInt(text(res[4]), 10, 64)
	c := ChunkState{State: State(text(res[0])), Done: make([]bool, len(eventIDs)),
		Created: unixMilli(text(res[2])), Deadline: unixMilli(text(res[3])), EventTimeout: time.Duration(max(etimeout, 0)) * time.Millisecond}
	for i := range c.Done {
		c.Done[i] = i < len(flags) && flags[i] == '1'
	}
	return c, nil
}

// unixMilli parses Unix ms; "" or garbage is the zero time.
func unixMilli(v string) time.Time {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return time.UnixMilli(n)
	}
	return time.Time{}
}

// Write records r, the outcomes of a chunk of events, and checks completion,
// in one atomic round trip. Every event ID must be registered with the job:
// one that is not (ErrUnknownEvent) rejects the whole call before anything
// is written. Outputs replace an earlier failure of their event; a failure
// is recorded only for an event without output; an event written twice
// (two deliveries that ran at once) counts once and keeps the last output
// written before the job is claimed. Exactly one write of a job reports
// WriteResult.Completed, or one Seal; so does every retry of that write
// (same Record.ID) while the job is complete.
//
// With Config.ReplicaAcks, an error wrapping ErrNotReplicated means the
// master applied the write but too few replicas acknowledged it in time: the
// WriteResult is still the write's, and the caller should retry the Write
// until it succeeds.
func (s *Store) Write(ctx context.Context, jobID string, r Record) (WriteResult, error) {
	if err := ValidateJobID(jobID); err != nil {
		return WriteResult{}, err
	}
	if len(r.ID) > maxEventIDLen {
		return WriteResult{}, fmt.Errorf("%w: Record.ID is %d bytes (want at most %d)", ErrInvalid, len(r.ID), maxEventIDLen)
	}
	id := r.ID
	if id == "" {
		id = writeID(r.Outputs, r.Failures)
	}
	// The script checks that every ID is registered: a caller-given one in
	// the events set, a generated one below meta.seq, for which the largest
	// stands. Here: the form of each, and the order the script wants (the
	// caller-given IDs first, counted).
	gen := generatedMax{}
	args := make([]any, 8, 8+2*len(r.Outputs)+4*len(r.Failures))
	givenOut, givenFail, largest := 0, 0, 0
	var generatedPairs []any
	for _, o := range r.Outputs {
		if err := s.CheckOutput(o.EventID, o.Value); err != nil {
			return WriteResult{}, err
		}
		given, err := gen.classify(jobID, o.EventID)
		if err != nil {
			return WriteResult{}, err
		}
		largest = max(largest, len(o.Value))
		if given {
			args = append(args, o.EventID, o.Value)
			givenOut++
		} else {
			generatedPairs = append(generatedPairs, o.EventID, o.Value)
		}
	}
	args = append(args, generatedPairs...)
	generatedPairs = generatedPairs[:0]
	for _, f := range r.Failures {
		given, err := gen.classify(jobID, f.EventID)
		if err != nil {
			return WriteResult{}, err
		}
		b, err := json.Marshal(f)
		if err != nil {
			return WriteResult{}, fmt.Errorf("%w: encode failure of event %q: %w", ErrInvalid, f.EventID, err)
		}
		// The payload is kept for Retry within the size cap of an event.
		payload := f.Payload
		if len(payload) > s.cfg.MaxEventSize {
			payload = nil
		}
		if given {
			args = append(args, f.EventID, b, payload, failureOrder(f.Time))
			givenFail++
		} else {
			generatedPairs = append(generatedPairs, f.EventID, b, payload, failureOrder(f.Time))
		}
	}
	args = append(args, generatedPairs...)
	if len(r.Failures) == 0 && len(r.Outputs) > 0 && s.cfg.ReplicaAcks == 0 {
		res, err := s.fastWrite(ctx, jobID, "w:"+id, args[8:], givenOut, gen, largest)
		if !errors.Is(err, errFastConflict) {
			return res, err
		}
	}
	args[0], args[1], args[2], args[3] = s.now().UnixMilli(), "w:"+id, gen.limit, gen.id
	args[4], args[5], args[6], args[7] = len(r.Outputs), givenOut, givenFail, largest
	k := keysOf(s.cfg.Namespace, jobID)
	cmd, rerr := s.runWrite(ctx, s.scripts.write, []string{k.meta, k.outputs, k.failures, k.events, k.payloads, k.errors}, args...)
	res, err := cmd.Int()
	if err != nil {
		return WriteResult{}, s.scriptErr(jobID, cmp.Or(rerr, err))
	}
	// Applied on the master; with rerr (ErrNotReplicated) not yet durable.
	return WriteResult{Completed: res == 1, Skipped: res == -1}, rerr
}

// Cancel cancels a job that is open, running or complete: workers skip its
// remaining events, the coordinator does not collect it, and its keys get
// the job's retention from now (with NoRetention its data is deleted at
// once). Cancelling a cancelled job does nothing; cancelling a job that is
// being or has been collected is an error wrapping ErrState.
func (s *Store) Cancel(ctx context.Context, jobID string) error {
	if err := ValidateJobID(jobID); err != nil {
		return err
	}
	cmd, rerr := s.runWrite(ctx, s.scripts.cancel, keysOf(s.cfg.Namespace, jobID).all(), s.now().UnixMilli(), s.cfg.Tombstone.Milliseconds())
	if err := cmp.Or(cmd.Err(), rerr); err != nil {
		return s.scriptErr(jobID, err)
	}
	s.unindex(ctx, jobID)
	return nil
}

// Stall records why the events of a job are not being processed (no worker
// has a handler for its kind, say); Status.Stalled shows it until the next
// output is written. A job that is not accepting events is left alone.
func (s *Store) Stall(ctx context.Context, jobID, reason string) error {
	if err := ValidateJobID(jobID); err != nil {
		return err
	}
	if err := s.scripts.stall.Run(ctx, s.client, []string{keysOf(s.cfg.Namespace, jobID).meta}, reason).Err(); err != nil {
		return s.scriptErr(jobID, err)
	}
	return nil
}

// Status returns a consistent snapshot of a job.
func (s *Store) Status(ctx context.Context, jobID string) (Status, error) {
	if err := ValidateJobID(jobID); err != nil {
		return Status{}, err
	}
	k := keysOf(s.cfg.Namespace, jobID)
	var meta *redis.MapStringStringCmd
	var done, failed, retrying, kept *redis.IntCmd
	cmds, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HGetAll(ctx, k.meta)
		done = p.HLen(ctx, k.outputs)
		failed = p.HLen(ctx, k.failures)
		retrying = p.HLen(ctx, k.errors)
		kept = p.HLen(ctx, k.payloads)
		return nil
	})
	if err != nil {
		return Status{}, redisErr("status of job "+jobID, txErr(cmds, err))
	}
	m := meta.Val()
	if len(m) == 0 {
		return Status{}, notFound(jobID)
	}
	num := func(f string) int64 { n, _ := strconv.ParseInt(m[f], 10, 64); return n }
	st := Status{
		ID: jobID, Kind: m["kind"], Name: m["name"], State: State(m["state"]),
		Sealed: m["sealed"] == "1", Total: num("n"), Done: done.Val(), Failed: failed.Val(),
		Created: unixMilli(m["created"]), Deadline: unixMilli(m["deadline"]), Completed: unixMilli(m["completed"]),
		Retention: time.Duration(num("retention")) * time.Millisecond,
		ChunkSize: int(num("chunk")), MaxRetry: int(num("maxretry")), FailurePolicy: FailurePolicy(m["policy"]),
		EventTimeout: time.Duration(num("etimeout")) * time.Millisecond,
		Token:        num("token"), Claimed: unixMilli(m["claimed"]), Finished: unixMilli(m["finished"]), Error: m["error"],
		Stalled: m["stalled"], Retained: m["retained"] == "1",
		RetainedFor: time.Duration(num("keptfor")) * time.Millisecond,
		Retrying:    retrying.Val(), Retried: int(num("retries")), Kept: kept.Val(),
	}
	if !st.State.accepting() {
		// Collected, committed or cancelled: no attempt is retried any
		// more. The notes stay (Attempts, for inspect --missing).
		st.Retrying = 0
	}
	if text := m["lasterr"]; text != "" && !st.State.Committed() {
		var last lastError
		if json.Unmarshal([]byte(text), &last) == nil {
			st.LastError = Failure{EventID: last.Event, Reason: last.Reason, Attempts: last.Attempts, Time: last.At}
		}
	}
	if st.State.Terminal() && !st.Retained {
		// Tombstone: the data is gone, the counts are those committed.
		st.Done = num("noutputs")
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
		m, err := s.client.HMGet(ctx, k.meta, "seq", "state", "retained").Result()
		if err != nil {
			yield("", redisErr("missing events of job "+jobID, err))
			return
		}
		seqText, _ := m[0].(string)
		state, _ := m[1].(string)
		retained, _ := m[2].(string)
		if state == "" {
			yield("", notFound(jobID))
			return
		}
		if State(state).Terminal() && retained != "1" {
			yield("", fmt.Errorf("%w: job %s is %s and its data is deleted", ErrNotRetained, jobID, state))
			return
		}
		seq, _ := strconv.ParseInt(seqText, 10, 64)
		// filter yields the missing IDs among ids; false means stop.
		filter := func(ids []string) bool {
			return s.yieldMissing(ctx, k, "missing events of job "+jobID, ids, yield)
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
				yield("", redisErr("missing events of job "+jobID, err))
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

// yieldMissing yields, in order, the IDs among ids of the job (keys k) that
// have neither an output nor a failure (missing.lua), in one round trip. It
// returns false when the sequence must stop: the consumer is gone, or the
// read failed (an error about what, yielded).
func (s *Store) yieldMissing(ctx context.Context, k jobKeys, what string, ids []string, yield func(string, error) bool) bool {
	if len(ids) == 0 {
		return true
	}
	res, err := s.scripts.missing.Run(ctx, s.client, []string{k.outputs, k.failures}, stringArgs(ids)...).StringSlice()
	if err != nil {
		yield("", redisErr(what, err))
		return false
	}
	for _, id := range res {
		if !yield(id, nil) {
			return false
		}
	}
	return true
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

// SetFinalLastError gives the status of a committed job (done, partial,
// failed) its latest failure for good as LastError: of the job's failures
// (as Failures yields them), the one recorded last, ties broken by event
// ID. (Status leaves it zero for a committed job: the note of its last
// failed attempt may describe an attempt retried since, that failed again,
// for good, or succeeded.) A committed job without failures (done, or its
// data gone) gets no LastError. Other states are left alone. It reads the
// latest failure Write recorded in the job's meta (lastfail, see
// write.lua), and every failure of the job when that one is not known (a
// job written by an older version, or whose latest failure an output
// replaced): the CLI's status and inspect and the HTTP API's job call it,
// so that they agree.
func (s *Store) SetFinalLastError(ctx context.Context, st *Status) error {
	if !st.State.Committed() || st.Failed == 0 {
		return nil
	}
	last, ok, err := s.recordedLastFailure(ctx, st.ID)
	if err != nil {
		return err
	}
	if ok {
		st.LastError = last
		return nil
	}
	st.LastError = Failure{}
	for f, err := range s.Failures(ctx, st.ID) {
		if err != nil {
			return err
		}
		last := st.LastError
		if last.EventID == "" || f.Time.After(last.Time) || f.Time.Equal(last.Time) && f.EventID > last.EventID {
			st.LastError = Failure{EventID: f.EventID, Reason: f.Reason, Attempts: f.Attempts, Time: f.Time}
		}
	}
	return nil
}

// failureOrderLen is the length of a failureOrder key.
const failureOrderLen = 21

// failureOrder is the order key of a failure recorded at t, in the job's
// meta.lastfail (write.lua): fixed-width decimal seconds since year 0 and
// nanoseconds, so that keys sort byte by byte as their times do (to the
// nanosecond, as Failure.Time is encoded) for every time the JSON encoding
// of a Failure accepts (years 0 to 9999).
func failureOrder(t time.Time) string {
	const year0 = 62167219200 // seconds from 0000-01-01 to the Unix epoch
	return fmt.Sprintf("%012d%09d", t.Unix()+year0, t.Nanosecond())
}

// recordedLastFailure returns the latest failure of the job as Write
// recorded it in meta.lastfail ("<failureOrder key> <event ID>"), read
// from the failures hash; ok is false when that is not known: no field (a
// job written by an older version), or its event no longer failed at that
// time (an output replaced the failure).
func (s *Store) recordedLastFailure(ctx context.Context, jobID string) (last Failure, ok bool, err error) {
	k := keysOf(s.cfg.Namespace, jobID)
	text, err := s.client.HGet(ctx, k.meta, "lastfail").Result()
	if errors.Is(err, redis.Nil) {
		return Failure{}, false, nil
	}
	if err != nil {
		return Failure{}, false, redisErr("last failure of job "+jobID, err)
	}
	key, id, found := strings.Cut(text, " ")
	if !found || len(key) != failureOrderLen || id == "" {
		return Failure{}, false, nil
	}
	item, err := s.hashes.HashGet(ctx, k.failures, id)
	if err != nil {
		return Failure{}, false, err
	}
	var f Failure
	if !item.HasValue() || item.Decode(&f) != nil || failureOrder(f.Time) != key {
		return Failure{}, false, nil // the scan reports a failure that does not decode
	}
	return Failure{EventID: id, Reason: f.Reason, Attempts: f.Attempts, Time: f.Time}, true, nil
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
				yield(Failure{}, fmt.Errorf("%w: failure of event %q in job %s does not decode: %w", ErrInternal, f.Field, jobID, err))
				return
			}
			fl.EventID = f.Field
			if !yield(fl, nil) {
				return
			}
		}
	}
}

// scriptErr maps the error reply of a script to a sentinel error; other
// errors are classified by redisErr.
func (s *Store) scriptErr(jobID string, err error) error {
	if errors.Is(err, ErrNotReplicated) || errors.Is(err, cache.ErrUnavailable) {
		return err
	}
	msg := replyCode(err.Error())
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
	case msg == "TOOLATE":
		return fmt.Errorf("%w: job %s: the request to create it arrived after its deadline (want a deadline longer than the submission takes)", ErrState, jobID)
	case strings.HasPrefix(msg, "UNKNOWN "):
		return unknownEvent(jobID, msg[8:])
	case strings.HasPrefix(msg, "OUTCOME "):
		return fmt.Errorf("%w: job %s: %s", ErrInvalid, jobID, msg[8:])
	case msg == "UNSEALED":
		return fmt.Errorf("%w: job %s was never sealed: its events are not all known (submit them again as a new job)", ErrNotRetriable, jobID)
	case msg == "NOTHING":
		return fmt.Errorf("%w: job %s has no failed or missing event: every event has an output (a replay reduces it again)", ErrNotRetriable, jobID)
	case strings.HasPrefix(msg, "NOPAYLOAD "):
		var todo, kept int64
		_, _ = fmt.Sscan(msg[10:], &todo, &kept)
		return fmt.Errorf("%w: job %s has %d failed or missing events, and the payloads of only %d are kept (an event that never ran, or that failed without its payload kept, cannot run again): submit the others again as a new job", ErrNotRetriable, jobID, todo, kept)
	}
	return redisErr("job "+jobID, err)
}

func notFound(jobID string) error {
	return fmt.Errorf("%w: %s (never opened, expired or deleted)", ErrJobNotFound, jobID)
}

// unknownEvent is the error of an event ID never registered with the job.
func unknownEvent(jobID, eventID string) error {
	return fmt.Errorf("%w: event ID %q in job %s (want an ID registered with Open or Add)", ErrUnknownEvent, eventID, jobID)
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
