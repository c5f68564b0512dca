package workoutput_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/locks"
	"github.com/fanin-dev/fanin/workoutput"
)

// jobKeyNames returns every key a collected job may have, per the layout
// documented in keys.go (the lock's keys come from locks).
func jobKeyNames(ns, id string) []string {
	base := ns + "job:{" + id + "}:"
	res := workoutput.LockResource(id)
	return []string{base + "meta", base + "outputs", base + "failures", base + "events", base + "result",
		locks.FenceKey(ns, res), locks.TokenKey(ns, res), locks.LockKey(ns, res), base + "ids"}
}

// commandCounter counts the commands a client sends, by name.
type commandCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *commandCounter) count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[name]
}

func (c *commandCounter) add(cmds ...redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	for _, cmd := range cmds {
		c.counts[cmd.Name()]++
	}
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.add(cmd); return next(ctx, cmd) }
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.add(cmds...); return next(ctx, cmds) }
}

// existing returns the keys of names that exist.
func existing(t *testing.T, c redis.UniversalClient, names []string) []string {
	t.Helper()
	var out []string
	for _, k := range names {
		n, err := c.Exists(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			out = append(out, k)
		}
	}
	return out
}

// completeJob opens a job of n generated events and writes all outputs.
func completeJob(t *testing.T, e env, spec workoutput.Spec, n int) string {
	t.Helper()
	return completeJobOf(t, e, spec, n, false)
}

// completeJobOf opens a job of n events, with caller-given IDs when given,
// and writes all outputs.
func completeJobOf(t *testing.T, e env, spec workoutput.Spec, n int, given bool) string {
	t.Helper()
	if given {
		return completeMixedJob(t, e, spec, n, 0)
	}
	return completeMixedJob(t, e, spec, 0, n)
}

// completeMixedJob opens a job of given events with caller-given IDs
// ("e0", "e1", ...) and generated events with generated IDs, registered
// with Open and then, the second half of each, with Add, and writes all
// outputs.
func completeMixedJob(t *testing.T, e env, spec workoutput.Spec, given, generated int) string {
	t.Helper()
	ctx := context.Background()
	var o []workoutput.Output
	var first, second workoutput.Batch
	for i := range given {
		id := fmt.Sprint("e", i)
		o = append(o, workoutput.Output{EventID: id, Value: fmt.Appendf(nil, "%d", i)})
		if i < given/2 {
			first.IDs = append(first.IDs, id)
		} else {
			second.IDs = append(second.IDs, id)
		}
	}
	for i := range generated {
		o = append(o, workoutput.Output{EventID: workoutput.GeneratedID(int64(i)), Value: fmt.Appendf(nil, "g%d", i)})
	}
	first.Generated = generated / 2
	second.Generated = generated - first.Generated
	job, err := e.store.Open(ctx, spec, first, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Add(ctx, job.ID, second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Seal(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	res, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: o})
	if err != nil || !res.Completed {
		t.Fatalf("Write = %+v, %v; want the job completed", res, err)
	}
	return job.ID
}

// TestClaimGatherCommit walks one job through the coordinator's steps with
// a real lock: Gather yields every output once on every read path (and
// stops cleanly when the caller stops early), a stale token cannot commit,
// and the commit applies the retention to every key.
func TestClaimGatherCommit(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		for _, tc := range []struct {
			name             string
			given, generated int
			unlisted         bool // the list of caller-given IDs is gone: HSCAN
		}{
			{"hgetall", 0, 10, false},
			{"generated", 0, 2500, false},
			{"given", 2500, 0, false},
			{"given-one-page", 150, 0, false}, // fewer pages than fetching goroutines
			{"mixed", 1300, 1201, false},
			{"hscan", 2500, 0, true},
			{"hscan-mixed", 1300, 1201, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				e := newEnv(t, cluster, workoutput.Config{SmallHash: 100, ScanPage: 300})
				id := completeMixedJob(t, e, workoutput.Spec{Kind: "k", Retention: time.Minute}, tc.given, tc.generated)
				n := tc.given + tc.generated
				names := jobKeyNames(e.r.Prefix, id)
				if tc.unlisted {
					// A job registered before fanin kept the list.
					if err := e.r.Client.Del(ctx, names[8]).Err(); err != nil {
						t.Fatal(err)
					}
				}
				// Before the claim, the job still accepts writes: HSCAN is
				// refused, the other paths read each output once.
				var early []error
				earlySeen := map[string]int{}
				for o, err := range e.store.Gather(ctx, id, int64(n)) {
					if err != nil {
						early = append(early, err)
						continue
					}
					earlySeen[o.EventID]++
				}
				if tc.unlisted {
					if len(early) != 1 || !errors.Is(early[0], workoutput.ErrState) || len(earlySeen) != 0 {
						t.Fatalf("Gather before the claim = %d outputs, errors %v; want only an ErrState", len(earlySeen), early)
					}
				} else if len(early) != 0 || len(earlySeen) != n || slices.Max(slices.Collect(maps.Values(earlySeen))) != 1 {
					t.Fatalf("Gather before the claim = %d distinct outputs, errors %v; want %d once each", len(earlySeen), early, n)
				}
				lp, err := locks.New(locks.Config{Redis: e.r.Client, KeyPrefix: e.r.Prefix})
				if err != nil {
					t.Fatal(err)
				}
				defer lp.Close()
				stale, err := lp.TryAcquire(ctx, workoutput.LockResource(id), &locks.AcquireOptions{TTL: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				if from, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: stale.Token(), Mode: workoutput.ClaimCollect}); err != nil || from != workoutput.StateComplete {
					t.Fatalf("Claim = %s, %v; want from complete", from, err)
				}
				time.Sleep(100 * time.Millisecond) // the stale holder's lock expires
				l, err := lp.TryAcquire(ctx, workoutput.LockResource(id), nil)
				if err != nil {
					t.Fatal(err)
				}
				if from, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: l.Token(), Mode: workoutput.ClaimCollect}); err != nil || from != workoutput.StateCollecting {
					t.Fatalf("takeover Claim = %s, %v; want from collecting", from, err)
				}
				// Writes to a claimed job are ignored: the outputs are frozen.
				if res, err := e.store.Write(ctx, id, workoutput.Record{Outputs: []workoutput.Output{{EventID: "late", Value: []byte("1")}}}); err != nil || !res.Skipped {
					t.Fatalf("Write to a claimed job = %+v, %v; want skipped", res, err)
				}
				reads := &commandCounter{}
				e.r.Client.AddHook(reads)
				seen := map[string]int{}
				for o, err := range e.store.Gather(ctx, id, int64(n)) {
					if err != nil {
						t.Fatal(err)
					}
					seen[o.EventID]++
				}
				path := map[string]bool{"hgetall": reads.count("hgetall") > 0, "hscan": reads.count("hscan") > 0,
					"lrange": reads.count("lrange") > 0, "hmget": reads.count("hmget") > 1}
				want := map[string]bool{"hgetall": n <= 100, "hscan": tc.unlisted, "lrange": tc.given > 0 && !tc.unlisted,
					"hmget": n > 100 && !tc.unlisted}
				if !maps.Equal(path, want) {
					t.Fatalf("Gather read with %v, want %v", path, want)
				}
				for _, err := range e.store.Gather(ctx, id, int64(n)) {
					if err != nil {
						t.Fatal(err)
					}
					break // the prefetching goroutines must end, not block
				}
				if len(seen) != n {
					t.Fatalf("Gather yielded %d distinct outputs, want %d", len(seen), n)
				}
				for id, c := range seen {
					if c != 1 {
						t.Fatalf("Gather yielded %s %d times", id, c)
					}
				}
				_, err = e.store.Commit(ctx, workoutput.Commit{JobID: id, Token: stale.Token(), State: workoutput.StateDone, Result: []byte("stale"), Retention: time.Minute})
				if !errors.Is(err, locks.ErrFenced) {
					t.Fatalf("stale Commit = %v; want locks.ErrFenced", err)
				}
				got, err := e.store.Commit(ctx, workoutput.Commit{JobID: id, Token: l.Token(), State: workoutput.StateDone, Result: []byte("ok"), Retention: time.Minute})
				if err != nil || got != int64(n) {
					t.Fatalf("Commit = %d, %v; want %d outputs", got, err, n)
				}
				if err := l.Release(ctx); err != nil {
					t.Fatal(err)
				}
				if r, err := e.store.Result(ctx, id); err != nil || string(r) != "ok" {
					t.Fatalf("Result = %q, %v", r, err)
				}
				st, err := e.store.Status(ctx, id)
				if err != nil || st.State != workoutput.StateDone || st.Token != l.Token() || st.Finished.IsZero() {
					t.Fatalf("Status = %+v, %v; want done with token %d", st, err, l.Token())
				}
				// Every key of the job, the fence and the token counter
				// included, expires with the retention.
				keys := existing(t, e.r.Client, names)
				// (no failures: no failures key; no events key or ids list
				// unless given IDs)
				wantKeys := []string{names[0], names[1], names[4], names[5], names[6]}
				if tc.given > 0 {
					wantKeys = []string{names[0], names[1], names[3], names[4], names[5], names[6]}
				}
				if tc.given > 0 && !tc.unlisted {
					wantKeys = append(wantKeys, names[8])
				}
				if !slices.Equal(keys, wantKeys) {
					t.Fatalf("keys after commit = %v, want %v", keys, wantKeys)
				}
				for _, k := range keys {
					ttl, err := e.r.Client.PTTL(ctx, k).Result()
					if err != nil || ttl <= 50*time.Second || ttl > time.Minute {
						t.Fatalf("PTTL(%s) = %v, %v; want the 1m retention", k, ttl, err)
					}
				}
				if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: l.Token() + 10, Mode: workoutput.ClaimCollect}); !errors.Is(err, workoutput.ErrState) {
					t.Fatalf("Claim of a done job = %v; want ErrState", err)
				}
			})
		}
	})
}

// TestLockKeysShareTheJobSlot checks that the lock, its token counter and
// the fence of a job live in the job's slot.
func TestLockKeysShareTheJobSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, true, workoutput.Config{})
	id := completeJob(t, e, workoutput.Spec{Kind: "k"}, 1)
	lp, err := locks.New(locks.Config{Redis: e.r.Client, KeyPrefix: e.r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer lp.Close()
	l, err := lp.TryAcquire(ctx, workoutput.LockResource(id), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: l.Token(), Mode: workoutput.ClaimCollect}); err != nil {
		t.Fatal(err)
	}
	names := jobKeyNames(e.r.Prefix, id)
	keys := existing(t, e.r.Client, names)
	// meta, outputs, fence, token counter, lock (no failures, events, result yet)
	if want := []string{names[0], names[1], names[5], names[6], names[7]}; !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v (did the locks key layout change?)", keys, want)
	}
	cc := e.r.Client.(*redis.ClusterClient)
	slots := map[int64]bool{}
	for _, k := range keys {
		s, err := cc.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		slots[s] = true
	}
	if len(slots) != 1 {
		t.Fatalf("job and lock keys span %d slots, want 1", len(slots))
	}
}

// TestCommitNoRetentionDeletesData commits a job whose retention is
// NoRetention: its data is gone at once, its meta, result, fence and token
// counter stay as a tombstone for Config.Tombstone (so Status tells how it
// ended, a waiting client reads the result and a retried Commit gets its
// answer), and a replay is refused.
func TestCommitNoRetentionDeletesData(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		id := completeJob(t, e, workoutput.Spec{Kind: "k", Retention: workoutput.NoRetention}, 3)
		if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: 1, Mode: workoutput.ClaimCollect}); err != nil {
			t.Fatal(err)
		}
		st, err := e.store.Status(ctx, id)
		if err != nil || st.Retention != 0 {
			t.Fatalf("Status = %+v, %v; want retention 0", st, err)
		}
		if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: id, Token: 1, State: workoutput.StateDone, Result: []byte("r")}); err != nil {
			t.Fatal(err)
		}
		meta, result, fence := e.r.Prefix+"job:{"+id+"}:meta", e.r.Prefix+"job:{"+id+"}:result", e.r.Prefix+"fence:job:{"+id+"}"
		if keys := existing(t, e.r.Client, jobKeyNames(e.r.Prefix, id)); !slices.Equal(keys, []string{meta, result, fence}) {
			t.Fatalf("keys left after a commit with no retention: %v; want only meta, result and fence", keys)
		}
		for _, k := range []string{meta, result, fence} {
			if ttl, err := e.r.Client.PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > workoutput.DefaultTombstone {
				t.Fatalf("TTL of %s = %v, %v; want at most the tombstone, %v", k, ttl, err, workoutput.DefaultTombstone)
			}
		}
		st, err = e.store.Status(ctx, id)
		if err != nil || st.State != workoutput.StateDone || st.Done != 3 || st.Retained {
			t.Fatalf("Status of the tombstone = %+v, %v; want done, 3 outputs, not retained", st, err)
		}
		if n, err := e.store.Commit(ctx, workoutput.Commit{JobID: id, Token: 1, State: workoutput.StateDone, Result: []byte("r")}); err != nil || n != 3 {
			t.Fatalf("retried Commit = %d, %v; want the first answer, 3", n, err)
		}
		if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: 2, Mode: workoutput.ClaimReplay}); !errors.Is(err, workoutput.ErrNotRetained) {
			t.Fatalf("replay Claim = %v; want ErrNotRetained", err)
		}
	})
}

// TestClaimRules covers the states Claim accepts and refuses.
func TestClaimRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{})
	open, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: open.ID, Token: 1, Mode: workoutput.ClaimCollect}); !errors.Is(err, workoutput.ErrState) {
		t.Fatalf("Claim of an open job before its deadline = %v; want ErrState", err)
	}
	// (A deadline a loaded machine's Open reaches in time: Open refuses a
	// request that arrives after the job's deadline.)
	overdue, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: 100 * time.Millisecond}, workoutput.Batch{Generated: 2}, true)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if from, err := e.store.Claim(ctx, workoutput.Claim{JobID: overdue.ID, Token: 1, Mode: workoutput.ClaimCollect}); err != nil || from != workoutput.StateRunning {
		t.Fatalf("Claim of an overdue job = %s, %v; want from running", from, err)
	}
	if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: overdue.ID, Token: 1, Mode: "bogus"}); !errors.Is(err, workoutput.ErrInvalid) {
		t.Fatalf("Claim with a bad mode = %v; want ErrInvalid", err)
	}
	if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: overdue.ID, Token: 1, State: workoutput.StateCollecting}); !errors.Is(err, workoutput.ErrInvalid) {
		t.Fatalf("Commit to collecting = %v; want ErrInvalid", err)
	}
	// A replay needs the outputs: deleting them makes it NOTRETAINED.
	id := completeJob(t, e, workoutput.Spec{Kind: "k"}, 2)
	if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: 1, Mode: workoutput.ClaimCollect}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: id, Token: 1, State: workoutput.StateDone, Result: []byte("r"), Retention: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Client.Del(ctx, e.r.Prefix+"job:{"+id+"}:outputs").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: 2, Mode: workoutput.ClaimReplay}); !errors.Is(err, workoutput.ErrNotRetained) {
		t.Fatalf("replay Claim without outputs = %v; want ErrNotRetained", err)
	}
}

// TestGatherOfAJobThatDoesNotExist checks that Gather names a job it cannot
// find instead of yielding nothing, as if the job had no outputs, on every
// read path the size would choose.
func TestGatherOfAJobThatDoesNotExist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{SmallHash: 10})
	for _, size := range []int64{0, 5, 100_000} {
		var errs []error
		for _, err := range e.store.Gather(ctx, workoutput.NewJobID(), size) {
			errs = append(errs, err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], workoutput.ErrJobNotFound) {
			t.Fatalf("Gather of no job, size %d = %v; want one ErrJobNotFound", size, errs)
		}
	}
}

// TestGatheredValuesAreTheCallers checks what Gather promises of the
// values it hands over without copying them (replyBytes): each has memory
// of its own, so the caller may keep or modify it without changing another
// value or a later read; on the HGETALL path and on the HMGET path, for
// caller-given and generated IDs. It fails if go-redis ever hands over
// values that share a buffer.
func TestGatheredValuesAreTheCallers(t *testing.T) {
	t.Parallel()
	for _, path := range []struct {
		name  string
		small int
		given bool
	}{{"hgetall", 1000, true}, {"hmget/given", 1, true}, {"hmget/generated", 1, false}} {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false, workoutput.Config{SmallHash: path.small, ScanPage: 16})
			const n = 100
			id := completeJobOf(t, e, workoutput.Spec{Kind: "k"}, n, path.given)
			gather := func() []workoutput.Output {
				var outs []workoutput.Output
				for o, err := range e.store.Gather(context.Background(), id, n) {
					if err != nil {
						t.Fatal(err)
					}
					outs = append(outs, o)
				}
				if len(outs) != n {
					t.Fatalf("gathered %d outputs, want %d", len(outs), n)
				}
				return outs
			}
			first := gather()
			want := map[string]string{}
			type span struct{ from, to uintptr }
			var spans []span
			for _, o := range first {
				want[o.EventID] = string(o.Value)
				if len(o.Value) > 0 {
					from := uintptr(unsafe.Pointer(unsafe.SliceData(o.Value)))
					spans = append(spans, span{from, from + uintptr(cap(o.Value))})
				}
			}
			slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
			for i := 1; i < len(spans); i++ {
				if spans[i].from < spans[i-1].to {
					t.Fatalf("two gathered values share memory: %#x..%#x and %#x..%#x", spans[i-1].from, spans[i-1].to, spans[i].from, spans[i].to)
				}
			}
			for _, o := range first {
				for i := range o.Value {
					o.Value[i] = 'z'
				}
			}
			for _, o := range gather() {
				if string(o.Value) != want[o.EventID] {
					t.Fatalf("output of %s read %q after the caller modified the first read's values, want %q", o.EventID, o.Value, want[o.EventID])
				}
			}
		})
	}
}

// TestRetainedForIsTheRetentionApplied: Status.RetainedFor is the retention
// a commit or a cancel applied: the job's own, for a failed job without one
// the FailedRetention of the Store that committed it, 0 when the data was
// deleted at once; a retry of the job clears it with the rest of its
// outcome.
func TestRetainedForIsTheRetentionApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{FailedRetention: 2 * time.Hour})
	check := func(what, id string, state workoutput.State, want time.Duration, retained bool) {
		t.Helper()
		st, err := e.store.Status(ctx, id)
		if err != nil || st.State != state || st.RetainedFor != want || st.Retained != retained {
			t.Fatalf("%s: Status = %s, RetainedFor %v, Retained %v (%v); want %s, %v, %v", what, st.State, st.RetainedFor, st.Retained, err, state, want, retained)
		}
	}
	commit := func(id string, state workoutput.State, retention time.Duration) {
		t.Helper()
		if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: id, Token: 1, Mode: workoutput.ClaimCollect}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: id, Token: 1, State: state, Retention: retention}); err != nil {
			t.Fatal(err)
		}
	}

	kept := completeJob(t, e, workoutput.Spec{Kind: "k", Retention: 3 * time.Hour}, 2)
	check("running", kept, workoutput.StateComplete, 0, false)
	commit(kept, workoutput.StateDone, 3*time.Hour)
	check("done with a retention of its own", kept, workoutput.StateDone, 3*time.Hour, true)

	deleted := completeJob(t, e, workoutput.Spec{Kind: "k", Retention: workoutput.NoRetention}, 2)
	commit(deleted, workoutput.StateDone, 0)
	check("done without retention", deleted, workoutput.StateDone, 0, false)

	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Retention: workoutput.NoRetention}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("a"),
		Failures: []workoutput.Failure{{EventID: "b", Reason: "broken", Attempts: 1, Time: time.Now(), Payload: []byte("2")}}}); err != nil {
		t.Fatal(err)
	}
	commit(job.ID, workoutput.StateFailed, 0)
	check("failed without retention", job.ID, workoutput.StateFailed, 2*time.Hour, true)
	if _, err := e.store.Retry(ctx, job.ID, "retry-1"); err != nil {
		t.Fatal(err)
	}
	check("retried", job.ID, workoutput.StateRunning, 0, false)

	cancelled, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Retention: time.Hour}, workoutput.Batch{Generated: 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Cancel(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	check("cancelled with a retention of its own", cancelled.ID, workoutput.StateCancelled, time.Hour, true)
}

// TestGatherByIDGeneratedShapes: for jobs of generated shapes (caller-given
// and generated IDs in random numbers, pages of random sizes, so that pages
// start and end anywhere in the list of IDs, and fewer or more pages than
// the fetching goroutines), Gather yields every output exactly once, with
// its value.
func TestGatherByIDGeneratedShapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{})
	rng := rand.New(rand.NewPCG(17, 1))
	for round := range 40 {
		given, generated, page := rng.IntN(60), rng.IntN(60), 1+rng.IntN(9)
		if given+generated == 0 {
			continue
		}
		store, err := workoutput.New(e.r.Client, workoutput.Config{Namespace: e.r.Prefix, SmallHash: -1, ScanPage: page})
		if err != nil {
			t.Fatal(err)
		}
		id := completeMixedJob(t, e, workoutput.Spec{Kind: "k"}, given, generated)
		seen := map[string]string{}
		for o, err := range store.Gather(ctx, id, int64(given+generated)) {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if _, dup := seen[o.EventID]; dup {
				t.Fatalf("round %d (given %d, generated %d, page %d): %s yielded twice", round, given, generated, page, o.EventID)
			}
			seen[o.EventID] = string(o.Value)
		}
		if len(seen) != given+generated {
			t.Fatalf("round %d (given %d, generated %d, page %d): %d outputs, want %d", round, given, generated, page, len(seen), given+generated)
		}
		for i := range given {
			if v := seen[fmt.Sprint("e", i)]; v != fmt.Sprint(i) {
				t.Fatalf("round %d: output of e%d = %q", round, i, v)
			}
		}
		for i := range generated {
			if v := seen[workoutput.GeneratedID(int64(i))]; v != fmt.Sprint("g", i) {
				t.Fatalf("round %d: output of #%d = %q", round, i, v)
			}
		}
	}
}

// TestGatherEndsWithAnErrorWhenItsContextEnds: when the caller's context
// ends in the middle of a paged Gather (the coordinator's lock lost, say),
// the sequence ends with an error wrapping the context's cause, or with
// every output: never early and silently, as if the job had no more.
func TestGatherEndsWithAnErrorWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false, workoutput.Config{})
	store, err := workoutput.New(e.r.Client, workoutput.Config{Namespace: e.r.Prefix, SmallHash: -1, ScanPage: 4})
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("the lock was lost")
	for _, shape := range []struct{ given, generated int }{{0, 200}, {200, 0}, {100, 100}} {
		id := completeMixedJob(t, e, workoutput.Spec{Kind: "k"}, shape.given, shape.generated)
		n := shape.given + shape.generated
		for round := range 30 {
			ctx, cancel := context.WithCancelCause(context.Background())
			got := 0
			var last error
			for _, err := range store.Gather(ctx, id, int64(n)) {
				if err != nil {
					last = err
					break
				}
				if got++; got == 1+round%9 {
					cancel(cause)
				}
			}
			cancel(nil)
			if got < n && (last == nil || (!errors.Is(last, cause) && !errors.Is(last, context.Canceled))) {
				t.Fatalf("%+v round %d: %d of %d outputs, then %v; want all or an error of the context", shape, round, got, n, last)
			}
		}
	}
}
