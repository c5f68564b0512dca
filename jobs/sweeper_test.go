package jobs

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/workoutput"
)

// TestSweepRecoversLostHandOff simulates a producer that crashed between a
// Seal that completed its job and the hand-off: the job, marked due before
// the seal, is found by a sweep SweepDelay later, with an overdue job; a
// second sweep within the lease takes neither again; after the lease both
// are due again, as neither was collected.
func TestSweepRecoversLostHandOff(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, env testEnv) {
		ctx := context.Background()
		job, err := env.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 2}, false)
		if err != nil {
			t.Fatal(err)
		}
		overdue, err := env.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: 100 * time.Millisecond}, workoutput.Batch{Generated: 1}, true)
		if err != nil {
			t.Fatal(err)
		}
		res, err := env.store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: "#0", Value: []byte("1")}, {EventID: "#1", Value: []byte("2")}}})
		if err != nil || res.Completed {
			t.Fatalf("Write = %+v, %v; want not completed (not sealed)", res, err)
		}
		// The "crashed producer": marks the job due, seals it, never hands off.
		if err := env.store.MarkDue(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		if completed, err := env.store.Seal(ctx, job.ID); err != nil || !completed {
			t.Fatalf("Seal = %v, %v; want completed", completed, err)
		}
		lease := time.Minute
		at := time.Now().Add(workoutput.DefaultSweepDelay + time.Second)
		got, err := env.store.Sweep(ctx, at, lease)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Complete, []string{job.ID}) || !slices.Equal(got.Overdue, []string{overdue.ID}) {
			t.Fatalf("Sweep = %+v, want complete %s, overdue %s", got, job.ID, overdue.ID)
		}
		if got, err = env.store.Sweep(ctx, at, lease); err != nil || len(got.Complete)+len(got.Overdue) != 0 {
			t.Fatalf("second Sweep within the lease = %+v, %v; want nothing (both leased)", got, err)
		}
		got, err = env.store.Sweep(ctx, at.Add(lease+time.Second), lease)
		if err != nil || !slices.Equal(got.Complete, []string{job.ID}) || !slices.Equal(got.Overdue, []string{overdue.ID}) {
			t.Fatalf("Sweep after the lease = %+v, %v; want both again", got, err)
		}
	})
}

// TestCancelledJobIsSkipped cancels a job before any worker runs: its
// events are never handled and it never completes.
func TestCancelledJobIsSkipped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newEnv(t, false, workoutput.Config{})
	p := newProducer(t, env.client, env.store, ProducerConfig{ChunkSize: 2})
	id, err := p.Submit(ctx, workoutput.Spec{Kind: "echo"}, []Event{{Payload: []byte("1")}, {Payload: []byte("2")}, {Payload: []byte("3")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.store.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		t.Fatal(err)
	}
	if err := HandleRaw(mux, "echo", func(_ context.Context, b []byte) ([]byte, error) { calls.Add(1); return b, nil }); err != nil {
		t.Fatal(err)
	}
	startPool(t, env.client, 2, mux)
	insp := asynq.NewInspectorFromRedisClient(env.client)
	for i := 0; ; i++ {
		q, err := insp.GetQueueInfo(testQueue)
		if err != nil {
			t.Fatal(err)
		}
		if q.Size == 0 {
			break
		}
		if i == 1200 {
			t.Fatalf("queue never drained: %+v", q)
		}
		waitABit()
	}
	st, err := env.store.Status(ctx, id)
	if err != nil || st.State != workoutput.StateCancelled || st.Done != 0 || calls.Load() != 0 {
		t.Fatalf("status = %+v, %v, %d handler calls; want cancelled, nothing done", st, err, calls.Load())
	}
	if ids := collectTasks(t, env.client); len(ids) != 0 {
		t.Fatalf("collect tasks = %v, want none", ids)
	}
}

// TestSweepHandsBackAJobWithoutReducerHere: a sweep of a coordinator
// without a job's reducer, while another live coordinator announces one,
// hands the job back at once instead of keeping it leased for LockTTL, so
// the other coordinator's next sweep collects it; and one pass reads the
// heartbeats once, however many such jobs it takes. Unreadable heartbeats
// hand the job back too, and the read error stays in Collect's error.
func TestSweepHandsBackAJobWithoutReducerHere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var heartbeatReads atomic.Int64
	var breakHeartbeats atomic.Bool
	r, store := hookedEnv(t, workoutput.Config{}, commandHook{before: func(cmd redis.Cmder) error {
		if cmd.Name() == "hgetall" && strings.HasSuffix(firstKey(cmd), "served") {
			heartbeatReads.Add(1)
			if breakHeartbeats.Load() {
				return errors.New("injected: heartbeats unreadable")
			}
		}
		return nil
	}})
	without := newCoordinator(t, r.Client, store, CoordinatorConfig{}) // default LockTTL: a 30s sweep lease
	with := newCoordinator(t, r.Client, store, CoordinatorConfig{})
	if err := with.Handle("k", Count()); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(r.Client, RegistryConfig{Namespace: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Beat(ctx, Member{ID: "other", Role: RoleCoordinator, Kinds: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	complete := sealedJob(t, store, workoutput.Spec{Kind: "k", Retention: time.Minute}, "a")
	write(t, store, complete, []string{"a"})
	if err := store.MarkDue(ctx, complete); err != nil { // as the hand-off does
		t.Fatal(err)
	}
	var overdue []string
	for range 3 {
		id := sealedJob(t, store, workoutput.Spec{Kind: "k", Deadline: 300 * time.Millisecond, Retention: time.Minute}, "a", "b")
		write(t, store, id, []string{"a"})
		overdue = append(overdue, id)
	}
	time.Sleep(350 * time.Millisecond)
	all := append([]string{complete}, overdue...)

	heartbeatReads.Store(0)
	if err := without.Sweep(ctx, time.Now().Add(sweepSlack)); err != nil {
		t.Fatal(err)
	}
	if n := heartbeatReads.Load(); n != 1 {
		t.Errorf("one sweep pass over %d jobs without a reducer here read the heartbeats %d times; want once", len(all), n)
	}
	for _, id := range all {
		if st, err := store.Status(ctx, id); err != nil || st.State.Terminal() {
			t.Fatalf("job %s after the sweep of the coordinator without its reducer = %+v, %v; want left, not committed", id, st, err)
		}
	}
	// Well within the 30s lease the first sweep took: the other coordinator
	// finds every job due again.
	if err := with.Sweep(ctx, time.Now().Add(sweepSlack)); err != nil {
		t.Fatal(err)
	}
	want := map[string]workoutput.State{complete: workoutput.StateDone}
	for _, id := range overdue {
		want[id] = workoutput.StateFailed // by the policy, for its missing event
	}
	for id, state := range want {
		if st, err := store.Status(ctx, id); err != nil || st.State != state {
			t.Errorf("job %s after the sweep of the coordinator with its reducer = %+v, %v; want %s (handed back, not leased)", id, st, err, state)
		}
	}

	// Heartbeats unreadable: assume another may reduce it, hand it back, and
	// say why in the error.
	breakHeartbeats.Store(true)
	id := sealedJob(t, store, workoutput.Spec{Kind: "k", Deadline: 300 * time.Millisecond, Retention: time.Minute}, "a")
	time.Sleep(350 * time.Millisecond)
	if _, err := without.Collect(ctx, id); !errors.Is(err, ErrNoReducer) || !strings.Contains(err.Error(), "injected: heartbeats unreadable") {
		t.Errorf("Collect without the reducer, heartbeats unreadable = %v; want ErrNoReducer naming the read error", err)
	}
	if err := without.Sweep(ctx, time.Now().Add(sweepSlack)); err != nil {
		t.Fatal(err)
	}
	if err := with.Sweep(ctx, time.Now().Add(sweepSlack)); err != nil {
		t.Fatal(err)
	}
	if st, err := store.Status(ctx, id); err != nil || st.State != workoutput.StateFailed {
		t.Errorf("job left while the heartbeats were unreadable = %+v, %v; want handed back and collected (failed by the policy)", st, err)
	}
}
