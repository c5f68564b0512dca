package workoutput_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// interferer runs a function once for each of the first n MULTI/EXEC
// transactions the client sends, before the transaction: it is what another
// client changing the job between the fast write's read and its EXEC looks
// like.
type interferer struct {
	n      atomic.Int64
	before func()
}

func (h *interferer) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *interferer) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (h *interferer) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "multi" && h.n.Add(-1) >= 0 {
			h.before()
		}
		return next(ctx, cmds)
	}
}

// TestWriteStartsOverWhenTheJobChanges changes the job's meta hash between
// the read and the EXEC of the outputs' write, once, three times (the fast
// path gives up and write.lua writes) and ten times: every write ends with
// every output stored, the earlier failure replaced, the safety TTL set and
// the job completed once.
func TestWriteStartsOverWhenTheJobChanges(t *testing.T) {
	t.Parallel()
	for _, changes := range []int64{1, 3, 10} {
		t.Run(fmt.Sprint(changes), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, false, workoutput.Config{})
			job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a", "b", "c"}}, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Failures: []workoutput.Failure{{EventID: "b", Reason: "first try"}}}); err != nil {
				t.Fatal(err)
			}
			meta := e.r.Prefix + "job:{" + job.ID + "}:meta"
			h := &interferer{before: func() {
				// A change that leaves the job as it was: WATCH sees any write.
				state := e.r.Client.HGet(ctx, meta, "state").Val()
				if err := e.r.Client.HSet(ctx, meta, "state", state).Err(); err != nil {
					t.Error(err)
				}
			}}
			h.n.Store(changes)
			e.r.Client.AddHook(h)
			rec := workoutput.Record{ID: "r1", Outputs: outs("a", "b", "c")}
			res, err := e.store.Write(ctx, job.ID, rec)
			if err != nil || !res.Completed {
				t.Fatalf("Write = %+v, %v; want the job completed", res, err)
			}
			base := e.r.Prefix + "job:{" + job.ID + "}:"
			if n := e.r.Client.HLen(ctx, base+"outputs").Val(); n != 3 {
				t.Fatalf("outputs = %d, want 3", n)
			}
			if n := e.r.Client.HLen(ctx, base+"failures").Val(); n != 0 {
				t.Fatalf("failures = %d, want 0 (the output of b replaces its failure)", n)
			}
			if ttl := e.r.Client.PTTL(ctx, base+"outputs").Val(); ttl <= 0 {
				t.Fatalf("PTTL(outputs) = %v, want the safety TTL", ttl)
			}
			again, err := e.store.Write(ctx, job.ID, rec)
			if err != nil || !again.Completed {
				t.Fatalf("retried Write = %+v, %v; want the same answer", again, err)
			}
			st, err := e.store.Status(ctx, job.ID)
			if err != nil || st.State != workoutput.StateComplete || st.Done != 3 {
				t.Fatalf("Status = %+v, %v; want complete with 3 outputs", st, err)
			}
		})
	}
}

// TestWriteRacingCancelWritesNothing cancels the job between the read and
// the EXEC of a write: the write starts over, finds the job cancelled and
// skips, and no output lands in the cancelled job.
func TestWriteRacingCancelWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{})
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Retention: 60e9}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	h := &interferer{before: func() {
		if err := e.store.Cancel(ctx, job.ID); err != nil {
			t.Error(err)
		}
	}}
	h.n.Store(1)
	e.r.Client.AddHook(h)
	res, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("a")})
	if err != nil || !res.Skipped || res.Completed {
		t.Fatalf("Write = %+v, %v; want skipped (the job was cancelled)", res, err)
	}
	if n := e.r.Client.HLen(ctx, e.r.Prefix+"job:{"+job.ID+"}:outputs").Val(); n != 0 {
		t.Fatalf("outputs of the cancelled job = %d, want 0", n)
	}
}

// TestConcurrentWritesCompleteOnce writes a job's events in chunks from
// several goroutines at once, each chunk twice (a redelivery: the same
// write, which gets the same answer), on a single server and on the
// cluster: exactly one chunk's write reports the completion and every event
// is counted once.
func TestConcurrentWritesCompleteOnce(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		const workers, chunks, size = 6, 20, 25
		total := workers * chunks * size
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: total}, true)
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg        sync.WaitGroup
			completed atomic.Int64
			mu        sync.Mutex
			errs      []error
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range chunks {
					var rec workoutput.Record
					for i := range size {
						seq := int64((w*chunks+c)*size + i)
						rec.Outputs = append(rec.Outputs, workoutput.Output{EventID: workoutput.GeneratedID(seq), Value: fmt.Appendf(nil, "%d", seq)})
					}
					var answers []bool
					for range 2 {
						res, err := e.store.Write(ctx, job.ID, rec)
						if err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
							return
						}
						answers = append(answers, res.Completed)
					}
					if answers[0] != answers[1] {
						mu.Lock()
						errs = append(errs, fmt.Errorf("chunk %d/%d: the write and its redelivery answered completed %v", w, c, answers))
						mu.Unlock()
					}
					if answers[0] {
						completed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatal(errs[0])
		}
		if n := completed.Load(); n != 1 {
			t.Fatalf("chunks whose write completed the job = %d, want 1", n)
		}
		st, err := e.store.Status(ctx, job.ID)
		if err != nil || st.State != workoutput.StateComplete || st.Done != int64(total) {
			t.Fatalf("Status = %+v, %v; want complete with %d outputs", st, err, total)
		}
		vals, err := e.r.Client.HVals(ctx, e.r.Prefix+"job:{"+job.ID+"}:outputs").Result()
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, v := range vals {
			var n int64
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatalf("output %q: %v", v, err)
			}
			got = append(got, n)
		}
		slices.Sort(got)
		for i, v := range got {
			if v != int64(i) {
				t.Fatalf("gathered output %d = %d, want every event once", i, v)
			}
		}
		if len(got) != total {
			t.Fatalf("gathered %d outputs, want %d", len(got), total)
		}
	})
}

// serverWithJob starts a server of the test's own (its script cache is the
// test's to flush), with a store on it and a sealed job of events a and b.
func serverWithJob(t *testing.T) (*redistest.Server, redis.UniversalClient, *workoutput.Store, workoutput.Job) {
	t.Helper()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client := srv.Client(t)
	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		t.Fatal(err)
	}
	job, err := store.Open(context.Background(), workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	return srv, client, store, job
}

// TestWriteAfterScriptFlush writes outputs on a dedicated server whose
// script cache is flushed before each write (what a restart does): the
// EVALSHA of finish.lua inside the transaction fails with NOSCRIPT after the
// outputs are stored, and the write finishes them on its own: the outputs
// hash gets its TTL and the write that stores the last output completes the
// job, once (a write of an output already stored by another write does
// not).
func TestWriteAfterScriptFlush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, client, store, job := serverWithJob(t)
	completed := 0
	for _, id := range []string{"a", "b", "a"} {
		if err := client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		res, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: outs(id)})
		if err != nil {
			t.Fatalf("Write(%s) after SCRIPT FLUSH: %v", id, err)
		}
		if res.Completed {
			completed++
		}
		if ttl := client.PTTL(ctx, "fanin:job:{"+job.ID+"}:outputs").Val(); ttl <= 0 {
			t.Fatalf("after Write(%s): PTTL(outputs) = %v, want the safety TTL", id, ttl)
		}
	}
	st, err := store.Status(ctx, job.ID)
	if err != nil || st.State != workoutput.StateComplete || st.Done != 2 {
		t.Fatalf("Status = %+v, %v; want complete with 2 outputs", st, err)
	}
	if completed != 1 {
		t.Fatalf("%d writes reported the completion, want 1", completed)
	}
}

// ttlAfterExec reads, right after each MULTI/EXEC transaction the client
// sends (before anything else the write does), the PTTL of key.
type ttlAfterExec struct {
	probe redis.UniversalClient
	key   string
	seen  []time.Duration
}

func (h *ttlAfterExec) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *ttlAfterExec) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *ttlAfterExec) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			h.seen = append(h.seen, h.probe.PTTL(ctx, h.key).Val())
		}
		return err
	}
}

// TestNewOutputsHashHasItsTTLAtExec: the first write of a job's outputs
// gives the new hash its TTL within its transaction, so that a server that
// lost finish.lua (which sets it too, after EXEC then) never holds the
// outputs without a TTL, even for the moment before finish.lua runs alone.
func TestNewOutputsHashHasItsTTLAtExec(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, client, store, job := serverWithJob(t)
	h := &ttlAfterExec{probe: srv.Client(t), key: "fanin:job:{" + job.ID + "}:outputs"}
	client.AddHook(h)
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("a")}); err != nil {
		t.Fatal(err)
	}
	if len(h.seen) == 0 || h.seen[0] <= 0 {
		t.Fatalf("PTTL(outputs) right after the write's EXEC = %v; want the safety TTL already set", h.seen)
	}
}
