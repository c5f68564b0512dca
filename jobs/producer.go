package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/workoutput"
)

// Task types fanin enqueues.
const (
	// TypeEvents is the Asynq task type of a chunk of events; a Mux
	// handles it.
	TypeEvents = "fanin:events"
	// TypeCollect is the Asynq task type that hands a complete job to the
	// coordinator; its payload is the job ID and its task ID is
	// "collect:<job ID>", so a job has at most one collect task at a time.
	TypeCollect = "fanin:collect"
)

// Defaults of ProducerConfig.
const (
	// DefaultQueue is Asynq's default queue, served by an asynq.Server
	// without Config.Queues: the default queue of event chunks.
	DefaultQueue = "default"
	// DefaultCollectQueue is the default queue of collect tasks, served by
	// the coordinator only: a worker pool serving it would take collect
	// tasks it cannot handle.
	DefaultCollectQueue = "fanin-collect"
	// DefaultChunkSize is the number of events per task, chosen by
	// BenchmarkChunkSize (docs/BENCHMARKS.md).
	DefaultChunkSize = 500
	// MaxChunkSize bounds ProducerConfig.ChunkSize.
	MaxChunkSize = 10_000
	// DefaultMaxChunkBytes caps the payload of one task; a chunk ends
	// early when the next event would exceed it.
	DefaultMaxChunkBytes = 4 << 20
	// DefaultConcurrency is the number of goroutines enqueuing chunks
	// inside one Submit or Add call.
	DefaultConcurrency = 8
	// DefaultMaxRetry is how often a failing event is retried when the
	// Spec says nothing.
	DefaultMaxRetry = 3
	// DefaultTimeout is how long one chunk task may run (Asynq's default).
	DefaultTimeout = 30 * time.Minute
	// DefaultReplicaWait bounds the retries of one step of a submission
	// that Redis or its replicas do not acknowledge.
	DefaultReplicaWait = outageRide
)

// ProducerConfig configures a Producer. Every zero field takes the default
// documented on it; a ProducerConfig is never modified.
type ProducerConfig struct {
	// Queue is the Asynq queue of event chunks. Default DefaultQueue.
	Queue string
	// CollectQueue is the Asynq queue of collect tasks. Default
	// DefaultCollectQueue.
	CollectQueue string
	// ChunkSize is the maximum number of events per task, at most
	// MaxChunkSize. Default DefaultChunkSize (500).
	ChunkSize int
	// MaxChunkBytes caps the payload bytes of one task. Default
	// DefaultMaxChunkBytes (4 MiB).
	MaxChunkBytes int
	// Concurrency is the number of goroutines that enqueue the chunks of
	// one call. Default DefaultConcurrency (8).
	Concurrency int
	// MaxRetry applies to jobs whose Spec.MaxRetry is 0. Default
	// DefaultMaxRetry (3).
	MaxRetry int
	// Timeout is the Asynq timeout of one chunk task. Default
	// DefaultTimeout (30 min).
	Timeout time.Duration
	// ReplicaWait bounds how long one step of a submission (creating the
	// job, adding events, sealing it, the wait for the queue's replicas)
	// is retried while Redis does not acknowledge it: a server that does
	// not answer (cache.ErrUnavailable), or, with
	// workoutput.Config.ReplicaAcks, too few replicas (replicas missing, or
	// still making their first sync: workoutput.ErrNotReplicated; the
	// write is applied on the master, not yet acknowledged). Every step is
	// idempotent, so a retry is safe. Past the bound the step's error is
	// returned (and Submit cancels the job). Default DefaultReplicaWait
	// (30 s).
	ReplicaWait time.Duration
	// OnRetry, when set, is called each time a step of a submission failed
	// for want of an acknowledgement and is about to be retried (what names
	// the step, attempt counts from 1), so that a command line can show
	// that it waits. It must not block.
	OnRetry func(ctx context.Context, what string, attempt int, err error)
}

func (c ProducerConfig) withDefaults() (ProducerConfig, error) {
	if c.ChunkSize < 0 || c.MaxChunkBytes < 0 || c.Concurrency < 0 || c.MaxRetry < 0 || c.Timeout < 0 || c.ReplicaWait < 0 {
		return c, fmt.Errorf("%w: ProducerConfig has a negative ChunkSize, MaxChunkBytes, Concurrency, MaxRetry, Timeout or ReplicaWait (want >= 0, 0 means the default)", ErrInvalid)
	}
	if c.ChunkSize > MaxChunkSize {
		return c, fmt.Errorf("%w: ProducerConfig.ChunkSize %d (want at most %d, MaxChunkSize)", ErrInvalid, c.ChunkSize, MaxChunkSize)
	}
	if strings.TrimSpace(c.Queue) == "" {
		c.Queue = DefaultQueue
	}
	if strings.TrimSpace(c.CollectQueue) == "" {
		c.CollectQueue = DefaultCollectQueue
	}
	c.ChunkSize = cmp.Or(c.ChunkSize, DefaultChunkSize)
	c.MaxChunkBytes = cmp.Or(c.MaxChunkBytes, DefaultMaxChunkBytes)
	c.Concurrency = cmp.Or(c.Concurrency, DefaultConcurrency)
	c.MaxRetry = cmp.Or(c.MaxRetry, DefaultMaxRetry)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.ReplicaWait = cmp.Or(c.ReplicaWait, DefaultReplicaWait)
	return c, nil
}

// ride runs fn, one step of a submission, until Redis acknowledges it or
// ReplicaWait has passed (see untilAvailable), telling OnRetry of each
// retry.
func (p *Producer) ride(ctx context.Context, what string, fn func() error) error {
	attempt := 0
	return untilAvailable(ctx, p.cfg.ReplicaWait, func() error {
		err := fn()
		if err != nil && ctx.Err() != nil {
			// The caller stopped (a signal, a timeout): not an outage to
			// ride out or to report as one; the cause says why.
			return fmt.Errorf("jobs: %s: stopped: %w", what, context.Cause(ctx))
		}
		if err != nil && isOutage(err) && p.cfg.OnRetry != nil {
			attempt++
			p.cfg.OnRetry(ctx, what, attempt, err)
		}
		return err
	})
}

// Event is one unit of work of a job.
type Event struct {
	// ID identifies the event within its job. Empty means generate one
	// (see workoutput.GeneratedID); given IDs must be unique within the
	// job and may not start with "#".
	ID string
	// Payload is the event's input, handed to the handler as is (JSON for
	// typed handlers).
	Payload []byte
}

// JSONEvent returns an Event whose payload is v encoded as JSON.
func JSONEvent(id string, v any) (Event, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Event{}, fmt.Errorf("%w: encode event %q: %v", ErrInvalid, id, err)
	}
	return Event{ID: id, Payload: b}, nil
}

// Producer submits jobs: it registers their events with the store and
// enqueues them as Asynq tasks, several events per task, through Asynq's
// public client API. It is safe for concurrent use.
type Producer struct {
	store   *workoutput.Store
	client  *asynq.Client
	handoff handoff
	cfg     ProducerConfig
}

// NewProducer returns a Producer that enqueues through client (which it does
// not close) and records jobs in store.
func NewProducer(client redis.UniversalClient, store *workoutput.Store, cfg ProducerConfig) (*Producer, error) {
	if client == nil || store == nil {
		return nil, fmt.Errorf("%w: NewProducer needs a redis client and a store, got client %v, store %v", ErrInvalid, client != nil, store != nil)
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ac := asynq.NewClientFromRedisClient(client)
	return &Producer{store: store, client: ac, handoff: handoff{client: ac, queue: c.CollectQueue, store: store}, cfg: c}, nil
}

// Submit creates a sealed job of events and enqueues them, and returns the
// job ID. The job completes when every event has an output or a failure; a
// job of 0 events completes at once. Bad input (an oversize event, a
// duplicate or malformed event ID, too many events, an invalid Spec) is
// rejected before anything is written.
//
// Redis being unavailable is ridden out for a while (every step is
// idempotent, so it is retried). If the job cannot be created or its events
// enqueued, Submit cancels the job and returns the error, which says whether
// the cancel worked; a job whose cancel also failed fails at its deadline
// with its events missing.
func (p *Producer) Submit(ctx context.Context, spec workoutput.Spec, events []Event) (string, error) {
	if spec.ID == "" {
		spec.ID = workoutput.NewJobID()
	}
	given, generated, err := p.split(events)
	if err != nil {
		return "", err
	}
	spec = p.fill(spec)
	ids := make([]string, len(given))
	for i, e := range given {
		ids[i] = e.ID
	}
	job, err := p.open(ctx, spec, workoutput.Batch{IDs: ids, Generated: len(generated)}, true)
	if err != nil {
		return "", err
	}
	if job.Completed {
		_ = p.handoff.completed(ctx, job.ID) // the job is safe either way: see handoff
		return job.ID, nil
	}
	if err := p.enqueue(ctx, job.ID, spec.Kind, spec.MaxRetry, given, generated, 0); err != nil {
		return "", p.abandon(ctx, job.ID, err)
	}
	return job.ID, nil
}

// open creates the job, riding out an outage: a retry of Open with the same
// spec is recognised as the same request. If the outcome stays unknown, the
// job, which may exist, is cancelled.
func (p *Producer) open(ctx context.Context, spec workoutput.Spec, b workoutput.Batch, seal bool) (workoutput.Job, error) {
	var job workoutput.Job
	err := p.ride(ctx, "create job "+spec.ID, func() (err error) {
		job, err = p.store.Open(ctx, spec, b, seal)
		return err
	})
	if err != nil && (isOutage(err) || ctx.Err() != nil) { // the job may exist
		return job, p.abandon(ctx, spec.ID, err)
	}
	return job, err
}

// abandonRide bounds the retries of the cancel of a failed submission.
const abandonRide = 5 * time.Second

// abandon cancels jobID after err made its submission fail, and returns err
// with what became of the job.
func (p *Producer) abandon(ctx context.Context, jobID string, err error) error {
	ctx = context.WithoutCancel(ctx)
	// A short ride: the cancel is applied on the master even when its
	// replicas do not acknowledge it, and the caller waited long enough.
	cerr := untilAvailable(ctx, min(p.cfg.ReplicaWait, abandonRide), func() error { return p.store.Cancel(ctx, jobID) })
	switch {
	case cerr == nil:
		return fmt.Errorf("%w (job %s was cancelled)", err, jobID)
	case errors.Is(cerr, workoutput.ErrJobNotFound):
		return fmt.Errorf("%w (job %s was not created)", err, jobID)
	case errors.Is(cerr, workoutput.ErrNotReplicated):
		return fmt.Errorf("%w (job %s was cancelled on its master; its replicas had not acknowledged the cancel yet: if the master fails over before they do, the job fails at its deadline)", err, jobID)
	}
	return fmt.Errorf("%w; cancelling job %s failed too, so it fails at its deadline: %w", err, jobID, cerr)
}

// Open creates an unsealed job for a producer that does not know its events
// up front: add them with Job.Add in as many calls as needed, then Job.Seal.
// A job that is never sealed fails at its deadline (or ends partial under
// PolicyContinue), with a reason that says so.
func (p *Producer) Open(ctx context.Context, spec workoutput.Spec) (*Job, error) {
	if spec.ID == "" {
		spec.ID = workoutput.NewJobID()
	}
	spec = p.fill(spec)
	job, err := p.open(ctx, spec, workoutput.Batch{}, false)
	if err != nil {
		return nil, err
	}
	return &Job{p: p, id: job.ID, kind: spec.Kind, maxRetry: spec.MaxRetry}, nil
}

// Resume returns a handle on an existing job, to add events from another
// process (Add fails with ErrSealed once the job is sealed) or to seal it.
func (p *Producer) Resume(ctx context.Context, jobID string) (*Job, error) {
	st, err := p.store.Status(ctx, jobID)
	if err != nil {
		return nil, err
	}
	return &Job{p: p, id: jobID, kind: st.Kind, maxRetry: st.MaxRetry}, nil
}

// fill applies the producer's defaults to spec: a MaxRetry of 0 is the
// producer's, workoutput.NoRetry none (recorded as 0).
func (p *Producer) fill(spec workoutput.Spec) workoutput.Spec {
	spec.ChunkSize = p.cfg.ChunkSize
	switch spec.MaxRetry {
	case 0:
		spec.MaxRetry = p.cfg.MaxRetry
	case workoutput.NoRetry:
		spec.MaxRetry = 0
	}
	return spec
}

// split checks event sizes and separates events with a given ID from those
// whose ID is generated. It copies nothing when all events are of one sort.
func (p *Producer) split(events []Event) (given, generated []Event, err error) {
	n := 0
	for _, e := range events {
		if err := p.store.CheckEvent(e.ID, e.Payload); err != nil {
			return nil, nil, err
		}
		if e.ID != "" {
			n++
		}
	}
	switch n {
	case 0:
		return nil, events, nil
	case len(events):
		return events, nil, nil
	}
	given = make([]Event, 0, n)
	generated = make([]Event, 0, len(events)-n)
	for _, e := range events {
		if e.ID != "" {
			given = append(given, e)
		} else {
			generated = append(generated, e)
		}
	}
	return given, generated, nil
}

// span is a run of events that travels as one task.
type span struct {
	events    []Event
	generated bool
	first     int64
}

// plan cuts events into spans of at most ChunkSize events and MaxChunkBytes
// payload bytes.
func (p *Producer) plan(spans []span, events []Event, generated bool, first int64) []span {
	start, bytes := 0, 0
	for i, e := range events {
		size := len(e.Payload) + len(e.ID) + 8
		if i > start && (i-start == p.cfg.ChunkSize || bytes+size > p.cfg.MaxChunkBytes) {
			spans = append(spans, span{events[start:i], generated, first + int64(start)})
			start, bytes = i, 0
		}
		bytes += size
	}
	if start < len(events) {
		spans = append(spans, span{events[start:], generated, first + int64(start)})
	}
	return spans
}

// enqueue sends given and generated events as chunk tasks, Concurrency
// chunks at a time, and returns the first error.
func (p *Producer) enqueue(ctx context.Context, jobID, kind string, maxRetry int, given, generated []Event, first int64) error {
	spans := p.plan(nil, given, false, 0)
	spans = p.plan(spans, generated, true, first)
	return p.send(ctx, jobID, kind, maxRetry, spans)
}

// send enqueues spans as chunk tasks, Concurrency chunks at a time, and
// waits for the queue's replicas; it returns the first error.
func (p *Producer) send(ctx context.Context, jobID, kind string, maxRetry int, spans []span) error {
	uid, err := uuid.Parse(jobID)
	if err != nil {
		return fmt.Errorf("%w: job ID %q: %v", ErrInvalid, jobID, err)
	}
	opts := []asynq.Option{asynq.Queue(p.cfg.Queue), asynq.MaxRetry(maxRetry), asynq.Timeout(p.cfg.Timeout)}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan span)
	var wg sync.WaitGroup
	for range min(p.cfg.Concurrency, len(spans)) {
		wg.Go(func() {
			var buf []byte
			for s := range work {
				buf = encodeChunk(buf[:0], uid, kind, s.generated, s.first, s.events)
				if _, err := p.client.EnqueueContext(ctx, asynq.NewTask(TypeEvents, buf), opts...); err != nil {
					cancel(fmt.Errorf("jobs: enqueue chunk of %d events of job %s: %w", len(s.events), jobID, err))
				}
			}
		})
	}
send:
	for _, s := range spans {
		select {
		case work <- s:
		case <-ctx.Done():
			break send
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	// With workoutput.Config.ReplicaAcks, the tasks are as durable as the
	// job's own writes before the call returns.
	if err := p.ride(ctx, "replicate the chunks of job "+jobID, func() error {
		return p.store.SyncReplicas(ctx, asynqQueueKey(p.cfg.Queue))
	}); err != nil {
		return fmt.Errorf("jobs: %d chunks of job %s enqueued, but not replicated within %v (ProducerConfig.ReplicaWait): %w", len(spans), jobID, p.cfg.ReplicaWait, err)
	}
	return nil
}

// Job is a handle on an unsealed job, for adding events in several calls.
type Job struct {
	p        *Producer
	id       string
	kind     string
	maxRetry int
}

// ID returns the job ID.
func (j *Job) ID() string { return j.id }

// Add registers events with the job and enqueues them. The registration is
// all or nothing: a duplicate event ID (across calls too), a sealed job or
// too many events rejects the whole call; it rides out an outage, retried
// under one idempotency key (workoutput.Batch.Key), so a lost reply never
// registers the events twice. Events may be processed before the job is
// sealed. If enqueuing fails part way, the events stay registered but some
// never run: cancel the job (or let it fail at its deadline).
func (j *Job) Add(ctx context.Context, events ...Event) error {
	given, generated, err := j.p.split(events)
	if err != nil {
		return err
	}
	ids := make([]string, len(given))
	for i, e := range given {
		ids[i] = e.ID
	}
	batch := workoutput.Batch{IDs: ids, Generated: len(generated), Key: uuid.NewString()}
	var first int64
	err = j.p.ride(ctx, "add events to job "+j.id, func() (err error) {
		first, err = j.p.store.Add(ctx, j.id, batch)
		return err
	})
	if err != nil {
		return err
	}
	return j.p.enqueue(ctx, j.id, j.kind, j.maxRetry, given, generated, first)
}

// Abandon cancels the job after its submission failed with cause (an Add or
// Seal that failed for good), and returns cause saying what became of the
// job: cancelled, or, when the cancel failed too, left to fail at its
// deadline. Producer.Submit does the same for its own failures.
func (j *Job) Abandon(ctx context.Context, cause error) error { return j.p.abandon(ctx, j.id, cause) }

// Seal fixes the job's events: no Add succeeds afterwards, and the job
// completes when all events added so far have an output or a failure (at
// once if they already do, or if there are none), when Seal hands it to the
// coordinator. Call it after every Add has returned. Sealing twice does
// nothing. An error means the job is not known to be sealed (it is
// retried through a short outage first): seal it again, or it fails at its
// deadline as never sealed.
func (j *Job) Seal(ctx context.Context) error {
	// If this process dies between a Seal that completes the job and the
	// hand-off, a sweep collects the job SweepDelay later.
	_ = j.p.store.MarkDue(ctx, j.id)
	var completed bool
	err := j.p.ride(ctx, "seal job "+j.id, func() (err error) {
		completed, err = j.p.store.Seal(ctx, j.id)
		return err
	})
	if err != nil {
		return err
	}
	if completed {
		_ = j.p.handoff.completed(ctx, j.id) // the job is safe either way: see handoff
	}
	return nil
}
