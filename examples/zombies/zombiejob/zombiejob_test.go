package zombiejob_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/fanin-dev/fanin/examples/zombies/sightings"
	"github.com/fanin-dev/fanin/examples/zombies/zombiejob"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

func TestHandleRejectsInvalidSightingForGood(t *testing.T) {
	t.Parallel()
	_, err := zombiejob.Handle(context.Background(), sightings.Sighting{ID: "s1"})
	if !errors.Is(err, jobs.ErrBadInput) || !errors.Is(err, sightings.ErrInvalidSighting) {
		t.Fatalf("Handle(invalid) = %v, want ErrBadInput and ErrInvalidSighting", err)
	}
}

// TestJobThroughFaninEqualsDirectFold runs a zombies job through a worker
// pool and a coordinator on a real Redis: the committed result is the JSON
// of the Predictor folded directly over the same sightings.
func TestJobThroughFaninEqualsDirectFold(t *testing.T) {
	t.Parallel()
	client := redistest.StartServer(t, redistest.ServerOptions{}).Client(t)
	ctx := context.Background()
	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const queue, collect = "zombies", "zombies-collect"
	mux, err := jobs.NewMux(client, store, jobs.MuxConfig{CollectQueue: collect})
	if err != nil {
		t.Fatal(err)
	}
	if err := zombiejob.RegisterHandler(mux); err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServerFromRedisClient(client, asynq.Config{Queues: map[string]int{queue: 1}, Concurrency: 4, TaskCheckInterval: 20 * time.Millisecond, LogLevel: asynq.FatalLevel})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	coord, err := jobs.NewCoordinator(client, store, jobs.CoordinatorConfig{Queue: collect})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	if err := coord.Handle(zombiejob.Kind, zombiejob.Reducer()); err != nil {
		t.Fatal(err)
	}

	in := sightings.Generate(3, 2000)
	events, err := zombiejob.Events(sightings.GenerateSeq(3, 2000))
	if err != nil || len(events) != len(in) || events[0].ID != in[0].ID {
		t.Fatalf("Events: %d events, %v", len(events), err)
	}
	p, err := jobs.NewProducer(client, store, jobs.ProducerConfig{Queue: queue, CollectQueue: collect, ChunkSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Submit(ctx, workoutput.Spec{Kind: zombiejob.Kind}, events)
	if err != nil {
		t.Fatal(err)
	}
	var out jobs.Outcome
	for {
		out, err = coord.Collect(ctx, id)
		if err == nil {
			break
		}
		if !errors.Is(err, workoutput.ErrState) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	pred := sightings.NewPredictor()
	for _, s := range in {
		a, err := sightings.Analyze(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := pred.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := json.Marshal(pred.Result())
	if out.State != workoutput.StateDone || string(out.Result) != string(want) {
		t.Fatalf("outcome %s with %d bytes, want done with the direct fold's %d bytes", out.State, len(out.Result), len(want))
	}
	summary, err := zombiejob.Summary(out.Result)
	if err != nil || !strings.HasPrefix(summary, "2000 sightings") {
		t.Fatalf("Summary = %q, %v", summary, err)
	}
	if _, err := zombiejob.Summary([]byte("not json")); err == nil {
		t.Fatal("Summary of garbage succeeded")
	}
}
