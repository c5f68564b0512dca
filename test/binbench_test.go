package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	zsightings "github.com/fanin-dev/fanin/examples/zombies/sightings"
	"github.com/fanin-dev/fanin/examples/zombies/zombiejob"
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
// BenchmarkBinaries20k runs one job of 20,000 sightings through the same
// binaries with their defaults, submit to commit; its baseline,
// BenchmarkCommitted/asynq-fan-in/n=20000 in ./jobs/, runs in the same
// invocation:
//
//	go test -run '^$' -bench 'SmallJobs|Binaries20k' -benchtime 1x ./test/ && \
//	  go test -run '^$' -bench 'Committed/asynq-fan-in/n=20000' -benchtime 3x ./jobs/
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

// binDeployment starts a fresh server, a worker (with args) and a
// coordinator daemon with their defaults, and returns a store and a
// producer on the server.
func binDeployment(b *testing.B, workerArgs ...string) (*redistest.Server, redis.UniversalClient, *workoutput.Store, *jobs.Producer) {
	b.Helper()
	srv := redistest.StartServer(b, redistest.ServerOptions{})
	client := srv.Client(b)
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
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logf.Close() })
	}
	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := jobs.NewProducer(client, store, jobs.ProducerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second) // both processes connect and start serving
	return srv, client, store, p
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

// submitAndWait submits events and waits until the job is done; it returns
// the time from the start of Submit to the commit.
func submitAndWait(b *testing.B, store *workoutput.Store, p *jobs.Producer, events []jobs.Event) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	id, err := p.Submit(ctx, workoutput.Spec{Kind: "zombies.sighting"}, events)
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		st, err := store.Status(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if st.State.Terminal() {
			if st.State != workoutput.StateDone {
				b.Fatalf("job %s ended %s: %s", id, st.State, st.Error)
			}
			return st.Finished.Sub(start.Truncate(time.Millisecond))
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
	_, client, store, p := binDeployment(b, args...)
	events := sightingEvents(b, 1000, 17)
	var lat []time.Duration
	for range 50 {
		time.Sleep(time.Duration(200+len(lat)%7*37) * time.Millisecond) // idle between jobs
		lat = append(lat, submitAndWait(b, store, p, events))
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

// BenchmarkBinaries20k: one job of 20,000 sightings, submit to commit,
// through the binaries started with their defaults.
func BenchmarkBinaries20k(b *testing.B) {
	const n = 20_000
	var total time.Duration
	for range b.N {
		b.StopTimer()
		_, _, store, p := binDeployment(b)
		events := sightingEvents(b, n, 20)
		total += submitAndWait(b, store, p, events)
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "events/s")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/job")
}
