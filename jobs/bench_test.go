package jobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// Benchmarks, run side by side with their Asynq baselines in one
// invocation (see docs/BENCHMARKS.md):
//
//	go test -run '^$' -bench . -benchtime 1x ./jobs/
//
// Every measurement uses a fresh redis-server, so used_memory_peak is the
// peak of that measurement alone.

const (
	benchEvents     = 100_000 // events per end-to-end run
	benchSubmitN    = 100_000 // events per Submit
	benchBaselineN  = 20_000  // events per baseline Enqueue loop
	benchWorkers    = 8       // Asynq concurrency of the one worker process
	benchOutputSize = 100     // bytes per output
)

// benchOutput is the 100-byte output every handler returns.
var benchOutput = []byte(`"` + strings.Repeat("o", benchOutputSize-2) + `"`)

// freshRedis starts a dedicated server and returns a client on it.
func freshRedis(b *testing.B) redis.UniversalClient {
	b.Helper()
	return redistest.StartServer(b, redistest.ServerOptions{}).Client(b)
}

// memory returns used_memory and used_memory_peak in bytes.
func memory(b *testing.B, c redis.UniversalClient) (used, peak int64) {
	b.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_memory":
			used, _ = strconv.ParseInt(v, 10, 64)
		case "used_memory_peak":
			peak, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return used, peak
}

// benchEventsOf returns n small JSON events; with given, each has a
// caller-given ID ("sighting-<i>") instead of a generated one.
func benchEventsOf(n int, given bool) []Event {
	events := make([]Event, n)
	for i := range events {
		events[i] = Event{Payload: strconv.AppendInt([]byte(`{"n":`), int64(i), 10)}
		events[i].Payload = append(events[i].Payload, '}')
		if given {
			events[i].ID = "sighting-" + strconv.Itoa(i)
		}
	}
	return events
}

// result is one measured run.
type result struct {
	elapsed time.Duration
	events  int
	peak    int64 // used_memory_peak minus used_memory before the run
}

// report averages runs into benchmark metrics.
func report(b *testing.B, runs []result) {
	var el time.Duration
	var ev int
	var peak int64
	for _, r := range runs {
		el += r.elapsed
		ev += r.events
		peak += r.peak
	}
	b.ReportMetric(float64(ev)/el.Seconds(), "events/s")
	if peak > 0 {
		b.ReportMetric(float64(peak)/float64(ev), "peak-B/event")
	}
}

// BenchmarkSubmit compares Producer.Submit from one goroutine with a loop
// of asynq Client.Enqueue calls (one task per event), no worker running.
func BenchmarkSubmit(b *testing.B) {
	for _, given := range []bool{false, true} {
		b.Run(fmt.Sprintf("fanin-submit/given-ids=%v", given), func(b *testing.B) {
			var runs []result
			for range b.N {
				b.StopTimer()
				client := freshRedis(b)
				store := newStore(b, client, workoutput.Config{})
				p := newProducer(b, client, store, ProducerConfig{})
				events := benchEventsOf(benchSubmitN, given)
				b.StartTimer()
				start := time.Now()
				if _, err := p.Submit(context.Background(), workoutput.Spec{Kind: "bench"}, events); err != nil {
					b.Fatal(err)
				}
				runs = append(runs, result{elapsed: time.Since(start), events: benchSubmitN})
			}
			report(b, runs)
		})
	}
	b.Run("asynq-enqueue-loop", func(b *testing.B) {
		var runs []result
		for range b.N {
			b.StopTimer()
			client := freshRedis(b)
			ac := asynq.NewClientFromRedisClient(client)
			events := benchEventsOf(benchBaselineN, false)
			b.StartTimer()
			start := time.Now()
			for _, e := range events {
				if _, err := ac.Enqueue(asynq.NewTask("bench", e.Payload), asynq.Queue(testQueue)); err != nil {
					b.Fatal(err)
				}
			}
			runs = append(runs, result{elapsed: time.Since(start), events: benchBaselineN})
		}
		report(b, runs)
	})
}

// benchWorkerPool starts a fresh server and one worker process (benchWorkers
// Asynq workers) whose handler of kind "bench" returns benchOutput.
func benchWorkerPool(b *testing.B) (redis.UniversalClient, *workoutput.Store) {
	b.Helper()
	client := freshRedis(b)
	store := newStore(b, client, workoutput.Config{})
	mux, err := NewMux(client, store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		b.Fatal(err)
	}
	if err := HandleRaw(mux, "bench", func(context.Context, []byte) ([]byte, error) { return benchOutput, nil }); err != nil {
		b.Fatal(err)
	}
	startPool(b, client, benchWorkers, mux)
	return client, store
}

// runFanin submits n events to one worker process and waits until every
// output is written.
func runFanin(b *testing.B, n, chunkSize int, given bool) result {
	b.StopTimer()
	ctx := context.Background()
	client, store := benchWorkerPool(b)
	p := newProducer(b, client, store, ProducerConfig{ChunkSize: chunkSize})
	events := benchEventsOf(n, given)
	return measure(b, client, n, func() {
		id, err := p.Submit(ctx, workoutput.Spec{Kind: "bench"}, events)
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, func() (bool, error) {
			st, err := store.Status(ctx, id)
			if err == nil && st.State == workoutput.StateComplete && st.Done != int64(n) {
				err = fmt.Errorf("status %+v, want %d outputs", st, n)
			}
			return st.State == workoutput.StateComplete, err
		})
	})
}

// measure times run (the submission and processing of n events) and
// returns it with the peak memory it used.
func measure(b *testing.B, client redis.UniversalClient, n int, run func()) result {
	used, _ := memory(b, client)
	b.StartTimer()
	start := time.Now()
	run()
	elapsed := time.Since(start)
	b.StopTimer()
	_, peak := memory(b, client)
	return result{elapsed: elapsed, events: n, peak: peak - used}
}

// waitFor polls cond every 2 ms until it is true.
func waitFor(b *testing.B, cond func() (bool, error)) {
	for {
		ok, err := cond()
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// runBaseline enqueues one Asynq task per event from one goroutine; one
// worker process whose handler does one HSET per task, until every output
// is written.
func runBaseline(b *testing.B, n int) result {
	b.StopTimer()
	ctx := context.Background()
	client := freshRedis(b)
	key := "baseline:outputs"
	mux := asynq.NewServeMux()
	mux.HandleFunc("bench", func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		return client.HSet(ctx, key, id, benchOutput).Err()
	})
	ac := asynq.NewClientFromRedisClient(client)
	events := benchEventsOf(n, false)
	startPool(b, client, benchWorkers, mux)
	return measure(b, client, n, func() {
		for _, e := range events {
			if _, err := ac.EnqueueContext(ctx, asynq.NewTask("bench", e.Payload), asynq.Queue(testQueue)); err != nil {
				b.Fatal(err)
			}
		}
		waitFor(b, func() (bool, error) {
			got, err := client.HLen(ctx, key).Result()
			return got == int64(n), err
		})
	})
}

// BenchmarkEndToEnd compares a fanin job of 100,000 events (100-byte
// outputs, one worker process) with one-task-per-event Asynq whose handler
// does one HSET, on the same kind of fresh server in the same run.
func BenchmarkEndToEnd(b *testing.B) {
	for _, given := range []bool{false, true} {
		b.Run(fmt.Sprintf("fanin/given-ids=%v/n=%d", given, benchEvents), func(b *testing.B) {
			var runs []result
			for range b.N {
				runs = append(runs, runFanin(b, benchEvents, DefaultChunkSize, given))
			}
			report(b, runs)
		})
	}
	b.Run(fmt.Sprintf("asynq-task-per-event/n=%d", benchEvents), func(b *testing.B) {
		var runs []result
		for range b.N {
			runs = append(runs, runBaseline(b, benchEvents))
		}
		report(b, runs)
	})
}

// BenchmarkChunkSize sweeps the chunk size end to end (and so picks
// DefaultChunkSize).
func BenchmarkChunkSize(b *testing.B) {
	for _, size := range []int{50, 100, 250, 500, 1000, 2000} {
		b.Run(fmt.Sprintf("chunk=%d", size), func(b *testing.B) {
			var runs []result
			for range b.N {
				runs = append(runs, runFanin(b, benchEvents, size, false))
			}
			report(b, runs)
		})
	}
}
