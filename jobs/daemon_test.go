package jobs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/workoutput"
)

// runCoordinator runs c.Run until the test ends.
func runCoordinator(t *testing.T, c *Coordinator) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// commitCounter is a sink counting commits per job.
type commitCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (cc *commitCounter) Write(_ context.Context, out Outcome) error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.n[out.JobID]++
	return nil
}

func (cc *commitCounter) counts() map[string]int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	m := make(map[string]int, len(cc.n))
	for k, v := range cc.n {
		m[k] = v
	}
	return m
}

// startCoordinators runs n coordinator daemons sharing one commit counter.
func startCoordinators(t *testing.T, client redis.UniversalClient, store *workoutput.Store, n int, r Reducer) *commitCounter {
	t.Helper()
	cc := &commitCounter{n: map[string]int{}}
	for range n {
		c := newCoordinator(t, client, store, CoordinatorConfig{
			Queue: collectQueue, SweepInterval: 200 * time.Millisecond, TaskCheckInterval: 50 * time.Millisecond,
			LockTTL: 3 * time.Second, Sinks: []Sink{cc},
		})
		if err := c.Handle("echo", r); err != nil {
			t.Fatal(err)
		}
		runCoordinator(t, c)
	}
	return cc
}

// TestCoordinatorsRace runs two coordinator daemons over 50 jobs processed
// by a worker pool: both hear every completion and serve the collect queue,
// yet each job is committed exactly once.
func TestCoordinatorsRace(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, env testEnv) {
		ctx := context.Background()
		const jobs, events = 50, 4
		slow := ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
			time.Sleep(2 * time.Millisecond) // widen the window for a double commit
			return Count().Reduce(ctx, job, in)
		})
		cc := startCoordinators(t, env.client, env.store, 2, slow)
		mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue})
		if err != nil {
			t.Fatal(err)
		}
		if err := HandleRaw(mux, "echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }); err != nil {
			t.Fatal(err)
		}
		startPool(t, env.client, 4, mux)
		p := newProducer(t, env.client, env.store, ProducerConfig{ChunkSize: 2})
		ids := make([]string, jobs)
		for i := range ids {
			evs := make([]Event, events)
			for j := range evs {
				evs[j] = Event{Payload: []byte(`"x"`)}
			}
			if ids[i], err = p.Submit(ctx, workoutput.Spec{Kind: "echo"}, evs); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			waitState(t, env.store, id, workoutput.StateDone)
		}
		time.Sleep(500 * time.Millisecond) // two more sweeps: a late double commit would show
		counts := cc.counts()
		for _, id := range ids {
			if counts[id] != 1 {
				t.Fatalf("job %s committed %d times; want once", id, counts[id])
			}
			res, err := env.store.Result(ctx, id)
			if err != nil || string(res) != `{"outputs":4,"failed":0,"missing":0}` {
				t.Fatalf("result of %s = %s, %v", id, res, err)
			}
		}
		if len(counts) != jobs {
			t.Fatalf("%d jobs committed; want %d", len(counts), jobs)
		}
	})
}
