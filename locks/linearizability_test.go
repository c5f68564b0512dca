package locks

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache/memorycache"
	"github.com/fanin-dev/fanin/cache/rediscache"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The linearizability test: many goroutines, in this process and in helper
// processes, take a small set of resources with Acquire, AcquireAll and
// TryAcquire, short TTLs, renewals (by hand and by watchdog) and releases,
// and record every hold; fenced writes mark the start and end of each hold.
// Then, on every backend:
//
//   - the validity intervals of the holds of one resource never overlap: a
//     hold runs from the return of the call that took the lock until its
//     release, cut at the lock's own estimate of its expiry (Lock.validTil,
//     extended by each renewal);
//   - no call hands out a lock whose TTL has already run out;
//   - a fenced write is only rejected once its lock's TTL has run out.
//
// Redis counts TTLs in whole milliseconds, so intervals may touch by up to
// overlapSlack. Nothing here asserts how fast anything is. FANIN_FULL=1
// runs longer, with more goroutines; FANIN_LIN_SEED replays a seed.

// overlapSlack is the tolerance of the interval checks: Redis truncates the
// time it computes expiries from to the millisecond.
const overlapSlack = 2 * time.Millisecond

// Environment of the "linearize" helper process.
const (
	linBackendEnv  = "FANIN_LOCKS_LIN_BACKEND" // "redis" or "cache-redis"
	linSeedEnv     = "FANIN_LOCKS_LIN_SEED"
	linWorkersEnv  = "FANIN_LOCKS_LIN_WORKERS"
	linDurationEnv = "FANIN_LOCKS_LIN_DURATION"
	linProcEnv     = "FANIN_LOCKS_LIN_PROC"
)

var linResources = []string{"aa", "bb", "zz"}

// hold is one lock held by a worker, as the worker saw it. Times are wall
// clock Unix nanoseconds, comparable across the processes of one host.
type hold struct {
	Proc, Worker int
	Resource     string
	Token        int64
	Via          string // "acquire", "try", "all"
	Start        int64  // the call returned the lock
	ValidAtStart int64  // the lock's expiry estimate then
	End          int64  // just before Release
	ValidTil     int64  // the expiry estimate at End
	Released     bool   // Release found the lock still ours
	Writes       []fencedWrite
}

// fencedWrite is one write under the hold's token.
type fencedWrite struct {
	Kind     string // "begin" or "end"
	Accepted bool
	Done     int64 // the write's reply arrived
	ValidTil int64 // the lock's expiry estimate when the write started
}

// fencer writes under a fencing token, atomically checked.
type fencer interface {
	write(ctx context.Context, resource string, token int64, entry string) (bool, error)
}

// redisFencer appends to a per-resource log in Redis under the resource's
// fence (FenceLua), one atomic script per write.
type redisFencer struct {
	rdb    redis.Scripter
	prefix string
	script *redis.Script
}

func newRedisFencer(rdb redis.Scripter, prefix string) *redisFencer {
	return &redisFencer{rdb: rdb, prefix: prefix, script: redis.NewScript(FenceLua() + `
local ok = fanin_fence(KEYS[1], tonumber(ARGV[1]), 0)
if not ok then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1`)}
}

func (f *redisFencer) write(ctx context.Context, resource string, token int64, entry string) (bool, error) {
	keys := []string{FenceKey(f.prefix, resource), f.prefix + "linlog:" + HashTag(resource)}
	n, err := f.script.Run(ctx, f.rdb, keys, token, entry).Int()
	return n == 1, err
}

// memFencer is the same fence in process, for the in-memory backend.
type memFencer struct {
	mu      sync.Mutex
	highest map[string]int64
}

func (f *memFencer) write(_ context.Context, resource string, token int64, _ string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if token < f.highest[resource] {
		return false, nil
	}
	f.highest[resource] = token
	return true, nil
}

// linConfig sizes a run.
type linConfig struct {
	seed     uint64
	proc     int
	workers  int
	duration time.Duration
}

// linWorkload runs cfg.workers workers on p until cfg.duration has passed
// and returns their holds.
func linWorkload(ctx context.Context, p *Provider, f fencer, cfg linConfig) ([]hold, error) {
	var (
		mu    sync.Mutex
		holds []hold
		wg    sync.WaitGroup
		errs  = make(chan error, cfg.workers)
	)
	deadline := time.Now().Add(cfg.duration)
	for w := range cfg.workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(cfg.seed, uint64(cfg.proc*1000+w)))
			for time.Now().Before(deadline) {
				hs, err := linRound(ctx, p, f, r, cfg.proc, w)
				if err != nil {
					errs <- fmt.Errorf("process %d worker %d: %w", cfg.proc, w, err)
					return
				}
				mu.Lock()
				holds = append(holds, hs...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	return holds, <-errs
}

// linRound takes one or more locks, holds them a while, and releases them.
// Not obtaining a lock is not an error; any other failure is.
func linRound(ctx context.Context, p *Provider, f fencer, r *rand.Rand, proc, worker int) ([]hold, error) {
	ttl := []time.Duration{200 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond}[r.IntN(3)]
	opts := &AcquireOptions{TTL: ttl, Timeout: 2 * time.Second}
	var (
		locks []*Lock
		via   string
		err   error
	)
	switch n := r.IntN(10); {
	case n < 4:
		via = "acquire"
		var l *Lock
		if l, err = p.Acquire(ctx, linResources[r.IntN(len(linResources))], opts); err == nil {
			locks = []*Lock{l}
		}
	case n < 5:
		via = "try"
		var l *Lock
		if l, err = p.TryAcquire(ctx, linResources[r.IntN(len(linResources))], opts); err == nil {
			locks = []*Lock{l}
		}
	default:
		via = "all"
		set := slices.Clone(linResources)
		r.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
		var g *Group
		if g, err = p.AcquireAll(ctx, set[:2+r.IntN(2)], opts); err == nil {
			locks = g.Locks()
		}
	}
	if errors.Is(err, ErrNotObtained) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	start := time.Now()
	holds := make([]hold, len(locks))
	for i, l := range locks {
		holds[i] = hold{Proc: proc, Worker: worker, Resource: l.Resource(), Token: l.Token(), Via: via,
			Start: start.UnixNano(), ValidAtStart: l.validUntil().UnixNano()}
	}
	write := func(kind string) error {
		for i, l := range locks {
			valid := l.validUntil()
			ok, err := f.write(ctx, l.Resource(), l.Token(), fmt.Sprintf("%d %s p%d w%d", l.Token(), kind, proc, worker))
			if err != nil {
				return err
			}
			holds[i].Writes = append(holds[i].Writes, fencedWrite{Kind: kind, Accepted: ok, Done: time.Now().UnixNano(), ValidTil: valid.UnixNano()})
		}
		return nil
	}
	if err := write("begin"); err != nil {
		return nil, err
	}
	// Hold for up to 1.5 TTLs: long holds keep the others (and AcquireAll
	// calls) waiting for longer than a TTL, kept alive by a watchdog or by
	// renewals by hand.
	d := time.Duration(r.Int64N(int64(ttl) * 3 / 2))
	switch {
	case d < ttl/2:
		time.Sleep(d)
	case r.IntN(2) == 0:
		for _, l := range locks {
			l.Watch(ctx)
		}
		time.Sleep(d)
	default:
		for end := time.Now().Add(d); time.Now().Before(end); {
			time.Sleep(min(ttl/3, time.Until(end)))
			for _, l := range locks {
				if err := l.Renew(ctx, 0); err != nil && !errors.Is(err, ErrNotHeld) {
					return nil, err
				}
			}
		}
	}
	if err := write("end"); err != nil {
		return nil, err
	}
	for i, l := range locks {
		holds[i].End = time.Now().UnixNano()
		holds[i].ValidTil = l.validUntil().UnixNano()
		err := l.Release(ctx)
		if err != nil && !errors.Is(err, ErrNotHeld) {
			return nil, err
		}
		holds[i].Released = err == nil
	}
	return holds, nil
}

// checkHolds returns every violation of the invariants in holds.
func checkHolds(holds []hold) []string {
	var bad []string
	byResource := map[string][]hold{}
	for _, h := range holds {
		byResource[h.Resource] = append(byResource[h.Resource], h)
		if h.ValidAtStart <= h.Start {
			bad = append(bad, fmt.Sprintf("%s token %d (%s, p%d w%d) was handed out %v after its TTL had run out",
				h.Resource, h.Token, h.Via, h.Proc, h.Worker, time.Duration(h.Start-h.ValidAtStart)))
		}
		for _, w := range h.Writes {
			if !w.Accepted && w.Done+int64(overlapSlack) < w.ValidTil {
				bad = append(bad, fmt.Sprintf("%s token %d (%s, p%d w%d): %s write fenced off %v before its lock's TTL ran out",
					h.Resource, h.Token, h.Via, h.Proc, h.Worker, w.Kind, time.Duration(w.ValidTil-w.Done)))
			}
		}
	}
	for res, hs := range byResource {
		slices.SortFunc(hs, func(a, b hold) int { return int(a.Start - b.Start) })
		// end of validity: released at End, or expired at ValidTil.
		until := func(h hold) int64 { return min(h.End, h.ValidTil) }
		for i := 1; i < len(hs); i++ {
			// Compare with every earlier hold still valid at hs[i].Start.
			for j := i - 1; j >= 0 && i-j < 50; j-- {
				prev, cur := hs[j], hs[i]
				// An empty interval (a lock handed out expired) is reported
				// above.
				if until(prev) > cur.Start+int64(overlapSlack) && prev.Start < until(prev) && cur.Start < until(cur) {
					bad = append(bad, fmt.Sprintf("%s: token %d (%s, p%d w%d) held until %v after token %d (%s, p%d w%d) took it",
						res, prev.Token, prev.Via, prev.Proc, prev.Worker, time.Duration(until(prev)-cur.Start),
						cur.Token, cur.Via, cur.Proc, cur.Worker))
				}
			}
		}
	}
	return bad
}

// linBackend is one backend the test runs on.
type linBackend struct {
	name string
	// open returns a Provider and a fencer for this process, and the
	// environment of helper processes (nil: no helper processes).
	open func(t *testing.T) (*Provider, fencer, []string)
}

func linBackends() []linBackend {
	redisEnv := func(r *redistest.Redis, cluster bool, backend string) []string {
		return []string{helperURLEnv + "=" + r.URL, helperPrefixEnv + "=" + r.Prefix,
			helperClusterEnv + "=" + map[bool]string{true: "1", false: "0"}[cluster], linBackendEnv + "=" + backend}
	}
	return []linBackend{
		{"redis-standalone", func(t *testing.T) (*Provider, fencer, []string) {
			r := redistest.New(t)
			return newProvider(t, r), newRedisFencer(r.Client, r.Prefix), redisEnv(r, false, "redis")
		}},
		{"redis-cluster", func(t *testing.T) (*Provider, fencer, []string) {
			r := redistest.NewCluster(t)
			return newProvider(t, r), newRedisFencer(r.Client, r.Prefix), redisEnv(r, true, "redis")
		}},
		{"cache-rediscache", func(t *testing.T) (*Provider, fencer, []string) {
			r := redistest.New(t)
			c, err := rediscache.New(r.Client, rediscache.Config{KeyPrefix: r.Prefix})
			if err != nil {
				t.Fatal(err)
			}
			return newCacheProvider(t, c), newRedisFencer(r.Client, r.Prefix), redisEnv(r, false, "cache-redis")
		}},
		{"cache-memorycache", func(t *testing.T) (*Provider, fencer, []string) {
			c, err := memorycache.New(memorycache.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return newCacheProvider(t, c), &memFencer{highest: map[string]int64{}}, nil
		}},
	}
}

func TestLinearizability(t *testing.T) {
	full := os.Getenv("FANIN_FULL") == "1"
	workers, helpers, duration := 6, 2, 3*time.Second
	if full {
		workers, helpers, duration = 10, 3, 30*time.Second
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FANIN_LIN_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FANIN_LIN_SEED=%q: %v", s, err)
		}
		seed = n
	}
	for _, b := range linBackends() {
		t.Run(b.name, func(t *testing.T) {
			p, f, env := b.open(t)
			ctx := t.Context()
			var children []*child
			if env != nil {
				for i := range helpers {
					children = append(children, startChild(t, newHelperCmd("linearize", append(env,
						linSeedEnv+"="+strconv.FormatUint(seed, 10), linProcEnv+"="+strconv.Itoa(i+1),
						linWorkersEnv+"="+strconv.Itoa(workers), linDurationEnv+"="+duration.String()))))
				}
			}
			holds, err := linWorkload(ctx, p, f, linConfig{seed: seed, workers: workers, duration: duration})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			for i, c := range children {
				hs, err := readHolds(c)
				if err != nil {
					t.Fatalf("seed %d: helper %d: %v", seed, i+1, err)
				}
				holds = append(holds, hs...)
			}
			vias := map[string]int{}
			for _, h := range holds {
				vias[h.Via]++
			}
			t.Logf("seed %d: %d holds (%v) by %d processes", seed, len(holds), vias, 1+len(children))
			if vias["all"] == 0 || vias["acquire"] == 0 {
				t.Fatalf("seed %d: too few holds to check anything: %v", seed, vias)
			}
			if bad := checkHolds(holds); len(bad) > 0 {
				if len(bad) > 20 {
					bad = append(bad[:20], fmt.Sprintf("... and %d more", len(bad)-20))
				}
				t.Fatalf("seed %d (replay: FANIN_LIN_SEED=%d): %d violations:\n%s", seed, seed, len(bad), strings.Join(bad, "\n"))
			}
		})
	}
}

// readHolds reads a helper's holds, one JSON object a line, until it exits.
func readHolds(c *child) ([]hold, error) {
	data, err := io.ReadAll(c.stdout)
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%v; output %q; stderr %s", err, data, c.stderr.String())
	}
	var out []hold
	for ln := range strings.Lines(string(data)) {
		var h hold
		if err := json.Unmarshal([]byte(ln), &h); err != nil {
			return nil, fmt.Errorf("line %q: %v", ln, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// helperLinearize is the "linearize" helper process: the workload on its
// own Provider, printing its holds.
func helperLinearize(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	var p *Provider
	var err error
	switch os.Getenv(linBackendEnv) {
	case "redis":
		p, err = New(Config{Redis: rdb, KeyPrefix: prefix})
	case "cache-redis":
		var c *rediscache.Cache
		if c, err = rediscache.New(rdb, rediscache.Config{KeyPrefix: prefix}); err == nil {
			p, err = New(Config{Cache: c})
		}
	default:
		err = fmt.Errorf("%s=%q: want redis or cache-redis", linBackendEnv, os.Getenv(linBackendEnv))
	}
	if err != nil {
		return err
	}
	defer p.Close()
	seed, err := strconv.ParseUint(os.Getenv(linSeedEnv), 10, 64)
	if err != nil {
		return err
	}
	proc, _ := strconv.Atoi(os.Getenv(linProcEnv))
	workers, _ := strconv.Atoi(os.Getenv(linWorkersEnv))
	duration, err := time.ParseDuration(os.Getenv(linDurationEnv))
	if err != nil {
		return err
	}
	holds, err := linWorkload(ctx, p, newRedisFencer(rdb, prefix), linConfig{seed: seed, proc: proc, workers: workers, duration: duration})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for _, h := range holds {
		if err := enc.Encode(h); err != nil {
			return err
		}
	}
	return out.Flush()
}
