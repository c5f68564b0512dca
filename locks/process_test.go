package locks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Environment of a helper process (this test binary, re-executed).
const (
	helperEnv         = "FANIN_LOCKS_HELPER" // "contend", "hold" or "linearize"
	helperURLEnv      = "FANIN_LOCKS_URL"
	helperClusterEnv  = "FANIN_LOCKS_CLUSTER"
	helperPrefixEnv   = "FANIN_LOCKS_PREFIX"
	helperRoutinesEnv = "FANIN_LOCKS_GOROUTINES"
	helperRoundsEnv   = "FANIN_LOCKS_ROUNDS"
)

// runHelper runs a helper process and returns its exit code.
func runHelper(mode string) int {
	ctx := context.Background()
	var rdb redis.UniversalClient
	url := os.Getenv(helperURLEnv)
	if os.Getenv(helperClusterEnv) == "1" {
		opts, err := redis.ParseClusterURL(url)
		if err != nil {
			fmt.Println("err", err)
			return 1
		}
		opts.ContextTimeoutEnabled = true
		rdb = redis.NewClusterClient(opts)
	} else {
		opts, err := redis.ParseURL(url)
		if err != nil {
			fmt.Println("err", err)
			return 1
		}
		opts.ContextTimeoutEnabled = true
		opts.PoolSize = 110
		rdb = redis.NewClient(opts)
	}
	defer rdb.Close()
	prefix := os.Getenv(helperPrefixEnv)
	if mode == "linearize" {
		if err := helperLinearize(ctx, rdb, prefix); err != nil {
			fmt.Println("err", err)
			return 1
		}
		return 0
	}
	p, err := New(Config{Redis: rdb, KeyPrefix: prefix})
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	defer p.Close()
	switch mode {
	case "contend":
		err = helperContend(ctx, p, rdb, prefix)
	case "hold":
		err = helperHold(ctx, p, rdb, prefix)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Println("err", err)
		return 1
	}
	return 0
}

// helperContend runs goroutines that each take the lock some rounds and do a
// read-modify-write of a counter inside it, printing "acq <token> <read>".
func helperContend(ctx context.Context, p *Provider, rdb redis.UniversalClient, prefix string) error {
	routines, _ := strconv.Atoi(os.Getenv(helperRoutinesEnv))
	rounds, _ := strconv.Atoi(os.Getenv(helperRoundsEnv))
	counter := prefix + "counter"
	var (
		mu   sync.Mutex
		out  = bufio.NewWriter(os.Stdout)
		wg   sync.WaitGroup
		errs = make(chan error, routines)
	)
	for range routines {
		wg.Go(func() {
			for range rounds {
				l, err := p.Acquire(ctx, "shared", &AcquireOptions{TTL: 20 * time.Second, Timeout: 2 * time.Minute})
				if err != nil {
					errs <- err
					return
				}
				n, err := rdb.Get(ctx, counter).Int64()
				if err != nil && !errors.Is(err, redis.Nil) {
					errs <- err
					return
				}
				if err := rdb.Set(ctx, counter, n+1, 0).Err(); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				fmt.Fprintf(out, "acq %d %d\n", l.Token(), n)
				mu.Unlock()
				if err := l.Release(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := out.Flush(); err != nil {
		return err
	}
	return <-errs // nil when the channel is empty
}

// helperHold takes the lock with a 1 s TTL, prints "token <n>", and after a
// line on stdin releases it and commits a fenced write, printing the
// outcome of each: "release <ok|notheld|error>" and "commit <ok|fenced|error>".
func helperHold(ctx context.Context, p *Provider, rdb redis.UniversalClient, prefix string) error {
	l, err := p.Acquire(ctx, "stall", &AcquireOptions{TTL: time.Second, Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	fmt.Printf("token %d\n", l.Token())
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	fmt.Println("release", outcome(l.Release(ctx), ErrNotHeld, "notheld"))
	f, err := NewFence(FenceConfig{Redis: rdb, KeyPrefix: prefix})
	if err != nil {
		return err
	}
	err = f.CommitIfFenced(ctx, "stall", l.Token(), prefix+"result:"+HashTag("stall"), []byte("from the stalled holder"), 0)
	fmt.Println("commit", outcome(err, ErrFenced, "fenced"))
	return nil
}

func outcome(err, sentinel error, name string) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, sentinel):
		return name
	default:
		return "error: " + err.Error()
	}
}

// child is a helper process started by a test.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *strings.Builder
}

// newHelperCmd returns the command of a helper process in mode: this test
// binary, re-executed with env added to the environment.
func newHelperCmd(mode string, env []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode), env...)
	return cmd
}

func startHelper(t *testing.T, tg target, r *redistest.Redis, mode string, env ...string) *child {
	t.Helper()
	return startChild(t, newHelperCmd(mode, append([]string{helperURLEnv + "=" + r.URL, helperPrefixEnv + "=" + r.Prefix,
		helperClusterEnv + "=" + map[bool]string{true: "1", false: "0"}[tg.cluster]}, env...)))
}

// startChild starts cmd with pipes to its stdin and stdout, collecting its
// stderr, and kills it (resuming it first, if stopped) when the test ends.
func startChild(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	c := &child{cmd: cmd, stderr: &strings.Builder{}}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stdout = bufio.NewReader(out)
	if err := redistest.StartProcess(cmd); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return c
}

// line reads one line of the child's output, failing on an "err" line.
func (c *child) line(t *testing.T) string {
	t.Helper()
	s, err := c.stdout.ReadString('\n')
	if err != nil {
		t.Fatalf("helper output ended (%v); stderr: %s", err, c.stderr.String())
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "err ") {
		t.Fatalf("helper failed: %s", s)
	}
	return s
}

// TestContentionAcrossProcesses runs 100 goroutines in each of 3 processes
// on one resource: no read-modify-write is lost, and tokens are distinct and
// increase in the order the critical sections ran.
func TestContentionAcrossProcesses(t *testing.T) {
	const procs, routines, rounds = 3, 100, 2
	eachRedis(t, func(t *testing.T, tg target, r *redistest.Redis) {
		type acq struct{ token, read int64 }
		var (
			mu   sync.Mutex
			acqs []acq
			wg   sync.WaitGroup
		)
		for range procs {
			c := startHelper(t, tg, r, "contend",
				helperRoutinesEnv+"="+strconv.Itoa(routines), helperRoundsEnv+"="+strconv.Itoa(rounds))
			wg.Go(func() {
				out, _ := io.ReadAll(c.stdout)
				err := c.cmd.Wait()
				mu.Lock()
				defer mu.Unlock()
				for _, ln := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					var a acq
					if _, serr := fmt.Sscanf(ln, "acq %d %d", &a.token, &a.read); serr != nil {
						t.Errorf("helper line %q (exit %v, stderr %s)", ln, err, c.stderr.String())
						return
					}
					acqs = append(acqs, a)
				}
				if err != nil {
					t.Errorf("helper exited: %v; stderr: %s", err, c.stderr.String())
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		const total = procs * routines * rounds
		if len(acqs) != total {
			t.Fatalf("%d acquisitions reported; want %d", len(acqs), total)
		}
		n, err := r.Client.Get(context.Background(), r.Prefix+"counter").Int64()
		if err != nil || n != total {
			t.Fatalf("counter = %d (%v); want %d: a critical section overlapped another", n, err, total)
		}
		// Sorted by the counter value each read, the reads are 0..total-1
		// (no two sections overlapped) and tokens strictly increase.
		slices.SortFunc(acqs, func(a, b acq) int { return int(a.read - b.read) })
		for i, a := range acqs {
			if a.read != int64(i) {
				t.Fatalf("critical section %d read counter %d: sections overlapped", i, a.read)
			}
			if i > 0 && a.token <= acqs[i-1].token {
				t.Fatalf("token %d of section %d is not above token %d of the section before", a.token, i, acqs[i-1].token)
			}
		}
	})
}

// TestStalledHolderIsFenced stops a holder's process past its TTL: a second
// holder takes the lock and commits; the first, resumed, cannot release the
// new lock and its fenced write is rejected.
func TestStalledHolderIsFenced(t *testing.T) {
	eachRedis(t, func(t *testing.T, tg target, r *redistest.Redis) {
		ctx := context.Background()
		p := newProvider(t, r)
		c := startHelper(t, tg, r, "hold")
		var oldToken int64
		if _, err := fmt.Sscanf(c.line(t), "token %d", &oldToken); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		// The stopped holder cannot renew: wait for its 1 s TTL to pass.
		lockKey := p.s.keys.lock("stall")
		for r.Client.Exists(ctx, lockKey).Val() == 1 {
			time.Sleep(50 * time.Millisecond)
		}
		l, err := p.Acquire(ctx, "stall", &AcquireOptions{TTL: time.Minute, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("second holder: %v", err)
		}
		if l.Token() <= oldToken {
			t.Fatalf("second holder's token %d not above the stalled holder's %d", l.Token(), oldToken)
		}
		f, err := NewFence(FenceConfig{Redis: r.Client, KeyPrefix: r.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		sink := r.Prefix + "result:" + HashTag("stall")
		if err := f.CommitIfFenced(ctx, "stall", l.Token(), sink, []byte("from the second holder"), 0); err != nil {
			t.Fatalf("second holder's commit: %v", err)
		}

		if err := c.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
		if got := c.line(t); got != "release notheld" {
			t.Fatalf("stalled holder's Release: %q; want ErrNotHeld", got)
		}
		if got := c.line(t); got != "commit fenced" {
			t.Fatalf("stalled holder's fenced write: %q; want ErrFenced", got)
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("helper: %v; stderr: %s", err, c.stderr.String())
		}
		if v := r.Client.Get(ctx, sink).Val(); v != "from the second holder" {
			t.Fatalf("sink holds %q; want the second holder's value", v)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatalf("second holder's Release: %v (the stalled holder released it?)", err)
		}
	})
}
