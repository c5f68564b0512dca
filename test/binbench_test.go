package test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/redis/go-redis/v9"

	zsightings "github.com/fanin-dev/fanin/examples/zombies/sightings"
	"github.com/fanin-dev/fanin/examples/zombies/zombiejob"
	"github.com/fanin-dev/fanin/internal/asynqfanin"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// BenchmarkSmallJobs measures small jobs as a user of the binaries meets
// them: a `worker` and a `coordinator run`, started with their defaults
// (only --poll-interval varies), idle before each job, on a fresh
// redis-server; a producer (the library, as in a user's program) submits 50
// jobs of 1,000 zombie sightings one after the other. Latency is from the
// start of Submit to the commit (meta.finished, the coordinator's clock on
// this machine). Then, idle for 5 s, the Redis commands per second the
// worker and the coordinator cost together (INFO total_commands_processed,
// less the benchmark's own).
//
//	go test -run '^$' -bench 'SmallJobs|Binaries20k' -benchtime 1x ./test/
func BenchmarkSmallJobs(b *testing.B) {
	for _, poll := range []string{"1s", "100ms", "20ms", "", "5ms"} {
		name := "poll=" + poll
		if poll == "" {
			name = "poll=default"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				runSmallJobs(b, poll)
			}
		})
	}
}

// binDeployment is a fresh server with a worker and a coordinator daemon
// started with their defaults, and a store and a producer on the server.
type binDeployment struct {
	server   *redistest.Server
	client   redis.UniversalClient
	store    *workoutput.Store
	producer *jobs.Producer
	pids     map[string]int // the worker's and the coordinator's, by binary, and redis-server's ("redis")
}

// startBinDeployment starts a binDeployment; workerArgs are added to the
// worker's command line.
func startBinDeployment(b *testing.B, workerArgs ...string) binDeployment {
	b.Helper()
	srv := redistest.StartServer(b, redistest.ServerOptions{})
	d := binDeployment{server: srv, client: srv.Client(b), pids: map[string]int{"redis": srv.PID()}}
	environ := env("FANIN_REDIS_URL=" + srv.URL())
	for _, args := range [][]string{append([]string{"worker"}, workerArgs...), {"coordinator", "run"}} {
		logf, err := os.CreateTemp(b.TempDir(), args[0]+"-*.log")
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(filepath.Join(bin, args[0]), args[1:]...)
		cmd.Env, cmd.Stdout, cmd.Stderr = environ, logf, logf
		if err := redistest.StartProcess(cmd); err != nil {
			b.Fatal(err)
		}
		d.pids[args[0]] = cmd.Process.Pid
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() })
	}
	var err error
	if d.store, err = workoutput.New(d.client, workoutput.Config{}); err != nil {
		b.Fatal(err)
	}
	if d.producer, err = jobs.NewProducer(d.client, d.store, jobs.ProducerConfig{}); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // both processes connect and start serving
	return d
}

// usage returns the CPU time (user + system) used so far by the
// deployment's worker and coordinator, in ms ("<binary>-cpu-ms": from
// /proc/<pid>/stat, in clock ticks of 10 ms), the CPU time of its
// redis-server ("redis-cpu-ms": INFO cpu), and the minor page faults of
// the three ("<binary>-faults", "redis-faults": pages the kernel gave the
// process, zeroed, on first touch).
func (d binDeployment) usage(b *testing.B) map[string]float64 {
	b.Helper()
	out := map[string]float64{"redis-cpu-ms": float64(redistest.ServerCPU(b, d.client).Milliseconds())}
	for name, pid := range d.pids {
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			b.Fatal(err)
		}
		// The fields after the command name (which ends with ")"): minflt
		// is the 8th of them, utime and stime the 12th and 13th.
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		minflt, _ := strconv.ParseInt(f[7], 10, 64)
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		if name != "redis" { // INFO cpu measures Redis's finer
			out[name+"-cpu-ms"] = float64((utime + stime) * 10)
		}
		out[name+"-faults"] = float64(minflt)
	}
	return out
}

// commandTimes returns the server time of each command so far (INFO
// commandstats, µs).
func (d binDeployment) commandTimes(b *testing.B) map[string]int64 {
	b.Helper()
	times, err := redistest.CommandTimes(context.Background(), d.client)
	if err != nil {
		b.Fatal(err)
	}
	return times
}

// sightingEvents returns n zombie sightings as events.
func sightingEvents(b *testing.B, n int, seed int64) []jobs.Event {
	b.Helper()
	events, err := zombiejob.Events(zsightings.GenerateSeq(seed, n))
	if err != nil {
		b.Fatal(err)
	}
	return events
}

// jobTimes are the phases of one job, each from the start of Submit: until
// Submit returned, until the last output was written (meta.completed) and
// until the commit (meta.finished); the last two are the worker's and the
// coordinator's clocks, on this machine.
type jobTimes struct {
	submitted, completed, committed time.Duration
}

// submitAndWait submits events and waits until the job is done.
func submitAndWait(b *testing.B, store *workoutput.Store, p *jobs.Producer, events []jobs.Event) jobTimes {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	id, err := p.Submit(ctx, workoutput.Spec{Kind: "zombies.sighting"}, events)
	if err != nil {
		b.Fatal(err)
	}
	submitted := time.Since(start)
	start = start.Truncate(time.Millisecond) // meta's times are whole ms
	for deadline := time.Now().Add(time.Minute); ; {
		st, err := store.Status(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if st.State.Terminal() {
			if st.State != workoutput.StateDone {
				b.Fatalf("job %s ended %s: %s", id, st.State, st.Error)
			}
			return jobTimes{submitted: submitted, completed: st.Completed.Sub(start), committed: st.Finished.Sub(start)}
		}
		if time.Now().After(deadline) {
			b.Fatalf("job %s not done within a minute: %+v", id, st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func runSmallJobs(b *testing.B, poll string) {
	b.StopTimer()
	var args []string
	if poll != "" {
		args = []string{"--poll-interval", poll}
	}
	d := startBinDeployment(b, args...)
	client, store, p := d.client, d.store, d.producer
	events := sightingEvents(b, 1000, 17)
	var lat []time.Duration
	for range 50 {
		time.Sleep(time.Duration(200+len(lat)%7*37) * time.Millisecond) // idle between jobs
		lat = append(lat, submitAndWait(b, store, p, events).committed)
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*9/10]), "p90-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	// Idle cost: every command Redis processes while both processes are
	// idle, less the two INFO calls of this measurement.
	time.Sleep(2 * time.Second)
	before := totalCommands(b, client)
	time.Sleep(5 * time.Second)
	idle := float64(totalCommands(b, client)-before-1) / 5
	b.ReportMetric(idle, "idle-cmds/s")
}

// totalCommands returns INFO's total_commands_processed.
func totalCommands(b *testing.B, c redis.UniversalClient) int64 {
	b.Helper()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatal("no total_commands_processed in INFO stats")
	return 0
}

// BenchmarkBinaries20k runs one job of 20,000 sightings, submit to commit:
// "fanin" through the worker and coordinator binaries started with their
// defaults, the first job of processes started for it (cold); "fanin-warm"
// the same, each job on processes that have run one before (a worker pool
// that stays up); both with the CPU time and page faults each process, and
// the CPU time Redis, used per job, and with FANIN_BENCH_STATS set the
// Redis time by command per event (INFO commandstats);
// "asynq-fan-in", in the same invocation, the baseline of issue 17 doing
// the same work (internal/asynqfanin, as BenchmarkCommitted's baseline):
// one Asynq task per sighting, enqueued one by one, 8 workers polling every
// 10 ms, whose handler analyses the sighting as the zombies handler does, HSETs the
// analysis and INCRs a counter; the task that brings the counter to 20,000
// reads the hash (HVALS), folds every analysis into the zombies Predictor
// and writes the result. Both decode and encode JSON as jobs.Handle and
// jobs.Fold do.
func BenchmarkBinaries20k(b *testing.B) {
	const n = 20_000
	// cold: each job on a deployment started for it, the first job of its
	// processes: their heaps grow from nothing (page faults), they dial
	// their connections and Redis loads their scripts. warm: one deployment,
	// a first job not measured, then each measured job on the same
	// processes.
	for _, warm := range []bool{false, true} {
		name := "fanin"
		if warm {
			name = "fanin-warm"
		}
		b.Run(name, func(b *testing.B) {
			var total, submitted, completed time.Duration
			usage := map[string]float64{}
			stats := os.Getenv("FANIN_BENCH_STATS") != ""
			cmdTimes := map[string]int64{} // with stats
			var d binDeployment
			for i := range b.N {
				b.StopTimer()
				if !warm || i == 0 {
					d = startBinDeployment(b)
				}
				if warm && i == 0 {
					submitAndWait(b, d.store, d.producer, sightingEvents(b, n, 19))
					time.Sleep(50 * time.Millisecond)
				}
				events := sightingEvents(b, n, 20)
				before, cmdBefore := d.usage(b), map[string]int64{}
				if stats {
					cmdBefore = d.commandTimes(b)
				}
				t := submitAndWait(b, d.store, d.producer, events)
				total, submitted, completed = total+t.committed, submitted+t.submitted, completed+t.completed
				time.Sleep(50 * time.Millisecond) // the processes settle after the commit
				for k, v := range d.usage(b) {
					usage[k] += v - before[k]
				}
				if stats {
					for k, v := range d.commandTimes(b) {
						cmdTimes[k] += v - cmdBefore[k]
					}
				}
			}
			if stats {
				lines := redistest.CommandTimeLines(nil, cmdTimes, n*b.N)
				fmt.Fprintf(os.Stderr, "%s: Redis time by command:\n%s\n", b.Name(), strings.Join(lines, "\n"))
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "events/s")
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/job")
			b.ReportMetric(float64(submitted.Milliseconds())/float64(b.N), "submit-ms/job")
			b.ReportMetric(float64(completed.Milliseconds())/float64(b.N), "complete-ms/job")
			for k, v := range usage {
				b.ReportMetric(v/float64(b.N), k+"/job")
			}
		})
	}
	b.Run("asynq-fan-in", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			b.StopTimer()
			total += runAsynqZombies(b, sightingEvents(b, n, 20))
		}
		b.ReportMetric(float64(n*b.N)/total.Seconds(), "events/s")
		b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/job")
	})
}

// runAsynqZombies runs the baseline of BenchmarkBinaries20k (asynqfanin)
// on a fresh server and returns the time from the first enqueue to the
// result written.
func runAsynqZombies(b *testing.B, events []jobs.Event) time.Duration {
	b.Helper()
	srv := redistest.StartServer(b, redistest.ServerOptions{})
	var payloads [][]byte
	for _, e := range events {
		payloads = append(payloads, e.Payload)
	}
	elapsed, err := asynqfanin.Run(context.Background(), asynqfanin.Config{
		Client: srv.Client(b),
		Handle: func(ctx context.Context, _ string, payload []byte) (string, []byte, error) {
			var s zsightings.Sighting
			if err := json.Unmarshal(payload, &s); err != nil {
				return "", nil, err
			}
			a, err := zombiejob.Handle(ctx, s)
			if err != nil {
				return "", nil, err
			}
			out, err := json.Marshal(a)
			return s.ID, out, err
		},
		Reduce: func(outputs []string) ([]byte, error) {
			p := zsightings.NewPredictor()
			for _, v := range outputs {
				var a zsightings.Analysis
				if err := json.Unmarshal([]byte(v), &a); err != nil {
					return nil, err
				}
				if err := p.Add(a); err != nil {
					return nil, err
				}
			}
			return json.Marshal(p.Result())
		},
	}, payloads)
	if err != nil {
		b.Fatal(err)
	}
	return elapsed
}
