package jobs

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/asynqfanin"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// BenchmarkCommitted measures what the performance targets name: from the
// start of Submit to the committed result, on a fresh Redis (a single
// server, or a 3-master cluster), with one worker process (an Asynq server
// of 8 workers polling every 10 ms, a handler returning 100 bytes) and one
// coordinator daemon (Coordinator.Run, the Count reducer), all in this
// process. It reports events/s and the Redis server time per event: the
// CPU time of the masters' main threads during the run (serverTime),
// divided by the events; and the peak Redis memory the run added per event
// (used_memory, sampled every 20 ms, summed over the masters), the figure
// of the capacity model in docs/BENCHMARKS.md. FANIN_BENCH_STATS=1 also
// prints INFO commandstats by command and the CPU time of each master.
// jobs=3 submits three such jobs at once.
//
// The baseline, in the same invocation: one Asynq task per event whose
// handler HSETs its output and INCRs a counter; the task that brings the
// counter to n reads the hash (HVALS) and writes the result: the fan-in
// that Asynq users write by hand.
//
//	go test -run '^$' -bench 'Committed' -benchtime 3x ./jobs/
func BenchmarkCommitted(b *testing.B) {
	for _, tc := range []struct {
		n, jobs        int
		given, cluster bool
	}{
		{100_000, 1, false, false},
		{100_000, 1, true, false},
		{20_000, 1, false, false},
		{100_000, 1, false, true},
		{100_000, 3, false, false},
		{100_000, 3, false, true},
	} {
		name := fmt.Sprintf("fanin/n=%d/jobs=%d/given-ids=%v/cluster=%v", tc.n, tc.jobs, tc.given, tc.cluster)
		b.Run(name, func(b *testing.B) {
			var runs []committedRun
			for range b.N {
				runs = append(runs, runCommitted(b, tc.n, tc.jobs, tc.given, tc.cluster))
			}
			reportCommitted(b, runs)
		})
	}
	for _, n := range []int{100_000, 20_000} {
		b.Run(fmt.Sprintf("asynq-fan-in/n=%d", n), func(b *testing.B) {
			var runs []committedRun
			for range b.N {
				runs = append(runs, runAsynqFanIn(b, n))
			}
			reportCommitted(b, runs)
		})
	}
}

// committedRun is one measured run.
type committedRun struct {
	elapsed   time.Duration
	events    int
	redisTime time.Duration // CPU time of the masters' main threads during the run
	peakBytes int64         // the most Redis memory the run added (all masters)
}

func reportCommitted(b *testing.B, runs []committedRun) {
	var el, rt time.Duration
	var ev int
	var peak int64
	for _, r := range runs {
		el += r.elapsed
		ev += r.events
		rt += r.redisTime
		peak += r.peakBytes
	}
	b.ReportMetric(float64(ev)/el.Seconds(), "events/s")
	b.ReportMetric(float64(rt.Microseconds())/float64(ev), "redis-cpu-µs/event")
	b.ReportMetric(float64(peak)/float64(ev), "redis-peak-B/event")
}

// memorySampler samples the used_memory of masters every 20 ms until
// stopped, and reports the largest increase over the first sample.
type memorySampler struct {
	stop chan struct{}
	done chan int64
}

func sampleMemory(b *testing.B, masters []redis.UniversalClient) *memorySampler {
	b.Helper()
	used := func() int64 {
		var sum int64
		for _, m := range masters {
			info, err := m.Info(context.Background(), "memory").Result()
			if err != nil {
				return -1
			}
			for line := range strings.Lines(info) {
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					sum += n
				}
			}
		}
		return sum
	}
	s := &memorySampler{stop: make(chan struct{}), done: make(chan int64, 1)}
	base := used()
	if base < 0 {
		b.Fatal("INFO memory failed")
	}
	go func() {
		var peak int64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if u := used(); u >= 0 {
				peak = max(peak, u-base)
			}
			select {
			case <-s.stop:
				s.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// peak stops the sampler and returns the largest increase seen.
func (s *memorySampler) peak() int64 {
	close(s.stop)
	return <-s.done
}

// benchRedis starts a fresh single server or 3-master cluster and returns
// a client and the clients of its masters (for their commandstats).
func benchRedis(b *testing.B, cluster bool) (redis.UniversalClient, []redis.UniversalClient) {
	b.Helper()
	if !cluster {
		c := freshRedis(b)
		return c, []redis.UniversalClient{c}
	}
	cl := redistest.StartCluster(b, redistest.ClusterOptions{})
	var masters []redis.UniversalClient
	for _, m := range cl.Masters() {
		masters = append(masters, m.Client(b))
	}
	return cl.Client(b), masters
}

// serverTime is the CPU time (user and system) of the main threads of
// masters: what bounds Redis' throughput, the network I/O of the commands
// included. (Summing INFO commandstats would count twice the commands that
// scripts call: Redis 7 counts them under their own name and within the
// script's EVALSHA.)
func serverTime(b *testing.B, masters []redis.UniversalClient) time.Duration {
	b.Helper()
	var sum time.Duration
	for _, t := range masterTimes(b, masters) {
		sum += t
	}
	return sum
}

// masterTimes is serverTime of each master.
func masterTimes(b *testing.B, masters []redis.UniversalClient) []time.Duration {
	b.Helper()
	times := make([]time.Duration, len(masters))
	for i, m := range masters {
		var err error
		if times[i], err = redistest.MainThreadCPU(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	return times
}

// commandTimes returns the commandstats usec of each command, summed over
// masters. With FANIN_BENCH_STATS set, runCommitted logs their deltas.
func commandTimes(b *testing.B, masters []redis.UniversalClient) map[string]int64 {
	b.Helper()
	times, err := redistest.CommandTimes(context.Background(), masters...)
	if err != nil {
		b.Fatal(err)
	}
	return times
}

// logCommandTimes logs, with FANIN_BENCH_STATS set, where the Redis time of
// a run went, per command and per event, and the CPU time per event of each
// master (cpuBefore, cpuAfter: masterTimes).
func logCommandTimes(b *testing.B, before, after map[string]int64, cpuBefore, cpuAfter []time.Duration, events int) {
	if os.Getenv("FANIN_BENCH_STATS") == "" {
		return
	}
	var lines []string
	for i := range cpuAfter {
		lines = append(lines, fmt.Sprintf("master %d CPU %26.3f µs/event", i, float64((cpuAfter[i]-cpuBefore[i]).Microseconds())/float64(events)))
	}
	lines = append(lines, redistest.CommandTimeLines(before, after, events)...)
	slices.Sort(lines)
	fmt.Fprintf(os.Stderr, "%s: Redis time by command:\n%s\n", b.Name(), strings.Join(lines, "\n"))
}

// startBenchServer starts the one worker process of a run: an Asynq server
// of benchWorkers workers serving handler on the test queue, polling every
// 10 ms. The run shuts it down before its Redis goes.
func startBenchServer(b *testing.B, client redis.UniversalClient, handler asynq.Handler) *asynq.Server {
	b.Helper()
	srv := asynq.NewServerFromRedisClient(client, asynq.Config{
		Concurrency: benchWorkers, Queues: map[string]int{testQueue: 1}, TaskCheckInterval: 10 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second, Logger: quietLogger{},
	})
	if err := srv.Start(handler); err != nil {
		b.Fatal(err)
	}
	return srv
}

// runCommitted submits jobs jobs of n events each and waits for all to be
// committed done.
func runCommitted(b *testing.B, n, jobs int, given, cluster bool) committedRun {
	b.StopTimer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client, masters := benchRedis(b, cluster)
	store := newStore(b, client, workoutput.Config{})
	mux, err := NewMux(client, store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		b.Fatal(err)
	}
	if err := HandleRaw(mux, "bench", func(context.Context, []byte) ([]byte, error) { return benchOutput, nil }); err != nil {
		b.Fatal(err)
	}
	srv := startBenchServer(b, client, mux)
	defer srv.Shutdown()
	committed := make(chan Outcome, jobs)
	c := newCoordinator(b, client, store, CoordinatorConfig{Queue: collectQueue,
		OnCommit: func(_ context.Context, out Outcome) { committed <- out }})
	if err := c.Handle("bench", Count()); err != nil {
		b.Fatal(err)
	}
	daemon := make(chan error, 1)
	go func() { daemon <- c.Run(ctx) }()
	defer func() { cancel(); <-daemon }()
	p := newProducer(b, client, store, ProducerConfig{})
	events := benchEventsOf(n, given)
	time.Sleep(100 * time.Millisecond) // the daemon subscribes
	stats := commandTimes(b, masters)
	cpuBefore := masterTimes(b, masters)
	before := serverTime(b, masters)
	memory := sampleMemory(b, masters)

	b.StartTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			if _, err := p.Submit(ctx, workoutput.Spec{Kind: "bench"}, events); err != nil {
				b.Error(err)
			}
		})
	}
	for range jobs {
		select {
		case out := <-committed:
			if out.State != workoutput.StateDone || out.Outputs != int64(n) {
				b.Fatalf("committed %+v; want done with %d outputs", out, n)
			}
		case <-time.After(5 * time.Minute):
			b.Fatal("no commit within 5 minutes")
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	peak := memory.peak()
	wg.Wait()
	logCommandTimes(b, stats, commandTimes(b, masters), cpuBefore, masterTimes(b, masters), n*jobs)
	return committedRun{elapsed: elapsed, events: n * jobs, redisTime: serverTime(b, masters) - before, peakBytes: peak}
}

// runAsynqFanIn is the baseline (asynqfanin): one task per event, HSET and
// INCR by the handler, and the fan-in (HVALS, the result written) by the
// last one.
func runAsynqFanIn(b *testing.B, n int) committedRun {
	b.StopTimer()
	client, masters := benchRedis(b, false)
	var payloads [][]byte
	for _, e := range benchEventsOf(n, false) {
		payloads = append(payloads, e.Payload)
	}
	before := serverTime(b, masters)
	memory := sampleMemory(b, masters)
	elapsed, err := asynqfanin.Run(context.Background(), asynqfanin.Config{
		Client: client, Queue: testQueue, Concurrency: benchWorkers,
		Handle: func(_ context.Context, taskID string, _ []byte) (string, []byte, error) {
			return taskID, benchOutput, nil
		},
		Reduce: func(outputs []string) ([]byte, error) { return fmt.Appendf(nil, `{"outputs":%d}`, len(outputs)), nil },
	}, payloads)
	if err != nil {
		b.Fatal(err)
	}
	return committedRun{elapsed: elapsed, events: n, redisTime: serverTime(b, masters) - before, peakBytes: memory.peak()}
}
