package workoutput

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// TestOpenStagingSequences generates sequences of Open calls on a few job
// IDs, with the staging made small (more than 2 IDs are staged, 2 at a
// time) so that most requests are staged: new requests, retries of the
// request that created the job, other requests for its ID, several at once,
// calls past the job's deadline (TOOLATE), staged IDs that lost or repeated
// a piece or expired before open.lua ran (STAGED), and cancels in between.
// A small model says what each call must answer. After every step: each job
// holds exactly the IDs of the request that created it, each once, in
// order, no staged key is left, and every key has a TTL (the index
// excepted).
func TestOpenStagingSequences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	c := srv.Client(t)
	cfg := Config{Namespace: "stage:"}
	store, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	store.stagePiece = 2
	// late reads a clock that moves an hour on at each read: every Open
	// through it arrives past the job's deadline.
	var hours atomic.Int64
	lateCfg := cfg
	lateCfg.Now = func() time.Time { return time.Now().Add(time.Duration(hours.Add(1)) * time.Hour) }
	late, err := New(c, lateCfg)
	if err != nil {
		t.Fatal(err)
	}
	late.stagePiece = store.stagePiece

	// requests[j][r] is request r for job j: 1 to 7 IDs of its own.
	const jobs, variants = 3, 3
	seen := map[string]int{} // outcomes met, over every sequence
	type request struct {
		spec Spec
		ids  []string
	}
	for seed := range uint64(25) {
		rng := rand.New(rand.NewPCG(seed, 17))
		ids := make([]string, jobs)
		requests := make([][]request, jobs)
		for j := range jobs {
			ids[j] = NewJobID()
			for r := range variants {
				// A spec Open keeps as it is, so that the damaged
				// staging below computes the same fingerprint.
				req := request{spec: Spec{ID: ids[j], Kind: "k", Deadline: time.Minute, Retention: time.Hour, FailurePolicy: PolicyFail}}
				for e := range 1 + rng.IntN(7) {
					req.ids = append(req.ids, fmt.Sprintf("r%d-e%d", r, e))
				}
				requests[j] = append(requests[j], req)
			}
		}
		// The model: the request that created each job (-1: none yet), and
		// whether it was cancelled.
		created := []int{-1, -1, -1}
		cancelled := make([]bool, jobs)
		var trail []string
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d, after %s: %s", seed, strings.Join(trail, "; "), fmt.Sprintf(format, args...))
		}
		met := func(outcome string, j, r int) {
			seen[fmt.Sprintf("%s, staged %t", outcome, len(requests[j][r].ids) > store.stagePiece)]++
		}
		// expect checks err against what the model says of request r of
		// job j, made on time (onTime) or past the deadline, and updates
		// the model.
		expect := func(j, r int, onTime, intact bool, err error) {
			t.Helper()
			switch {
			case created[j] < 0 && !onTime:
				if !errors.Is(err, ErrState) {
					fail("an Open past the deadline of job %d: %v, want ErrState (TOOLATE)", j, err)
				}
				met("too late", j, r)
			case created[j] < 0 && !intact:
				if !errors.Is(err, errStagedIncomplete) || !errors.Is(err, cache.ErrUnavailable) {
					fail("an Open of job %d with incomplete staged IDs: %v, want errStagedIncomplete and cache.ErrUnavailable", j, err)
				}
				met("staged IDs incomplete", j, r)
			case created[j] < 0:
				if err != nil {
					fail("the first Open of job %d: %v", j, err)
				}
				created[j] = r
				met("created", j, r)
			case created[j] != r:
				if !errors.Is(err, ErrJobExists) {
					fail("another request for job %d: %v, want ErrJobExists", j, err)
				}
				met("another request", j, r)
			case cancelled[j]:
				if !errors.Is(err, ErrState) {
					fail("a retry of the request of job %d, cancelled: %v, want ErrState", j, err)
				}
				met("retry, cancelled", j, r)
			case err != nil:
				fail("a retry of the request of job %d: %v, want its answer", j, err)
			default:
				met("retry", j, r)
			}
		}
		for range 40 {
			j, r := rng.IntN(jobs), rng.IntN(variants)
			if created[j] >= 0 && rng.IntN(2) == 0 {
				r = created[j] // a retry
			}
			req := requests[j][r]
			switch op := rng.IntN(10); {
			case op < 4:
				trail = append(trail, fmt.Sprintf("open %d/%d", j, r))
				_, err := store.Open(ctx, req.spec, Batch{IDs: req.ids}, true)
				expect(j, r, true, true, err)
			case op < 5:
				trail = append(trail, fmt.Sprintf("late open %d/%d", j, r))
				_, err := late.Open(ctx, req.spec, Batch{IDs: req.ids}, true)
				expect(j, r, false, true, err)
			case op < 7 && len(req.ids) > store.stagePiece:
				// Staged IDs damaged before open.lua runs.
				how := []string{"lost a piece", "repeated a piece", "expired"}[rng.IntN(3)]
				trail = append(trail, fmt.Sprintf("open %d/%d with staged IDs that %s", j, r, how))
				now := store.now()
				oc := openCall{jobID: req.spec.ID, fingerprint: openFingerprint(req.spec, Batch{IDs: req.ids}, true), seal: true,
					meta:    []any{"kind", "k", "sealed", "0", "total", "0", "n", len(req.ids), "seq", 0, "expires", now.Add(time.Hour).UnixMilli()},
					expires: now.Add(time.Hour), deadline: now.Add(time.Minute)}
				set, list := stagedIDsKeys(cfg.Namespace, req.spec.ID, NewJobID())
				if err := store.stageIDs(ctx, req.spec.ID, set, list, req.ids); err != nil {
					t.Fatal(err)
				}
				switch how {
				case "lost a piece":
					c.SRem(ctx, set, req.ids[0])
					c.LPop(ctx, list)
				case "repeated a piece":
					c.RPush(ctx, list, req.ids[0])
				case "expired":
					c.Del(ctx, set, list)
				}
				if err := store.indexNew(ctx, req.spec.ID, oc.deadline); err != nil {
					t.Fatal(err)
				}
				_, err := store.runOpen(ctx, oc, nil, len(req.ids), set, list)
				expect(j, r, true, false, err)
			case op < 9:
				// Several requests at once.
				rs := []int{r, rng.IntN(variants), rng.IntN(variants)}
				trail = append(trail, fmt.Sprintf("open %d/%v at once", j, rs))
				errs := make([]error, len(rs))
				var wg sync.WaitGroup
				for g, r := range rs {
					wg.Go(func() {
						req := requests[j][r]
						_, errs[g] = store.Open(ctx, req.spec, Batch{IDs: req.ids}, true)
					})
				}
				wg.Wait()
				if created[j] < 0 {
					// The winner is the request of a caller that succeeded.
					for g, err := range errs {
						if err == nil {
							created[j] = rs[g]
							break
						}
					}
					if created[j] < 0 {
						fail("no Open of job %d succeeded: %v", j, errs)
					}
				}
				for g, err := range errs {
					expect(j, rs[g], true, true, err)
				}
			default:
				trail = append(trail, fmt.Sprintf("cancel %d", j))
				err := store.Cancel(ctx, req.spec.ID)
				switch {
				case created[j] < 0 && !errors.Is(err, ErrJobNotFound):
					fail("Cancel of job %d, never created: %v, want ErrJobNotFound", j, err)
				case created[j] >= 0 && !cancelled[j] && err != nil:
					fail("Cancel of job %d: %v", j, err)
				}
				cancelled[j] = created[j] >= 0
			}
			checkStaging(t, store, ids, func(j int) []string {
				if created[j] < 0 || cancelled[j] {
					return nil
				}
				return requests[j][created[j]].ids
			}, fail)
		}
	}
	// Every outcome met, staged and not (incomplete staging: staged only).
	for _, outcome := range []string{"created", "retry", "retry, cancelled", "another request", "too late", "staged IDs incomplete"} {
		for _, staged := range []bool{true, false} {
			if key := fmt.Sprintf("%s, staged %t", outcome, staged); seen[key] == 0 && (staged || outcome != "staged IDs incomplete") {
				t.Errorf("no sequence met %q: make them longer or more (met: %v)", key, seen)
			}
		}
	}
}

// checkStaging checks the keys of the jobs ids of store: job j, unless
// want(j) is nil (never created, or cancelled: its data is gone or kept as
// it was), has exactly the IDs want(j) in its events set and ids list, in
// order; no staged key is left; every key but the index has a TTL.
func checkStaging(t *testing.T, store *Store, ids []string, want func(j int) []string, fail func(string, ...any)) {
	t.Helper()
	ctx := context.Background()
	c := store.client
	ns := store.cfg.Namespace
	for j, id := range ids {
		w := want(j)
		if w == nil {
			continue
		}
		k := keysOf(ns, id)
		list, err := c.LRange(ctx, k.ids, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		set, err := c.SMembers(ctx, k.events).Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(set)
		if !slices.Equal(list, w) || !slices.Equal(set, slices.Sorted(slices.Values(w))) {
			fail("job %d registered %v (list) and %v (set), want %v", j, list, set, w)
		}
	}
	keys, err := c.Keys(ctx, ns+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		if strings.Contains(key, ":staged:") {
			fail("staged key %s is left", key)
		}
		if key == indexKey(ns) {
			continue
		}
		if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl <= 0 {
			fail("key %s has TTL %v (%v), want one", key, ttl, err)
		}
	}
}

// TestStagedKeysAlwaysHaveATTL stages IDs and checks the staged keys
// between pieces: each piece leaves both with stagedTTL.
func TestStagedKeysAlwaysHaveATTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	c := srv.Client(t)
	store, err := New(c, Config{})
	if err != nil {
		t.Fatal(err)
	}
	store.stagePiece = 2
	id := NewJobID()
	set, list := stagedIDsKeys(store.cfg.Namespace, id, NewJobID())
	for n := 1; n <= 5; n++ {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("p%d-%d", n, i)
		}
		if err := store.stageIDs(ctx, id, set, list, ids); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{set, list} {
			if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl <= stagedTTL-time.Minute || ttl > stagedTTL {
				t.Fatalf("after staging %d IDs: TTL of %s is %v (%v), want about %v", n, key, ttl, err, stagedTTL)
			}
		}
	}
}
