package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// TestSubmitWaitsForQueueReplicas: with ReplicaAcks 1 on a cluster, Submit
// returns only once the replica of the master holding the Asynq queue has
// the chunks. With that replica stopped, Submit fails naming the
// replication and cancels the job (whose own master and replica, and those
// of the job index, are fine);
// once it is back, a Submit succeeds.
func TestSubmitWaitsForQueueReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ReplicasPerMaster: 1})
	client := cl.Client(t)
	store := newStore(t, client, workoutput.Config{Namespace: "qr:", ReplicaAcks: 1, ReplicaTimeout: 200 * time.Millisecond})
	// A queue whose master holds neither the job index nor the job.
	indexMaster := cl.MasterOf(t, "qr:jobs")
	queue := ""
	for i := 0; queue == "" || cl.MasterOf(t, asynqQueueKey(queue)) == indexMaster; i++ {
		queue = fmt.Sprint("qr-events-", i)
	}
	var retries atomic.Int64
	p, err := NewProducer(client, store, ProducerConfig{Queue: queue, CollectQueue: "qr-collect", ReplicaWait: time.Second,
		OnRetry: func(context.Context, string, int, error) { retries.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	queueMaster := cl.MasterOf(t, asynqQueueKey(queue))
	// A job ID whose slot lives on another master.
	var id string
	for id == "" || cl.MasterOf(t, "{"+id+"}") == queueMaster {
		id = workoutput.NewJobID()
	}
	events := []Event{{Payload: []byte(`1`)}, {Payload: []byte(`2`)}}

	replica := cl.ReplicasOf(queueMaster)[0]
	replica.Pause(t)
	paused := true
	defer func() {
		if paused {
			replica.Resume(t)
		}
	}()
	_, err = p.Submit(ctx, workoutput.Spec{ID: id, Kind: "k"}, events)
	if !errors.Is(err, workoutput.ErrNotReplicated) || !strings.Contains(err.Error(), "enqueued, but not replicated") || retries.Load() == 0 {
		t.Fatalf("Submit with the queue's replica stopped: %v after %d retries; want ErrNotReplicated after retries for ReplicaWait", err, retries.Load())
	}
	if st, err := store.Status(ctx, id); err != nil || st.State != workoutput.StateCancelled {
		t.Fatalf("job after the failed Submit: %+v, %v; want cancelled", st, err)
	}
	// A replica that answers late (a first sync): Submit waits for it,
	// within ReplicaWait, and succeeds.
	waiting, err := NewProducer(client, store, ProducerConfig{Queue: queue, CollectQueue: "qr-collect", ReplicaWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(time.Second, func() { replica.Resume(t) })
	got, err := waiting.Submit(ctx, workoutput.Spec{Kind: "k"}, events)
	paused = false
	if err != nil {
		t.Fatalf("Submit while the queue's replica answered only after a second: %v; want it to wait, then succeed", err)
	}
	if st, err := store.Status(ctx, got); err != nil || st.State != workoutput.StateRunning || st.Total != 2 {
		t.Fatalf("job submitted after the resume: %+v, %v; want running with 2 events", st, err)
	}
}

// TestAbandonSaysWhenTheCancelIsNotReplicated: a submission that fails
// after its job was created cancels the job; when the master applies the
// cancel but its replica does not acknowledge it, the error says the job
// was cancelled on the master and what happens if the master fails over,
// not that the cancel failed.
func TestAbandonSaysWhenTheCancelIsNotReplicated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := redistest.StartServer(t, redistest.ServerOptions{})
	replica := redistest.StartReplica(t, master, redistest.ServerOptions{})
	client := master.Client(t)
	store := newStore(t, client, workoutput.Config{ReplicaAcks: 1, ReplicaTimeout: 100 * time.Millisecond})
	p, err := NewProducer(client, store, ProducerConfig{ReplicaWait: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	job, err := p.Open(ctx, workoutput.Spec{Kind: "k"})
	if err != nil {
		t.Fatal(err)
	}
	replica.Pause(t)
	defer replica.Resume(t)
	failed := errors.New("the submission failed")
	err = p.abandon(ctx, job.ID(), failed)
	if !errors.Is(err, failed) || !strings.Contains(err.Error(), "was cancelled on its master; its replicas had not acknowledged the cancel yet") {
		t.Fatalf("abandon with the replica stopped = %v; want the submission's error, saying the job was cancelled on its master", err)
	}
	if st, err := store.Status(ctx, job.ID()); err != nil || st.State != workoutput.StateCancelled {
		t.Fatalf("job after abandon: %+v, %v; want cancelled on the master", st, err)
	}
}

// TestRetryRunsWhenOnlyTheReplicasLag: a retry the master applied but its
// replica did not acknowledge within ReplicaWait still enqueues the events
// (a later call would find the job running and be refused, and the retry
// would be lost): the job runs again with its failed event on the queue,
// and the error says the replicas lag.
func TestRetryRunsWhenOnlyTheReplicasLag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	master := redistest.StartServer(t, redistest.ServerOptions{})
	replica := redistest.StartReplica(t, master, redistest.ServerOptions{})
	client := master.Client(t)
	// The job is set up through a patient store (a replica that has just
	// synced may take longer than 100 ms to acknowledge on a loaded
	// machine); the retry goes through an impatient one.
	setup := newStore(t, client, workoutput.Config{ReplicaAcks: 1, ReplicaTimeout: 3 * time.Second})
	store := newStore(t, client, workoutput.Config{ReplicaAcks: 1, ReplicaTimeout: 100 * time.Millisecond})
	job, err := setup.Open(ctx, workoutput.Spec{Kind: "k", Retention: time.Hour}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: "a", Value: []byte(`1`)}},
		Failures: []workoutput.Failure{{EventID: "b", Reason: "broken", Attempts: 4, Time: time.Now(), Payload: []byte(`2`)}}}); err != nil {
		t.Fatal(err)
	}
	c := newCoordinator(t, client, setup, CoordinatorConfig{})
	if err := c.Handle("k", Count()); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Collect(ctx, job.ID); err != nil || out.State != workoutput.StateFailed {
		t.Fatalf("Collect = %+v, %v; want failed", out, err)
	}
	p := newProducer(t, client, store, ProducerConfig{ReplicaWait: 300 * time.Millisecond})

	// The replica stops right after the retry's check, before it is
	// applied: the master applies it, the replica does not acknowledge.
	var paused atomic.Bool
	client.AddHook(beforePipeline(func(cmds []redis.Cmder) {
		for _, cmd := range cmds {
			if slices.Contains(cmd.Args(), any("apply")) && paused.CompareAndSwap(false, true) {
				replica.Pause(t)
			}
		}
	}))
	defer func() {
		if paused.Load() {
			replica.Resume(t)
		}
	}()
	res, err := p.Retry(ctx, job.ID)
	if !errors.Is(err, workoutput.ErrNotReplicated) {
		t.Fatalf("Retry with the replica stopped = %v; want an error wrapping ErrNotReplicated", err)
	}
	st, serr := store.Status(ctx, job.ID)
	if serr != nil || st.State != workoutput.StateRunning || st.Retried != 1 {
		t.Fatalf("job after the retry = %+v, %v; want running, retried once", st, serr)
	}
	// The answer is the master's: the events put back and the new deadline.
	if res.Events != 1 || res.Again || !res.Deadline.Equal(st.Deadline) {
		t.Fatalf("Retry's answer = %+v; want 1 event, not again, the job's new deadline %v", res, st.Deadline)
	}
	var chunks int
	tasks, err := asynq.NewInspectorFromRedisClient(client).ListPendingTasks(testQueue)
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if c, err := decodeChunk(task.Payload); err == nil && c.jobID == job.ID {
			chunks++
		}
	}
	if chunks != 1 {
		t.Fatalf("%d chunks of the job on the queue; want its failed event enqueued again", chunks)
	}
}

// beforePipeline is a hook that calls f with the commands of each pipeline
// before they are sent.
type beforePipeline func(cmds []redis.Cmder)

func (f beforePipeline) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (f beforePipeline) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (f beforePipeline) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		f(cmds)
		return next(ctx, cmds)
	}
}
