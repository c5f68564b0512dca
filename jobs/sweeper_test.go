package jobs

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

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
