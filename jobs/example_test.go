package jobs_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hibiken/asynq"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

type sighting struct {
	Place string `json:"place"`
	Count int    `json:"count"`
}

type analysis struct {
	Herd bool `json:"herd"`
}

// Submit a job of zombie sightings, process it with a worker pool, and read
// the outputs once the job is complete.
func Example() {
	tb := &redistest.ExampleTB{}
	defer tb.Close()
	// A dedicated server: Asynq's own keys cannot carry a test prefix.
	client := redistest.StartServer(tb, redistest.ServerOptions{}).Client(tb)
	ctx := context.Background()

	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// The worker side.
	mux, err := jobs.NewMux(client, store, jobs.MuxConfig{})
	if err != nil {
		log.Fatal(err)
	}
	err = jobs.Handle(mux, "zombies.sighting", func(ctx context.Context, s sighting) (analysis, error) {
		return analysis{Herd: s.Count >= 10}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := asynq.NewServerFromRedisClient(client, asynq.Config{
		TaskCheckInterval: 50 * time.Millisecond,
		LogLevel:          asynq.FatalLevel,
	})
	if err := srv.Start(mux); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown()

	// The producer side.
	p, err := jobs.NewProducer(client, store, jobs.ProducerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	var events []jobs.Event
	for id, s := range map[string]sighting{"mall": {"mall", 40}, "farm": {"farm", 2}, "bridge": {"bridge", 12}} {
		e, err := jobs.JSONEvent(id, s)
		if err != nil {
			log.Fatal(err)
		}
		events = append(events, e)
	}
	jobID, err := p.Submit(ctx, workoutput.Spec{Kind: "zombies.sighting"}, events)
	if err != nil {
		log.Fatal(err)
	}

	for {
		st, err := store.Status(ctx, jobID)
		if err != nil {
			log.Fatal(err)
		}
		if st.State == workoutput.StateComplete {
			fmt.Printf("%s: %d done, %d failed\n", st.State, st.Done, st.Failed)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, place := range []string{"bridge", "farm", "mall"} {
		item, err := store.Output(ctx, jobID, place)
		if err != nil {
			log.Fatal(err)
		}
		var a analysis
		if err := item.Decode(&a); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s herd=%v\n", place, a.Herd)
	}
	// Output:
	// complete: 3 done, 0 failed
	// bridge herd=true
	// farm herd=false
	// mall herd=true
}

// Collect a complete job with a typed fold: the coordinator locks the job,
// streams its outputs into the reducer and commits the result once.
func ExampleCoordinator() {
	tb := &redistest.ExampleTB{}
	defer tb.Close()
	client := redistest.StartServer(tb, redistest.ServerOptions{}).Client(tb)
	ctx := context.Background()
	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// A job of three sightings whose outputs the workers have written.
	job, err := store.Open(ctx, workoutput.Spec{Kind: "zombies.sighting"}, workoutput.Batch{IDs: []string{"mall", "farm", "bridge"}}, true)
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{
		{EventID: "mall", Value: []byte(`{"herd":true}`)},
		{EventID: "farm", Value: []byte(`{"herd":false}`)},
		{EventID: "bridge", Value: []byte(`{"herd":true}`)},
	}})
	if err != nil {
		log.Fatal(err)
	}

	c, err := jobs.NewCoordinator(client, store, jobs.CoordinatorConfig{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	herds := jobs.Fold(
		func(jobs.JobInfo) int { return 0 },
		func(n int, _ string, a analysis) (int, error) {
			if a.Herd {
				n++
			}
			return n, nil
		},
		func(n int) ([]byte, error) { return fmt.Appendf(nil, "%d herds", n), nil },
	)
	if err := c.Handle("zombies.sighting", herds); err != nil {
		log.Fatal(err)
	}
	// Run(ctx) is the daemon; Collect handles one job.
	out, err := c.Collect(ctx, job.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s\n", out.State, out.Result)
	res, err := store.Result(ctx, job.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stored: %s\n", res)
	// Output:
	// done: 2 herds
	// stored: 2 herds
}

// Gaps tells a producer, from the heartbeats of the live processes
// (Registry.Members), what no one would do for a job.
func ExampleGaps() {
	members := []jobs.Member{
		{ID: "w1", Role: jobs.RoleWorker, Kinds: []string{"geo.lookup"}, Queues: []string{"fast"}},
		{ID: "c1", Role: jobs.RoleCoordinator, Kinds: []string{"count"}},
	}
	for _, gap := range jobs.Gaps(members, "geo.lookup", "default") {
		fmt.Println(gap)
	}
	// Output:
	// no worker serves kind "geo.lookup" on queue "default"
	// no coordinator reduces kind "geo.lookup"
}
