package jobs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// sighting is the event of the tests' "zombies.sighting" kind.
type sighting struct {
	N int `json:"n"`
}

// analysis is its output.
type analysis struct {
	Double int    `json:"double"`
	Event  string `json:"event"`
}

// TestExactlyOnceUnderRedelivery submits a 10,000-event job to three worker
// pools and forces redelivery: 10% of events are handled twice (their chunk
// runs as two concurrent deliveries, as when a lease expires while the first
// delivery still runs) and one chunk fails after partial success and is
// retried. Every event gets exactly one output and completion fires once.
func TestExactlyOnceUnderRedelivery(t *testing.T) {
	t.Parallel()
	for _, cluster := range []bool{false, true} {
		name := map[bool]string{false: "single", true: "cluster"}[cluster]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testExactlyOnce(t, cluster)
		})
	}
}

func testExactlyOnce(t *testing.T, cluster bool) {
	const (
		n         = 10_000
		chunkSize = 100
	)
	// failingID is the event whose first attempt fails; the rest of its
	// chunk (events 1800-1899) succeeds on that attempt.
	failingID := workoutput.GeneratedID(1889)
	ctx := context.Background()
	// newClient connects to the test's server (or cluster): each worker
	// pool gets a client, with its connection pool, of its own, as a
	// separate worker process would (sharing one, 12 workers and the
	// producer's enqueues waited for its connections past go-redis's
	// PoolTimeout on a loaded machine).
	var newClient func() redis.UniversalClient
	if cluster {
		c := redistest.StartCluster(t, redistest.ClusterOptions{})
		newClient = func() redis.UniversalClient { return c.Client(t) }
	} else {
		srv := redistest.StartServer(t, redistest.ServerOptions{})
		newClient = func() redis.UniversalClient { return srv.Client(t) }
	}
	client := newClient()
	store := newStore(t, client, workoutput.Config{})

	var (
		mu          sync.Mutex
		calls       = map[string]int{}
		completions atomic.Int64
		failedOnce  atomic.Bool
	)
	// barriers make both deliveries of a doubled chunk reach the handler
	// before either writes, so each of its events is handled twice.
	barriers := map[int64]*sync.WaitGroup{}
	for first := int64(0); first < n; first += 10 * chunkSize {
		wg := &sync.WaitGroup{}
		wg.Add(2)
		barriers[first] = wg
	}

	for range 3 {
		// Each pool has its own client and Store, as separate worker
		// processes would.
		poolClient := newClient()
		mux, err := NewMux(poolClient, newStore(t, poolClient, workoutput.Config{}), MuxConfig{
			CollectQueue: collectQueue,
			OnComplete: func(_ context.Context, _ string, err error) {
				if err != nil {
					t.Errorf("collect enqueue: %v", err)
				}
				completions.Add(1)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = Handle(mux, "zombies.sighting", func(ctx context.Context, s sighting) (analysis, error) {
			id := EventID(ctx)
			if JobID(ctx) == "" {
				return analysis{}, errors.New("no job ID in context")
			}
			if b, ok := ctx.Value(barrierKey{}).(*barrier); ok {
				b.once.Do(b.wait)
			}
			mu.Lock()
			calls[id]++
			mu.Unlock()
			if id == failingID && failedOnce.CompareAndSwap(false, true) {
				return analysis{}, errors.New("transient failure")
			}
			return analysis{Double: 2 * s.N, Event: id}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		startPool(t, poolClient, 4, asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
			c, err := decodeChunk(task.Payload())
			if err != nil {
				return err
			}
			wg, doubled := barriers[c.first]
			if !doubled {
				return mux.ProcessTask(ctx, task)
			}
			// Two concurrent deliveries of the same chunk; each waits at
			// the barrier in its handler of the first event.
			var errs [2]error
			var both sync.WaitGroup
			for i := range 2 {
				both.Go(func() {
					errs[i] = mux.ProcessTask(context.WithValue(ctx, barrierKey{}, &barrier{wg: wg}), task)
				})
			}
			both.Wait()
			return errors.Join(errs[0], errs[1])
		}))
	}

	// Submit the job; the pools work while it is being submitted.
	events := make([]Event, n)
	for i := range events {
		e, err := JSONEvent("", sighting{N: i})
		if err != nil {
			t.Fatal(err)
		}
		events[i] = e
	}
	p := newProducer(t, client, store, ProducerConfig{ChunkSize: chunkSize})
	jobID, err := p.Submit(ctx, workoutput.Spec{Kind: "zombies.sighting", Name: "exactly once"}, events)
	if err != nil {
		t.Fatal(err)
	}
	st := waitState(t, store, jobID, workoutput.StateComplete)
	if st.Done != n || st.Failed != 0 || st.Total != n || st.Pending != 0 {
		t.Fatalf("status = %+v, want %d done", st, n)
	}

	// Exactly n outputs, each the output of its own event.
	seen := map[string]bool{}
	for f, err := range store.Outputs(ctx, jobID) {
		if err != nil {
			t.Fatal(err)
		}
		var a analysis
		if err := f.Item.Decode(&a); err != nil {
			t.Fatal(err)
		}
		if a.Event != f.Field || seen[f.Field] {
			t.Fatalf("output %s = %+v (seen before: %v)", f.Field, a, seen[f.Field])
		}
		seen[f.Field] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct outputs, want %d", len(seen), n)
	}

	// Let any straggling delivery finish before counting completions.
	time.Sleep(300 * time.Millisecond)
	if c := completions.Load(); c != 1 {
		t.Fatalf("completion fired %d times, want 1", c)
	}
	if ids := collectTasks(t, client); len(ids) != 1 || ids[0] != jobID {
		t.Fatalf("collect tasks = %v, want [%s]", ids, jobID)
	}

	// Redelivery really happened: 10% of events handled twice, the failing
	// event twice (fail, then retry), and the retry of its chunk skipped the
	// events that already had an output.
	mu.Lock()
	defer mu.Unlock()
	twice := 0
	for seq := range int64(n) {
		id := workoutput.GeneratedID(seq)
		want := 1
		if _, doubled := barriers[seq/chunkSize*chunkSize]; doubled || id == failingID {
			want = 2
		}
		if calls[id] != want {
			t.Errorf("event %s handled %d times, want %d", id, calls[id], want)
		}
		if calls[id] == 2 {
			twice++
		}
	}
	if twice != n/10+1 {
		t.Errorf("%d events handled twice, want %d", twice, n/10+1)
	}
	if !failedOnce.Load() {
		t.Error("the failing event never failed")
	}
}

// barrierKey carries a *barrier in a delivery's context.
type barrierKey struct{}

// barrier holds one delivery of a doubled chunk until the other delivery
// reaches its handler too.
type barrier struct {
	wg   *sync.WaitGroup
	once sync.Once
}

// wait signals this delivery's arrival and waits for the other one (at most
// 10 s, so a broken test fails instead of hanging).
func (b *barrier) wait() {
	b.wg.Done()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}
