package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// Queues used by the tests. Collect tasks go to a queue no test server
// serves, so they can be counted with the Inspector.
const (
	testQueue    = "events"
	collectQueue = "collect"
)

// quietLogger drops Asynq's log lines (retries are expected in tests).
type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}

// testRedis returns a client on a dedicated server (or a dedicated 3-master
// cluster): Asynq's keys cannot carry the shared server's test prefix.
func testRedis(t testing.TB, cluster bool) redis.UniversalClient {
	t.Helper()
	if cluster {
		return redistest.StartCluster(t, redistest.ClusterOptions{}).Client(t)
	}
	return redistest.StartServer(t, redistest.ServerOptions{}).Client(t)
}

func newStore(t testing.TB, client redis.UniversalClient, cfg workoutput.Config) *workoutput.Store {
	t.Helper()
	s, err := workoutput.New(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newProducer(t testing.TB, client redis.UniversalClient, store *workoutput.Store, cfg ProducerConfig) *Producer {
	t.Helper()
	cfg.Queue, cfg.CollectQueue = testQueue, collectQueue
	p, err := NewProducer(client, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startPool starts an Asynq server (a worker pool) serving handler on the
// test queue, shut down when the test ends.
func startPool(t testing.TB, client redis.UniversalClient, concurrency int, handler asynq.Handler) {
	t.Helper()
	srv := asynq.NewServerFromRedisClient(client, asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{testQueue: 1},
		TaskCheckInterval:        20 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 50 * time.Millisecond },
		ShutdownTimeout:          5 * time.Second,
		Logger:                   quietLogger{},
	})
	if err := srv.Start(handler); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
}

// waitState polls the job until it reaches state, failing the test after a
// generous bound (a hang guard, not a speed assertion).
func waitState(t testing.TB, store *workoutput.Store, jobID string, state workoutput.State) workoutput.Status {
	t.Helper()
	ctx := context.Background()
	var st workoutput.Status
	for range 1200 {
		var err error
		if st, err = store.Status(ctx, jobID); err != nil {
			t.Fatal(err)
		}
		if st.State == state {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s never reached state %s: %+v", jobID, state, st)
	return st
}

// collectTasks returns the job IDs of the collect tasks waiting in the
// collect queue.
func collectTasks(t testing.TB, client redis.UniversalClient) []string {
	t.Helper()
	insp := asynq.NewInspectorFromRedisClient(client)
	tasks, err := insp.ListPendingTasks(collectQueue, asynq.PageSize(1000))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(tasks))
	for _, task := range tasks {
		if task.Type != TypeCollect || task.ID != "collect:"+string(task.Payload) {
			t.Fatalf("unexpected task in collect queue: type %s ID %s", task.Type, task.ID)
		}
		ids = append(ids, string(task.Payload))
	}
	return ids
}

// testEnv is a Redis client and a Store on it.
type testEnv struct {
	client redis.UniversalClient
	store  *workoutput.Store
}

func newEnv(t *testing.T, cluster bool, cfg workoutput.Config) testEnv {
	t.Helper()
	client := testRedis(t, cluster)
	return testEnv{client: client, store: newStore(t, client, cfg)}
}

// modes runs f on a dedicated single server and on a dedicated 3-master
// cluster.
func modes(t *testing.T, f func(t *testing.T, env testEnv)) {
	for _, cluster := range []bool{false, true} {
		name := map[bool]string{false: "single", true: "cluster"}[cluster]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, newEnv(t, cluster, workoutput.Config{}))
		})
	}
}

func waitABit() { time.Sleep(50 * time.Millisecond) }

func mustUUID(t *testing.T, id string) uuid.UUID {
	t.Helper()
	u, err := uuid.Parse(id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
