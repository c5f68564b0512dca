package jobs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// Coordinator benchmarks (docs/BENCHMARKS.md), each side by side
// with its baseline in the same run:
//
//	go test -run '^$' -bench 'Gather|Finalize' -benchtime 1x ./jobs/

const (
	benchGatherN     = 1_000_000 // outputs of the gather benchmark
	benchFinalizeN   = 1_000     // events per job of the finalize benchmark
	benchFinalizeJob = 20        // jobs measured with pushed completions
	benchPolledJobs  = 5         // jobs measured with collect tasks only
)

// pingProbe measures, while it runs, the longest PING round trip seen by
// two clients: one in this process, at ordinary priority (how long Redis
// seemed stalled to a client, that client's own wait for a CPU included),
// and one in a child process at real-time priority (chrt -f), woken as soon
// as Redis answers, so it counts Redis's own delays only. It also reads the
// server's latency monitor for the longest command Redis ran.
type pingProbe struct {
	stop    chan struct{}
	done    chan struct{}
	longest time.Duration // the ordinary probe's, set before done closes
	admin   *redis.Client // reads the server's own latency monitor

	rt      *exec.Cmd      // the real-time probe; nil when it could not start
	rtStdin io.WriteCloser // closed to stop it
	rtOut   *bufio.Reader
	rtErr   error // why there is no real-time probe
}

func startPingProbe(b *testing.B, srv *redistest.Server) *pingProbe {
	b.Helper()
	o := *srv.Options()
	o.PoolSize = 1
	c := redis.NewClient(&o)
	p := &pingProbe{stop: make(chan struct{}), done: make(chan struct{}), admin: redis.NewClient(&o)}
	// The server's latency monitor records every command that ran 1 ms or
	// more: the stalls Redis itself caused, without the probe's own
	// scheduling on a busy machine.
	ctx := context.Background()
	if err := p.admin.ConfigSet(ctx, "latency-monitor-threshold", "1").Err(); err != nil {
		b.Fatal(err)
	}
	if err := p.admin.Do(ctx, "LATENCY", "RESET").Err(); err != nil {
		b.Fatal(err)
	}
	p.startRealTime(srv.URL())
	go func() {
		defer close(p.done)
		defer c.Close()
		_, p.longest, _ = pingUntil(p.stop, c)
	}()
	return p
}

// startRealTime starts the real-time probe (this test binary as the "ping"
// helper, under chrt -f 50) and waits until it has had its first answer.
// Setting a real-time policy needs CAP_SYS_NICE; without it p.rtErr says
// so and only the ordinary probe runs.
func (p *pingProbe) startRealTime(url string) {
	cmd := exec.Command("chrt", "-f", "50", os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=ping", helperURLEnv+"="+url)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		p.rtErr = err
		return
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.rtErr = err
		return
	}
	cmd.Stderr = cmd.Stdout // chrt's own complaint, if any
	if err := cmd.Start(); err != nil {
		p.rtErr = fmt.Errorf("chrt: %w", err)
		return
	}
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); line != "ready\n" {
		rest, _ := io.ReadAll(out)
		stdin.Close()
		p.rtErr = fmt.Errorf("chrt -f 50 (needs CAP_SYS_NICE, as root has): %q %v %v", line+string(rest), err, cmd.Wait())
		return
	}
	p.rt, p.rtStdin, p.rtOut = cmd, stdin, out
}

// end stops the probes and reports the longest PING of each as
// max-PING-ms (ordinary priority) and max-PING-rt-ms (real time), and the
// longest command as max-command-ms. Over several iterations each metric
// is the largest of them: *worst holds what the earlier probes saw. (The
// benchmark's gather-ms, coordinator-cpu-ms and redis-cpu-ms are the means
// of its iterations, peak-RSS-MiB the largest; redis-cpu-ms includes the
// probes' PINGs.)
func (p *pingProbe) end(b *testing.B, worst *probeWorst) {
	b.Helper()
	close(p.stop)
	<-p.done
	worst.ping = max(worst.ping, p.longest)
	b.ReportMetric(ms(worst.ping), "max-PING-ms")
	if p.rt != nil {
		p.rtStdin.Close()
		rest, _ := io.ReadAll(p.rtOut)
		var n int
		var ns int64
		if _, err := fmt.Sscanf(string(rest), "pinged %d %d", &n, &ns); err != nil || p.rt.Wait() != nil || n == 0 {
			b.Fatalf("real-time PING probe said %q: %v", rest, err)
		}
		worst.rtPing = max(worst.rtPing, time.Duration(ns))
		b.ReportMetric(ms(worst.rtPing), "max-PING-rt-ms")
	} else if !worst.rtLogged {
		worst.rtLogged = true
		b.Logf("no real-time PING probe: %v", p.rtErr)
	}
	worst.command = max(worst.command, p.longestCommand(b))
	b.ReportMetric(ms(worst.command), "max-command-ms")
}

// probeWorst holds the longest stalls the probes of a benchmark's
// iterations saw.
type probeWorst struct {
	ping, rtPing, command time.Duration
	rtLogged              bool
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// runPingHelper is the real-time PING probe of pingProbe: it sends PINGs
// as pingUntil does, says "ready" after the first answer, and once its
// stdin is closed prints "pinged <n> <longest ns>".
func runPingHelper(client redis.UniversalClient) error {
	if err := client.Ping(context.Background()).Err(); err != nil {
		return err
	}
	fmt.Println("ready")
	stop := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	n, longest, err := pingUntil(stop, client)
	if err != nil {
		return err
	}
	fmt.Printf("pinged %d %d\n", n, longest.Nanoseconds())
	return nil
}

// pingUntil sends PINGs on c, one every 0.2 ms, until stop closes, and
// returns how many were answered and the longest round trip; an error
// ends it early.
func pingUntil(stop <-chan struct{}, c redis.UniversalClient) (n int, longest time.Duration, err error) {
	for {
		select {
		case <-stop:
			return n, longest, nil
		default:
		}
		start := time.Now()
		if err := c.Ping(context.Background()).Err(); err != nil {
			return n, longest, err
		}
		n++
		longest = max(longest, time.Since(start))
		time.Sleep(200 * time.Microsecond)
	}
}

// longestCommand returns the longest command the server's latency monitor
// recorded since the probe started ("command" and "fast-command" events,
// in whole ms; 0: none took 1 ms), and closes the probe's admin client.
func (p *pingProbe) longestCommand(b *testing.B) time.Duration {
	b.Helper()
	defer p.admin.Close()
	events, err := p.admin.Do(context.Background(), "LATENCY", "LATEST").Slice()
	if err != nil {
		b.Fatal(err)
	}
	var longest int64
	for _, e := range events {
		fields, ok := e.([]any)
		if !ok || len(fields) < 4 {
			continue
		}
		if name := fmt.Sprint(fields[0]); name == "command" || name == "fast-command" {
			if ms, ok := fields[3].(int64); ok {
				longest = max(longest, ms)
			}
		}
	}
	return time.Duration(longest) * time.Millisecond
}

// fillJob creates a complete job of n events (with caller-given IDs when
// given) with 100-byte outputs, 5000 outputs per write.
func fillJob(b *testing.B, store *workoutput.Store, n int, given bool) string {
	b.Helper()
	ctx := context.Background()
	id := func(i int) string { return workoutput.GeneratedID(int64(i)) }
	batch := workoutput.Batch{Generated: n}
	if given {
		id = func(i int) string { return "sighting-" + strconv.Itoa(i) }
		batch = workoutput.Batch{IDs: make([]string, n)}
		for i := range n {
			batch.IDs[i] = id(i)
		}
	}
	job, err := store.Open(ctx, workoutput.Spec{Kind: "bench"}, batch, true)
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 5000
	outs := make([]workoutput.Output, 0, chunk)
	for i := range n {
		outs = append(outs, workoutput.Output{EventID: id(i), Value: benchOutput})
		if len(outs) == chunk || i == n-1 {
			if _, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: outs}); err != nil {
				b.Fatal(err)
			}
			outs = outs[:0]
		}
	}
	if st, err := store.Status(ctx, job.ID); err != nil || st.State != workoutput.StateComplete || st.Done != int64(n) {
		b.Fatalf("job not complete: %+v, %v", st, err)
	}
	return job.ID
}

// BenchmarkGather reduces a job of 1,000,000 100-byte outputs with Count in
// a child coordinator process (its peak RSS is VmHWM), with PING probes
// measuring Redis stalls (pingProbe: one at ordinary priority, one at
// real-time priority, and the server's latency monitor, the longest
// command in whole ms); the baseline is one HVALS of the same hash, with
// the same probes, in the same run. The reduce runs twice: with
// redis-server at its ordinary priority, then at real-time priority (as if
// it had a CPU of its own; needs root). Both ID paths read by HMGET
// (workoutput.Store.Gather); caller-given IDs first read a page of IDs
// from the job's ids list with LRANGE (before that list, they took HSCAN).
func BenchmarkGather(b *testing.B) {
	for _, given := range []bool{false, true} {
		ids := map[bool]string{false: "generated", true: "given"}[given]
		srv := redistest.StartServer(b, redistest.ServerOptions{})
		client := srv.Client(b)
		store := newStore(b, client, workoutput.Config{})
		id := fillJob(b, store, benchGatherN, given)
		key := "fanin:job:{" + id + "}:outputs"
		ctx := context.Background()

		b.Run("baseline-hvals/n=1M/ids="+ids, func(b *testing.B) {
			var worst probeWorst
			var total, redisCPU time.Duration
			for i := range b.N {
				before := redistest.ServerCPU(b, client)
				probe := startPingProbe(b, srv)
				start := time.Now()
				vals, err := client.HVals(ctx, key).Result()
				total += time.Since(start)
				probe.end(b, &worst)
				if err != nil || len(vals) != benchGatherN {
					b.Fatalf("HVALS = %d values, %v", len(vals), err)
				}
				redisCPU += redistest.ServerCPU(b, client) - before
				b.ReportMetric(float64(total.Milliseconds())/float64(i+1), "gather-ms")
				b.ReportMetric(float64(redisCPU.Milliseconds())/float64(i+1), "redis-cpu-ms")
			}
		})
		reduce := func(b *testing.B) {
			var worst probeWorst
			var total, childCPU, redisCPU time.Duration
			var peak int64
			for i := range b.N {
				before := redistest.ServerCPU(b, client)
				probe := startPingProbe(b, srv)
				// Replay collects the complete job the first time and
				// reduces the retained outputs again the next times.
				gather, rss, cpu, res := runGatherChild(b, srv.URL(), id)
				probe.end(b, &worst)
				redisCPU += redistest.ServerCPU(b, client) - before
				if res != `{"outputs":1000000,"failed":0,"missing":0}` {
					b.Fatalf("result %s", res)
				}
				total += gather
				childCPU += cpu
				peak = max(peak, rss)
				n := float64(i + 1)
				b.ReportMetric(float64(total.Milliseconds())/n, "gather-ms")
				b.ReportMetric(float64(childCPU.Milliseconds())/n, "coordinator-cpu-ms")
				b.ReportMetric(float64(redisCPU.Milliseconds())/n, "redis-cpu-ms")
				b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			}
		}
		b.Run("coordinator/n=1M/ids="+ids, reduce)
		// The same reduce with redis-server at real-time priority, as if it
		// had a CPU of its own: on a 2-vCPU machine shared with the
		// coordinator, this benchmark and the machine's other services,
		// redis-server otherwise waits for a CPU now and then, and the
		// probes count that wait as a stall (docs/BENCHMARKS.md, issue 17,
		// eighth step).
		b.Run("coordinator-redis-rt/n=1M/ids="+ids, func(b *testing.B) {
			pid := strconv.Itoa(srv.PID())
			if out, err := exec.Command("chrt", "-a", "-f", "-p", "40", pid).CombinedOutput(); err != nil {
				b.Skipf("redis-server at real-time priority needs chrt and CAP_SYS_NICE (as root): %v: %s", err, out)
			}
			defer func() {
				if out, err := exec.Command("chrt", "-a", "-o", "-p", "0", pid).CombinedOutput(); err != nil {
					b.Errorf("redis-server back to normal priority: %v: %s", err, out)
				}
			}()
			reduce(b)
		})
	}
}

// runGatherChild runs Replay of jobID with Count in a child
// process and returns the reduce time, the child's peak RSS in bytes, its
// CPU time (user and system, the process's whole life), and the result.
func runGatherChild(b *testing.B, url, jobID string) (time.Duration, int64, time.Duration, string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=gather", helperURLEnv+"="+url, helperJobEnv+"="+jobID)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("gather child: %v: %s", err, out)
	}
	var ms, kb int64
	var res string
	if _, err := fmt.Sscanf(string(out), "gathered %d %d %s", &ms, &kb, &res); err != nil {
		b.Fatalf("gather child said %q: %v", out, err)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return time.Duration(ms) * time.Millisecond, kb << 10, cpu, res
}

// runGatherHelper is the child of BenchmarkGather.
func runGatherHelper(client redis.UniversalClient) error {
	ctx := context.Background()
	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		return err
	}
	c, err := NewCoordinator(client, store, CoordinatorConfig{})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Handle("bench", Count()); err != nil {
		return err
	}
	start := time.Now()
	out, err := c.Replay(ctx, os.Getenv(helperJobEnv))
	if err != nil {
		return err
	}
	el := time.Since(start)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	var hwm int64
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	fmt.Printf("gathered %d %d %s\n", el.Milliseconds(), hwm, out.Result)
	return nil
}

// BenchmarkFinalize measures the finalize latency of 1,000-event jobs
// processed by a worker pool, from the write that completes a job to its
// commit (meta.completed to meta.finished, both Redis TIME in ms), with an
// idle coordinator: pushed (completion announced by pub/sub) against the
// collect task alone, polled by Asynq's default TaskCheckInterval (1 s).
func BenchmarkFinalize(b *testing.B) {
	for _, tc := range []struct {
		name   string
		jobs   int
		notify bool
	}{{"pushed", benchFinalizeJob, true}, {"baseline-collect-task-only", benchPolledJobs, false}} {
		b.Run(fmt.Sprintf("%s/events=%d", tc.name, benchFinalizeN), func(b *testing.B) {
			for range b.N {
				lat := runFinalize(b, tc.jobs, !tc.notify)
				slices.Sort(lat)
				q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
				b.ReportMetric(q(0.5), "p50-ms")
				b.ReportMetric(q(0.9), "p90-ms")
				b.ReportMetric(q(1), "max-ms")
			}
		})
	}
}

func runFinalize(b *testing.B, jobs int, disableNotify bool) []time.Duration {
	b.Helper()
	ctx := context.Background()
	client, store := benchWorkerPool(b)
	c, err := NewCoordinator(client, store, CoordinatorConfig{Queue: collectQueue, DisableNotify: disableNotify})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Handle("bench", Count()); err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.Run(rctx) })
	defer func() { cancel(); wg.Wait() }()
	p := newProducer(b, client, store, ProducerConfig{})
	events := benchEventsOf(benchFinalizeN, false)
	time.Sleep(1500 * time.Millisecond) // let the coordinator go idle
	var lat []time.Duration
	for range jobs {
		id, err := p.Submit(ctx, workoutput.Spec{Kind: "bench"}, events)
		if err != nil {
			b.Fatal(err)
		}
		var st workoutput.Status
		waitFor(b, func() (bool, error) {
			st, err = store.Status(ctx, id)
			return err == nil && st.State == workoutput.StateDone, err
		})
		lat = append(lat, st.Finished.Sub(st.Completed))
	}
	return lat
}

// BenchmarkGatherSmall compares, for small jobs, one HGETALL (the path
// Gather takes up to workoutput.Config.SmallHash outputs) with the paged
// HMGET path, to place SmallHash.
func BenchmarkGatherSmall(b *testing.B) {
	srv := redistest.StartServer(b, redistest.ServerOptions{})
	client := srv.Client(b)
	ctx := context.Background()
	for _, n := range []int{128, 512, 2048} {
		for _, path := range []struct {
			name  string
			small int
		}{{"hgetall", n}, {"hmget-pages", -1}} {
			store := newStore(b, client, workoutput.Config{SmallHash: path.small, ScanPage: 256})
			id := fillJob(b, store, n, false)
			b.Run(fmt.Sprintf("n=%d/%s", n, path.name), func(b *testing.B) {
				for range b.N {
					got := 0
					for _, err := range store.Gather(ctx, id, int64(n)) {
						if err != nil {
							b.Fatal(err)
						}
						got++
					}
					if got != n {
						b.Fatalf("gathered %d, want %d", got, n)
					}
				}
			})
		}
	}
}
