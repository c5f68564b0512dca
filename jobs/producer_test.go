package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/fanin-dev/fanin/workoutput"
)

// echoPool starts one worker pool whose "echo" handler returns its input.
func echoPool(t *testing.T, env testEnv) {
	t.Helper()
	mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		t.Fatal(err)
	}
	if err := HandleRaw(mux, "echo", func(_ context.Context, b []byte) ([]byte, error) { return b, nil }); err != nil {
		t.Fatal(err)
	}
	startPool(t, env.client, 2, mux)
}

func TestStreamingSeal(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, env testEnv) {
		ctx := context.Background()
		echoPool(t, env)
		p := newProducer(t, env.client, env.store, ProducerConfig{ChunkSize: 3})

		// Seal after the last output: the seal completes the job.
		after, err := p.Open(ctx, workoutput.Spec{Kind: "echo"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := after.Add(ctx, Event{Payload: []byte(fmt.Sprint(i))}, Event{ID: fmt.Sprint("e", i), Payload: []byte(`"x"`)}); err != nil {
				t.Fatal(err)
			}
		}
		st := waitDone(t, env.store, after.ID(), 6)
		if st.State != workoutput.StateOpen || st.Sealed {
			t.Fatalf("before seal: %+v, want open and unsealed", st)
		}
		if err := after.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		if st, err := env.store.Status(ctx, after.ID()); err != nil || st.State != workoutput.StateComplete {
			t.Fatalf("after seal: %+v, %v; want complete", st, err)
		}

		// Seal before the last output: the last write completes the job.
		before, err := p.Open(ctx, workoutput.Spec{Kind: "echo"})
		if err != nil {
			t.Fatal(err)
		}
		events := make([]Event, 10)
		for i := range events {
			events[i] = Event{Payload: []byte(fmt.Sprint(i))}
		}
		if err := before.Add(ctx, events...); err != nil {
			t.Fatal(err)
		}
		if err := before.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		st = waitState(t, env.store, before.ID(), workoutput.StateComplete)
		if st.Done != 10 || st.Total != 10 {
			t.Fatalf("status = %+v", st)
		}
		item, err := env.store.Output(ctx, before.ID(), workoutput.GeneratedID(7))
		var got int
		if err != nil || item.Decode(&got) != nil || got != 7 {
			t.Fatalf("output of event #7 = %d, %v", got, err)
		}

		// Add after seal is rejected and changes nothing.
		err = before.Add(ctx, Event{Payload: []byte("1")})
		if !errors.Is(err, workoutput.ErrSealed) {
			t.Fatalf("Add after Seal: %v, want ErrSealed", err)
		}

		// A job sealed with 0 events completes at once, in both forms.
		empty, err := p.Submit(ctx, workoutput.Spec{Kind: "echo"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		streamed, err := p.Open(ctx, workoutput.Spec{Kind: "echo"})
		if err != nil {
			t.Fatal(err)
		}
		if err := streamed.Seal(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{empty, streamed.ID()} {
			if st, err := env.store.Status(ctx, id); err != nil || st.State != workoutput.StateComplete {
				t.Fatalf("empty job %s: %+v, %v; want complete", id, st, err)
			}
		}
		want := []string{after.ID(), before.ID(), empty, streamed.ID()}
		got2 := collectTasks(t, env.client)
		slices.Sort(want)
		slices.Sort(got2)
		if !slices.Equal(got2, want) {
			t.Fatalf("collect tasks = %v, want %v", got2, want)
		}
	})
}

// waitDone polls until the job has n outputs.
func waitDone(t *testing.T, store *workoutput.Store, jobID string, n int64) workoutput.Status {
	t.Helper()
	for range 1200 {
		st, err := store.Status(context.Background(), jobID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Done == n {
			return st
		}
		waitABit()
	}
	t.Fatalf("job %s never reached %d outputs", jobID, n)
	return workoutput.Status{}
}

func TestProducerBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newEnv(t, false, workoutput.Config{MaxEventSize: 4, MaxEvents: 3})
	p := newProducer(t, env.client, env.store, ProducerConfig{})
	open, err := p.Open(ctx, workoutput.Spec{Kind: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := open.Add(ctx, Event{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	sealed, err := p.Open(ctx, workoutput.Spec{Kind: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sealed.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	unknown := workoutput.NewJobID()
	cases := []struct {
		name string
		call func() error
		is   error
		msg  string
	}{
		{"invalid job ID", func() error {
			_, err := p.Submit(ctx, workoutput.Spec{ID: "job-42", Kind: "k"}, nil)
			return err
		}, workoutput.ErrInvalid, `workoutput: invalid input: job ID "job-42" is not a UUID (want the canonical lower-case 36-character form, like "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")`},
		{"empty kind", func() error { _, err := p.Submit(ctx, workoutput.Spec{}, nil); return err },
			workoutput.ErrInvalid, "workoutput: invalid input: Spec.Kind is empty (want the name of the handler of the job's events)"},
		{"duplicate IDs in one call", func() error {
			_, err := p.Submit(ctx, workoutput.Spec{Kind: "k"}, []Event{{ID: "x"}, {ID: "x"}})
			return err
		}, workoutput.ErrDuplicateEvent, `workoutput: duplicate event ID: event ID "x" is given twice in one call (want IDs unique within the job)`},
		{"duplicate ID across calls", func() error { return open.Add(ctx, Event{ID: "b"}, Event{ID: "a"}) },
			workoutput.ErrDuplicateEvent, `workoutput: duplicate event ID: event ID "a" already exists in job ` + open.ID() + ` (want IDs unique within the job)`},
		{"add after seal", func() error { return sealed.Add(ctx, Event{ID: "a"}) },
			workoutput.ErrSealed, "workoutput: job is sealed: job " + sealed.ID() + " is sealed, no event can be added (want Add before Seal)"},
		{"oversize event", func() error {
			_, err := p.Submit(ctx, workoutput.Spec{Kind: "k"}, []Event{{ID: "big", Payload: []byte("12345")}})
			return err
		}, workoutput.ErrTooLarge, `workoutput: too large: event "big" is 5 bytes (want at most 4, Config.MaxEventSize)`},
		{"too many events", func() error {
			_, err := p.Submit(ctx, workoutput.Spec{Kind: "k"}, make([]Event, 4))
			return err
		}, workoutput.ErrTooLarge, "workoutput: too large: 4 events (want at most 3 per job, Config.MaxEvents)"},
		{"unknown job", func() error { _, err := p.Resume(ctx, unknown); return err },
			workoutput.ErrJobNotFound, "workoutput: job not found: " + unknown + " (never opened, expired or deleted)"},
		{"negative chunk size", func() error { _, err := NewProducer(env.client, env.store, ProducerConfig{ChunkSize: -1}); return err },
			ErrInvalid, "jobs: invalid input: ProducerConfig has a negative ChunkSize, MaxChunkBytes, Concurrency, MaxRetry, Timeout or ReplicaWait (want >= 0, 0 means the default)"},
		{"empty handler kind", func() error {
			mux, err := NewMux(env.client, env.store, MuxConfig{})
			if err != nil {
				return err
			}
			return HandleRaw(mux, " ", func(context.Context, []byte) ([]byte, error) { return nil, nil })
		}, ErrInvalid, `jobs: invalid input: HandleRaw needs a Mux, a non-empty kind and a handler (kind " ")`},
	}
	for _, c := range cases {
		err := c.call()
		if !errors.Is(err, c.is) || err.Error() != c.msg {
			t.Errorf("%s:\n got %v\nwant %s", c.name, err, c.msg)
		}
	}
	if st, err := env.store.Status(ctx, open.ID()); err != nil || st.Total != 1 {
		t.Fatalf("rejected Add changed the job: %+v, %v", st, err)
	}
}

// TestWorkerBadInput runs chunks through a Mux directly (outside Asynq, so
// every attempt is the last one) and checks the failures it records.
func TestWorkerBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := newEnv(t, false, workoutput.Config{MaxOutputSize: 30})
	mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		t.Fatal(err)
	}
	err = Handle(mux, "typed", func(_ context.Context, s sighting) (analysis, error) {
		switch s.N {
		case 1:
			return analysis{Event: strings.Repeat("x", 20)}, nil
		case 2:
			return analysis{}, fmt.Errorf("%w: n must not be 2", ErrBadInput)
		case 3:
			return analysis{}, errors.New("transient")
		case 4:
			panic("boom")
		}
		return analysis{Double: 2 * s.N}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := HandleRaw(mux, "typed", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("HandleRaw with nil handler: %v", err)
	}
	events := []Event{
		{ID: "ok", Payload: []byte(`{"n":5}`)},
		{ID: "undecodable", Payload: []byte(`{"n":"five"}`)},
		{ID: "big-output", Payload: []byte(`{"n":1}`)},
		{ID: "bad-input", Payload: []byte(`{"n":2}`)},
		{ID: "out-of-retries", Payload: []byte(`{"n":3}`)},
		{ID: "panics", Payload: []byte(`{"n":4}`)},
	}
	job := openJob(t, env, "typed", events)
	if err := mux.ProcessTask(ctx, chunkTask(t, job, "typed", events)); err != nil {
		t.Fatalf("ProcessTask: %v", err)
	}
	// A kind without a handler here: the chunk goes back to its queue,
	// delayed, and the job says why its events wait; nothing fails.
	unknown := openJob(t, env, "nobody.handles.this", events[:2])
	if err := mux.ProcessTask(ctx, chunkTask(t, unknown, "nobody.handles.this", events[:2])); err != nil {
		t.Fatalf("unknown kind: %v, want nil (handed back)", err)
	}
	if st, err := env.store.Status(ctx, unknown); err != nil || st.Failed != 0 || !strings.Contains(st.Stalled, `no handler for kind "nobody.handles.this"`) {
		t.Fatalf("job of an unknown kind = %+v, %v; want no failure and a stall reason", st, err)
	}
	handedBack, err := asynq.NewInspectorFromRedisClient(env.client).ListScheduledTasks(DefaultQueue)
	if err != nil || len(handedBack) != 1 || handedBack[0].Type != TypeEvents {
		t.Fatalf("scheduled tasks on %s = %v, %v; want the chunk handed back", DefaultQueue, handedBack, err)
	}
	if err := mux.ProcessTask(ctx, asynq.NewTask(TypeEvents, []byte("garbage payload"))); !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, ErrBadChunk) ||
		err.Error() != "skip retry for the task: jobs: malformed chunk: chunk payload of 15 bytes: shorter than its 18-byte header" {
		t.Fatalf("garbage chunk: %v", err)
	}

	deleted := workoutput.NewJobID()
	err = mux.ProcessTask(ctx, chunkTask(t, deleted, "typed", events[:1]))
	if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, workoutput.ErrJobNotFound) {
		t.Fatalf("chunk of a job that no longer exists: %v, want SkipRetry and ErrJobNotFound", err)
	}

	want := map[string]string{
		"undecodable":    `jobs: bad input: payload of event undecodable does not decode into jobs.sighting: json: cannot unmarshal string into Go struct field sighting.n of type int`,
		"big-output":     `workoutput: too large: output of event "big-output" is 43 bytes (want at most 30, Config.MaxOutputSize)`,
		"bad-input":      `jobs: bad input: n must not be 2`,
		"out-of-retries": `transient`,
		"panics":         `jobs: handler of event panics panicked: boom`,
	}
	got := failures(t, env.store, job)
	if len(got) != len(want) {
		t.Fatalf("failures = %v, want %v", got, want)
	}
	for id, reason := range want {
		if got[id] != reason {
			t.Errorf("failure of %s:\n got %q\nwant %q", id, got[id], reason)
		}
	}
	if st, err := env.store.Status(ctx, job); err != nil || st.State != workoutput.StateComplete || st.Done != 1 || st.Failed != 5 {
		t.Fatalf("status = %+v, %v; want complete, 1 done, 5 failed", st, err)
	}
	if got := failures(t, env.store, unknown); len(got) != 0 {
		t.Fatalf("failures of unknown kind = %v; want none (the events wait for a handler)", got)
	}
}

// openJob opens a sealed job of events with given IDs.
func openJob(t *testing.T, env testEnv, kind string, events []Event) string {
	t.Helper()
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	job, err := env.store.Open(context.Background(), workoutput.Spec{Kind: kind}, workoutput.Batch{IDs: ids}, true)
	if err != nil {
		t.Fatal(err)
	}
	return job.ID
}

// chunkTask builds the task a Producer would enqueue for events.
func chunkTask(t *testing.T, jobID, kind string, events []Event) *asynq.Task {
	t.Helper()
	return asynq.NewTask(TypeEvents, encodeChunk(nil, mustUUID(t, jobID), kind, false, 0, events))
}

func failures(t *testing.T, store *workoutput.Store, jobID string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for f, err := range store.Failures(context.Background(), jobID) {
		if err != nil {
			t.Fatal(err)
		}
		if f.Attempts != 1 || f.Time.IsZero() {
			t.Errorf("failure %+v: want 1 attempt and a time", f)
		}
		got[f.EventID] = f.Reason
	}
	return got
}

// TestNoRetry: a job submitted with Spec.MaxRetry workoutput.NoRetry gets
// tasks whose events are not retried (Asynq MaxRetry 0, the first failed
// attempt final) and records MaxRetry 0; without one, the producer's
// default.
func TestNoRetry(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	ctx := context.Background()
	p := newProducer(t, env.client, env.store, ProducerConfig{})
	insp := asynq.NewInspectorFromRedisClient(env.client)
	for _, tc := range []struct {
		spec, want int
	}{{workoutput.NoRetry, 0}, {0, DefaultMaxRetry}, {5, 5}} {
		job, err := p.Submit(ctx, workoutput.Spec{Kind: "k", MaxRetry: tc.spec}, []Event{{Payload: []byte(`1`)}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := env.store.Status(ctx, job)
		if err != nil || st.MaxRetry != tc.want {
			t.Fatalf("Spec.MaxRetry %d: Status.MaxRetry = %d, %v; want %d", tc.spec, st.MaxRetry, err, tc.want)
		}
		tasks, err := insp.ListPendingTasks(testQueue, asynq.PageSize(1000))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, task := range tasks {
			if c, err := decodeChunk(task.Payload); err == nil && c.jobID == job {
				found = true
				if task.MaxRetry != tc.want {
					t.Errorf("Spec.MaxRetry %d: the chunk's MaxRetry = %d, want %d", tc.spec, task.MaxRetry, tc.want)
				}
			}
		}
		if !found {
			t.Fatalf("Spec.MaxRetry %d: no pending chunk of job %s", tc.spec, job)
		}
	}
}
