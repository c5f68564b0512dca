package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/workoutput"
)

// sumReducer sums the outputs (integers) of a job.
func sumReducer() Reducer {
	return ReducerFunc(func(ctx context.Context, job JobInfo, in *Input) ([]byte, error) {
		sum := 0
		for v, err := range Outputs[int](in) {
			if err != nil {
				return nil, err
			}
			sum += v.Value
		}
		return fmt.Appendf(nil, "%d", sum), nil
	})
}

// TestRetryRunsTheFailedEventsAgain: a job whose odd events fail for good
// is committed failed; once the handler is fixed, Producer.Retry puts only
// those back to work (from the payloads kept with their failures, both
// caller-given and generated IDs), keeps the outputs written, and the job
// is committed done under a new fencing token with the fault-free result.
func TestRetryRunsTheFailedEventsAgain(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	ctx := context.Background()
	var broken atomic.Bool
	broken.Store(true)
	var runs atomic.Int64
	mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		t.Fatal(err)
	}
	if err := Handle(mux, "sum", func(ctx context.Context, in struct{ N int }) (int, error) {
		runs.Add(1)
		if in.N%2 == 1 && broken.Load() {
			return 0, fmt.Errorf("%w: odd %d", ErrBadInput, in.N)
		}
		return in.N, nil
	}); err != nil {
		t.Fatal(err)
	}
	startPool(t, env.client, 4, mux)
	c := newCoordinator(t, env.client, env.store, CoordinatorConfig{Queue: collectQueue, EventsQueue: testQueue})
	if err := c.Handle("sum", sumReducer()); err != nil {
		t.Fatal(err)
	}
	p := newProducer(t, env.client, env.store, ProducerConfig{ChunkSize: 7})
	const n = 60
	var events []Event
	want := 0
	for i := range n {
		id := ""
		if i < n/2 {
			id = fmt.Sprint("e", i) // the other half gets generated IDs
		}
		ev, err := JSONEvent(id, map[string]int{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
		want += i
	}
	job, err := p.Submit(ctx, workoutput.Spec{Kind: "sum"}, events)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, env.store, job, workoutput.StateComplete)
	out, err := c.Collect(ctx, job)
	if err != nil || out.State != workoutput.StateFailed || out.Failed != n/2 {
		t.Fatalf("first collect = %+v, %v; want failed with %d failed events", out, err, n/2)
	}
	before := runs.Load()

	broken.Store(false)
	res, err := p.Retry(ctx, job)
	if err != nil || res.Events != n/2 || res.Again {
		t.Fatalf("Retry = %+v, %v; want %d events put back", res, err, n/2)
	}
	st := waitState(t, env.store, job, workoutput.StateComplete)
	if st.Done != n || st.Failed != 0 || st.Retried != 1 {
		t.Fatalf("after the retry: %+v; want all %d done, retried once", st, n)
	}
	if again := runs.Load() - before; again != n/2 {
		t.Fatalf("the retry ran %d handlers; want only the %d failed events", again, n/2)
	}
	out, err = c.Collect(ctx, job)
	if err != nil || out.State != workoutput.StateDone || string(out.Result) != fmt.Sprint(want) || out.Token != 2 {
		t.Fatalf("second collect = %+v (result %s), %v; want done, %d, token 2", out, out.Result, err, want)
	}
	// A done job has nothing to retry.
	if _, err := p.Retry(ctx, job); !errors.Is(err, workoutput.ErrState) {
		t.Fatalf("Retry of a done job = %v; want ErrState", err)
	}
}

// TestRetryRefusals: a repeated call is answered from the first; a job
// with events that never ran (no payload kept), a job never sealed and a
// job whose data is gone are refused, and nothing changes.
func TestRetryRefusals(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	ctx := context.Background()
	c := newCoordinator(t, env.client, env.store, CoordinatorConfig{Queue: collectQueue, EventsQueue: testQueue})
	if err := c.Handle("k", Count()); err != nil {
		t.Fatal(err)
	}
	// open creates a job of 3 generated events; the first gets an output,
	// the second a failure with its payload, the third nothing: it is
	// collected past its deadline, failed.
	open := func(spec workoutput.Spec, seal, third bool) string {
		t.Helper()
		spec.Kind, spec.Deadline = "k", 300*time.Millisecond
		job, err := env.store.Open(ctx, spec, workoutput.Batch{Generated: 3}, seal)
		if err != nil {
			t.Fatal(err)
		}
		rec := workoutput.Record{
			Outputs:  []workoutput.Output{{EventID: "#0", Value: []byte("1")}},
			Failures: []workoutput.Failure{{EventID: "#1", Reason: "boom", Attempts: 1, Time: time.Now(), Payload: []byte(`{"n":1}`)}},
		}
		if third {
			rec.Failures = append(rec.Failures, workoutput.Failure{EventID: "#2", Reason: "boom", Attempts: 1, Time: time.Now(), Payload: []byte(`{"n":2}`)})
		}
		if _, err := env.store.Write(ctx, job.ID, rec); err != nil {
			t.Fatal(err)
		}
		if !third {
			time.Sleep(350 * time.Millisecond) // past the deadline
		}
		if out, err := c.Collect(ctx, job.ID); err != nil || out.State == workoutput.StateDone {
			t.Fatalf("collect = %+v, %v; want failed or partial", out, err)
		}
		return job.ID
	}
	missing := open(workoutput.Spec{}, true, false)
	_, err := env.store.Retry(ctx, missing, "k1")
	if !errors.Is(err, workoutput.ErrNotRetriable) || !strings.Contains(err.Error(), "2 failed or missing events, and the payloads of only 1 are kept") {
		t.Fatalf("Retry of a job with an event that never ran = %v; want ErrNotRetriable naming the counts", err)
	}
	if st, _ := env.store.Status(ctx, missing); st.State != workoutput.StateFailed || st.Failed != 1 {
		t.Fatalf("a refused retry changed the job: %+v", st)
	}
	unsealed := open(workoutput.Spec{}, false, false)
	if _, err := env.store.Retry(ctx, unsealed, "k2"); !errors.Is(err, workoutput.ErrNotRetriable) || !strings.Contains(err.Error(), "never sealed") {
		t.Fatalf("Retry of a job never sealed = %v; want ErrNotRetriable", err)
	}
	// Idempotent: the same key gets the first answer.
	whole := open(workoutput.Spec{}, true, true)
	first, err := env.store.Retry(ctx, whole, "k3")
	if err != nil || first.Events != 2 || first.Again {
		t.Fatalf("Retry = %+v, %v; want 2 events put back", first, err)
	}
	again, err := env.store.Retry(ctx, whole, "k3")
	if err != nil || !again.Again || again.Events != 2 || !again.Deadline.Equal(first.Deadline) {
		t.Fatalf("repeated Retry = %+v, %v; want the first answer %+v", again, err, first)
	}
	if _, err := env.store.Retry(ctx, whole, "k4"); !errors.Is(err, workoutput.ErrState) {
		t.Fatalf("another Retry of a running job = %v; want ErrState", err)
	}
	ids := []string{}
	for id, err := range env.store.Retryable(ctx, whole) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	payloads, err := env.store.Payloads(ctx, whole, []string{"#1", "#2"})
	if err != nil || len(ids) != 2 || string(payloads[0]) != `{"n":1}` || string(payloads[1]) != `{"n":2}` {
		t.Fatalf("Retryable = %q, Payloads = %q, %v", ids, payloads, err)
	}
	// A partial job committed without retention has no data left.
	gone := open(workoutput.Spec{Retention: workoutput.NoRetention, FailurePolicy: workoutput.PolicyContinue}, true, true)
	if _, err := env.store.Retry(ctx, gone, "k5"); !errors.Is(err, workoutput.ErrNotRetained) {
		t.Fatalf("Retry of a job without its data = %v; want ErrNotRetained", err)
	}
}

// TestFailedAttemptsShowAtOnceAndHungHandlersTimeOut: the first failed
// attempt of an event is noted before its retry (Status.Retrying,
// LastError, Store.Attempts), and a handler that runs past its event
// timeout fails the attempt "timed out after D": the worker's, or the
// job's own.
func TestFailedAttemptsShowAtOnceAndHungHandlersTimeOut(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	ctx := context.Background()
	seen := make(chan struct{})
	var tries atomic.Int64
	mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue, EventTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := HandleRaw(mux, "flaky", func(ctx context.Context, payload []byte) ([]byte, error) {
		if tries.Add(1) == 1 {
			return nil, errors.New("boom")
		}
		<-seen // the second attempt waits until the test saw the first
		return payload, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := HandleRaw(mux, "hang", func(ctx context.Context, payload []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	startPool(t, env.client, 2, mux)
	p := newProducer(t, env.client, env.store, ProducerConfig{})
	flaky, err := p.Submit(ctx, workoutput.Spec{Kind: "flaky", MaxRetry: 2}, []Event{{ID: "a", Payload: []byte(`1`)}})
	if err != nil {
		t.Fatal(err)
	}
	var st workoutput.Status
	for st.Retrying == 0 {
		if st, err = env.store.Status(ctx, flaky); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st.LastError.EventID != "a" || st.LastError.Reason != "boom" || st.LastError.Attempts != 1 {
		t.Fatalf("status after the first failed attempt: %+v; want event a, boom, attempt 1", st.LastError)
	}
	if att, err := env.store.Attempts(ctx, flaky, []string{"a", "b"}); err != nil || len(att) != 1 || att["a"].Reason != "boom" {
		t.Fatalf("Attempts = %+v, %v", att, err)
	}
	close(seen)
	if st = waitState(t, env.store, flaky, workoutput.StateComplete); st.Retrying != 0 || st.Done != 1 {
		t.Fatalf("after the retry succeeded: %+v; want the note gone", st)
	}

	for _, tc := range []struct {
		spec workoutput.Spec
		want string
	}{
		{workoutput.Spec{Kind: "hang", MaxRetry: 1}, "timed out after 300ms"},
		{workoutput.Spec{Kind: "hang", MaxRetry: 1, EventTimeout: 100 * time.Millisecond}, "timed out after 100ms"},
	} {
		job, err := p.Submit(ctx, tc.spec, []Event{{ID: "h", Payload: []byte(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		waitState(t, env.store, job, workoutput.StateComplete)
		for f, err := range env.store.Failures(ctx, job) {
			if err != nil || f.Reason != tc.want || f.Attempts != 2 {
				t.Fatalf("failure = %+v, %v; want %q after 2 attempts", f, err, tc.want)
			}
		}
	}
}
