package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/workoutput"
)

// logBuffer is a log destination safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger returns a warn-level logger writing to b.
func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// waitLogged waits (at most a minute) until cond holds, failing the test
// with what and the log otherwise.
func waitLogged(t *testing.T, what string, log *logBuffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noArchived fails the test when a queue holds an archived task.
func noArchived(t *testing.T, client redis.UniversalClient, queues ...string) {
	t.Helper()
	insp := asynq.NewInspectorFromRedisClient(client)
	for _, q := range queues {
		if info, err := insp.GetQueueInfo(q); err == nil && info.Archived > 0 {
			tasks, _ := insp.ListArchivedTasks(q)
			t.Fatalf("queue %s archived %d tasks: %+v", q, info.Archived, tasks[0])
		}
	}
}

// TestWrongQueueChunkGivenToACoordinator: event chunks sent to the collect
// queue (a producer that used it as events queue) reach the coordinator,
// which hands them back to its EventsQueue with a warning; a worker pool
// then processes them and the job is collected. Nothing is archived.
func TestWrongQueueChunkGivenToACoordinator(t *testing.T) {
	t.Parallel()
	client := testRedis(t, false)
	store := newStore(t, client, workoutput.Config{})
	var logs logBuffer
	c := newCoordinator(t, client, store, CoordinatorConfig{
		Queue: collectQueue, EventsQueue: testQueue, TaskCheckInterval: 20 * time.Millisecond, Logger: logs.logger(),
	})
	if err := c.Handle("echo", Count()); err != nil {
		t.Fatal(err)
	}
	runCoordinator(t, c)
	p, err := NewProducer(client, store, ProducerConfig{Queue: collectQueue, CollectQueue: collectQueue, ChunkSize: 2, Timeout: 7 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	job, err := p.Submit(context.Background(), workoutput.Spec{Kind: "echo"}, []Event{{ID: "a", Payload: []byte(`1`)}, {ID: "b", Payload: []byte(`2`)}, {ID: "c", Payload: []byte(`3`)}})
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(client)
	waitLogged(t, "the two chunks on the events queue", &logs, func() bool {
		info, err := insp.GetQueueInfo(testQueue)
		return err == nil && info.Pending == 2
	})
	if n := strings.Count(logs.String(), `level=WARN msg="fanin: task on the wrong queue, handed back to its own" type=fanin:events`); n != 2 {
		t.Fatalf("%d hand-back warnings, want 2:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "from="+collectQueue+" to="+testQueue) {
		t.Fatalf("the warning does not name the queues:\n%s", logs.String())
	}
	// Handed back with the chunk's MaxRetry and its timeout.
	pending, err := insp.ListPendingTasks(testQueue)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range pending {
		if ti.MaxRetry != DefaultMaxRetry || ti.Timeout != 7*time.Minute {
			t.Fatalf("handed-back chunk: MaxRetry %d, Timeout %v; want %d and the producer's 7m", ti.MaxRetry, ti.Timeout, DefaultMaxRetry)
		}
	}
	mux, err := NewMux(client, store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		t.Fatal(err)
	}
	if err := HandleRaw(mux, "echo", func(_ context.Context, p []byte) ([]byte, error) { return p, nil }); err != nil {
		t.Fatal(err)
	}
	startPool(t, client, 2, mux)
	waitState(t, store, job, workoutput.StateDone)
	noArchived(t, client, testQueue, collectQueue)
}

// TestWrongQueueCollectTaskGivenToAWorker: a collect task on the events
// queue (a producer that used it as collect queue) reaches the worker's
// Mux, which hands it back to its CollectQueue with a warning; the
// coordinator then collects the job. A Mux served on its own collect queue
// cannot hand the task back: the task is retried, not archived.
func TestWrongQueueCollectTaskGivenToAWorker(t *testing.T) {
	t.Parallel()
	client := testRedis(t, false)
	store := newStore(t, client, workoutput.Config{})
	var logs logBuffer
	mux, err := NewMux(client, store, MuxConfig{CollectQueue: collectQueue, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	startPool(t, client, 2, mux)
	// A job of no event completes at once: its collect task goes to the
	// producer's (wrong) collect queue, the events queue.
	p, err := NewProducer(client, store, ProducerConfig{Queue: testQueue, CollectQueue: testQueue})
	if err != nil {
		t.Fatal(err)
	}
	job, err := p.Submit(context.Background(), workoutput.Spec{Kind: "echo"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(client)
	waitLogged(t, "the collect task on "+collectQueue, &logs, func() bool {
		ti, err := insp.GetTaskInfo(collectQueue, "collect:"+job)
		return err == nil && ti.State == asynq.TaskStatePending
	})
	if !strings.Contains(logs.String(), `level=WARN msg="fanin: task on the wrong queue, handed back to its own" type=fanin:collect task=collect:`+job+" from="+testQueue+" to="+collectQueue) {
		t.Fatalf("no warning naming the task and its queues:\n%s", logs.String())
	}
	c := newCoordinator(t, client, store, CoordinatorConfig{Queue: collectQueue, TaskCheckInterval: 20 * time.Millisecond})
	if err := c.Handle("echo", Count()); err != nil {
		t.Fatal(err)
	}
	runCoordinator(t, c)
	waitState(t, store, job, workoutput.StateDone)
	noArchived(t, client, testQueue, collectQueue)

	// A Mux serving its own collect queue: the task stays, to be retried.
	var own logBuffer
	ownMux, err := NewMux(client, store, MuxConfig{CollectQueue: "own", Logger: own.logger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServerFromRedisClient(client, asynq.Config{
		Queues: map[string]int{"own": 1}, TaskCheckInterval: 20 * time.Millisecond, Logger: quietLogger{},
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return time.Hour },
	})
	if err := srv.Start(ownMux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	if _, err := asynq.NewClientFromRedisClient(client).Enqueue(asynq.NewTask(TypeCollect, []byte(job)), asynq.Queue("own"), asynq.TaskID("collect:"+job)); err != nil {
		t.Fatal(err)
	}
	var lastErr string
	waitLogged(t, "the collect task on the Mux's own collect queue to wait for a retry", &own, func() bool {
		ti, err := insp.GetTaskInfo("own", "collect:"+job)
		if err != nil || ti.State != asynq.TaskStateRetry {
			return false
		}
		lastErr = ti.LastErr
		return true
	})
	if !strings.Contains(lastErr, "reached the wrong handler on its own queue own") {
		t.Fatalf("last error %q", lastErr)
	}
	if !strings.Contains(own.String(), "level=WARN") || !strings.Contains(own.String(), "not handed back") {
		t.Fatalf("no warning:\n%s", own.String())
	}
}

// TestWrongQueueRefusedConfig: a coordinator whose EventsQueue is its own
// queue could only hand chunks back to itself: NewCoordinator refuses it.
func TestWrongQueueRefusedConfig(t *testing.T) {
	t.Parallel()
	client := testRedis(t, false)
	store := newStore(t, client, workoutput.Config{})
	for _, cfg := range []CoordinatorConfig{{Queue: "q", EventsQueue: "q"}, {Queue: DefaultQueue}, {EventsQueue: DefaultCollectQueue}} {
		if _, err := NewCoordinator(client, store, cfg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "want distinct queues") {
			t.Errorf("NewCoordinator(%+v) = %v; want ErrInvalid", cfg, err)
		}
	}
	if _, err := NewProducer(client, store, ProducerConfig{ChunkSize: MaxChunkSize + 1}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "at most 10000") {
		t.Errorf("NewProducer with ChunkSize %d = %v; want ErrInvalid", MaxChunkSize+1, err)
	}
}
