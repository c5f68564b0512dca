package jobs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/locks"
	"github.com/fanin-dev/fanin/workoutput"
)

// Environment of a helper process: this test binary, re-executed as a
// coordinator whose reducer blocks until a file exists.
const (
	helperEnv        = "FANIN_JOBS_HELPER" // "collect", "gather", "worker" or "ping"
	helperURLEnv     = "FANIN_JOBS_URL"
	helperClusterEnv = "FANIN_JOBS_CLUSTER"
	helperNSEnv      = "FANIN_JOBS_NAMESPACE"
	helperJobEnv     = "FANIN_JOBS_JOB"
	helperGoEnv      = "FANIN_JOBS_GO_FILE"
	helperLockTTL    = time.Second
)

// runHelper runs the helper mode named by helperEnv: "collect" (the
// takeover tests), "gather" (BenchmarkGather), "worker" (the fault tests)
// or "ping" (the real-time probe of the benchmarks' pingProbe).
func runHelper() int {
	var client redis.UniversalClient
	if os.Getenv(helperClusterEnv) == "1" {
		opts, err := redis.ParseClusterURL(os.Getenv(helperURLEnv))
		if err != nil {
			fmt.Println("err", err)
			return 1
		}
		opts.ContextTimeoutEnabled = true
		client = redis.NewClusterClient(opts)
	} else {
		opts, err := redis.ParseURL(os.Getenv(helperURLEnv))
		if err != nil {
			fmt.Println("err", err)
			return 1
		}
		opts.ContextTimeoutEnabled = true
		client = redis.NewClient(opts)
	}
	defer client.Close()
	var err error
	switch mode := os.Getenv(helperEnv); mode {
	case "collect":
		err = runCollectHelper(client)
	case "gather":
		err = runGatherHelper(client)
	case "worker":
		err = runWorkerHelper(client)
	case "ping":
		err = runPingHelper(client)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	return 0
}

// runCollectHelper collects one job and prints "token <n>" once its
// reducer runs, then the outcome: "committed <state>", "fenced" or
// "err <error>".
func runCollectHelper(client redis.UniversalClient) error {
	store, err := workoutput.New(client, workoutput.Config{Namespace: os.Getenv(helperNSEnv)})
	if err != nil {
		return err
	}
	c, err := NewCoordinator(client, store, CoordinatorConfig{LockTTL: helperLockTTL})
	if err != nil {
		return err
	}
	defer c.Close()
	goFile := os.Getenv(helperGoEnv)
	err = c.Handle("slow", ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		fmt.Printf("token %d\n", job.Token)
		// Blocks, ignoring ctx, until the test says go: like a reducer
		// stuck in a computation while its process is stopped.
		for {
			if _, err := os.Stat(goFile); err == nil {
				return []byte("from the child"), nil
			}
			time.Sleep(10 * time.Millisecond)
		}
	}))
	if err != nil {
		return err
	}
	out, err := c.Collect(context.Background(), os.Getenv(helperJobEnv))
	switch {
	case errors.Is(err, locks.ErrFenced):
		fmt.Println("fenced")
	case err != nil:
		fmt.Println("err", err)
	default:
		fmt.Println("committed", out.State)
	}
	return nil
}

// helper is a coordinator process started by a test.
type helper struct {
	cmd    *exec.Cmd
	out    *bufio.Reader
	stderr *strings.Builder
	goFile string
}

func startCollector(t *testing.T, r *redistest.Redis, cluster bool, jobID string) *helper {
	t.Helper()
	h := &helper{stderr: &strings.Builder{}, goFile: filepath.Join(t.TempDir(), "go")}
	h.cmd = exec.Command(os.Args[0], "-test.run=^$")
	h.cmd.Env = append(os.Environ(), helperEnv+"=collect", helperURLEnv+"="+r.URL, helperNSEnv+"="+r.Prefix,
		helperJobEnv+"="+jobID, helperGoEnv+"="+h.goFile,
		helperClusterEnv+"="+map[bool]string{true: "1", false: "0"}[cluster])
	h.cmd.Stderr = h.stderr
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.out = bufio.NewReader(out)
	if err := redistest.StartProcess(h.cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.cmd.Process.Signal(syscall.SIGCONT)
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
	})
	return h
}

// line reads one line of the helper's output.
func (h *helper) line(t *testing.T) string {
	t.Helper()
	s, err := h.out.ReadString('\n')
	if err != nil {
		t.Fatalf("helper output ended (%v); stderr: %s", err, h.stderr.String())
	}
	return strings.TrimSpace(s)
}

// collectWhenFree calls Collect until the job's lock is free (the helper's
// lock expires after its TTL) and returns the outcome.
func collectWhenFree(t *testing.T, c *Coordinator, jobID string) Outcome {
	t.Helper()
	for range 300 {
		out, err := c.Collect(context.Background(), jobID)
		if errors.Is(err, ErrBusy) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatal("the job's lock was never freed")
	return Outcome{}
}

// takeoverSetup opens a complete job of kind "slow" and a coordinator (in
// this process) whose reducer returns "from the parent".
func takeoverSetup(t *testing.T, e coordEnv) (string, *Coordinator) {
	t.Helper()
	id := sealedJob(t, e.store, workoutput.Spec{Kind: "slow", Retention: time.Minute}, "a", "b")
	write(t, e.store, id, []string{"a", "b"})
	c := e.coordinator(t, CoordinatorConfig{LockTTL: 10 * time.Second})
	err := c.Handle("slow", ReducerFunc(func(context.Context, JobInfo, *Input) ([]byte, error) {
		return []byte("from the parent"), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return id, c
}

// TestKilledCoordinatorIsTakenOver kills a coordinator process in the
// middle of a reduce: another coordinator's sweep finishes the job.
func TestKilledCoordinatorIsTakenOver(t *testing.T) {
	t.Parallel()
	for _, cluster := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "cluster"}[cluster], func(t *testing.T) {
			t.Parallel()
			e := newCoordEnv(t, cluster)
			id, c := takeoverSetup(t, e)
			h := startCollector(t, e.r, cluster, id)
			var childToken int64
			if _, err := fmt.Sscanf(h.line(t), "token %d", &childToken); err != nil {
				t.Fatal(err)
			}
			if err := h.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = h.cmd.Wait()
			// The job is left collecting under a dead coordinator's lock.
			if st, err := e.store.Status(context.Background(), id); err != nil || st.State != workoutput.StateCollecting || st.Token != childToken {
				t.Fatalf("Status after the kill = %+v, %v; want collecting under token %d", st, err, childToken)
			}
			// The coordinator's sweep finds it and takes over once the dead
			// coordinator's lock has expired.
			ctx := context.Background()
			for i := 0; ; i++ {
				if err := c.Sweep(ctx, time.Now()); err != nil {
					t.Fatal(err)
				}
				st, err := e.store.Status(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if st.State == workoutput.StateDone {
					if st.Token <= childToken {
						t.Fatalf("done under token %d; want one above the dead coordinator's %d", st.Token, childToken)
					}
					break
				}
				if i == 300 {
					t.Fatalf("job never taken over: %+v", st)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if res, err := e.store.Result(ctx, id); err != nil || string(res) != "from the parent" {
				t.Fatalf("result = %q, %v; want the parent's", res, err)
			}
		})
	}
}

// TestStoppedCoordinatorIsFenced stops a coordinator process (SIGSTOP) in
// the middle of a reduce, past its lock TTL: another coordinator commits;
// the stopped one, resumed, finishes its reduce and its commit is rejected
// by the fence; the other's result stands.
func TestStoppedCoordinatorIsFenced(t *testing.T) {
	t.Parallel()
	for _, cluster := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "cluster"}[cluster], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newCoordEnv(t, cluster)
			id, c := takeoverSetup(t, e)
			h := startCollector(t, e.r, cluster, id)
			if got := h.line(t); !strings.HasPrefix(got, "token ") {
				t.Fatalf("helper said %q; want its token", got)
			}
			if err := h.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			out := collectWhenFree(t, c, id) // waits out the stopped helper's lock TTL
			if out.State != workoutput.StateDone || string(out.Result) != "from the parent" {
				t.Fatalf("takeover = %+v; want done by the parent", out)
			}
			if err := os.WriteFile(h.goFile, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := h.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			if got := h.line(t); got != "fenced" {
				t.Fatalf("resumed helper's commit: %q; want fenced (stderr %s)", got, h.stderr.String())
			}
			if err := h.cmd.Wait(); err != nil {
				t.Fatalf("helper: %v; stderr: %s", err, h.stderr.String())
			}
			res, err := e.store.Result(ctx, id)
			if err != nil || string(res) != "from the parent" {
				t.Fatalf("result = %q, %v; want the parent's", res, err)
			}
			if st, err := e.store.Status(ctx, id); err != nil || st.State != workoutput.StateDone || st.Token != out.Token {
				t.Fatalf("Status = %+v, %v; want done under the parent's token %d", st, err, out.Token)
			}
		})
	}
}
