package workoutput_test

import (
	"context"
	"fmt"
	"log"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// A job of three events: outputs are written (one twice, as a redelivered
// event would), the job is sealed, and the last write completes it.
func Example() {
	r, done := redistest.ForExample()
	defer done()
	ctx := context.Background()
	store, err := workoutput.New(r.Client, workoutput.Config{Namespace: r.Prefix})
	if err != nil {
		log.Fatal(err)
	}
	job, err := store.Open(ctx, workoutput.Spec{Kind: "zombies.sighting"}, workoutput.Batch{IDs: []string{"s1", "s2", "s3"}}, false)
	if err != nil {
		log.Fatal(err)
	}
	write := func(id, out string) {
		res, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: id, Value: []byte(out)}}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("write %s: completed=%v\n", id, res.Completed)
	}
	write("s1", `"herd north"`)
	write("s1", `"herd north"`) // redelivered: changes nothing
	write("s2", `"herd east"`)
	completed, err := store.Seal(ctx, job.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("seal: completed =", completed)
	for id, err := range store.Missing(ctx, job.ID) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("waiting for", id)
	}
	write("s3", `"no zombies"`)
	st, err := store.Status(ctx, job.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d of %d done\n", st.State, st.Done, st.Total)
	// Output:
	// write s1: completed=false
	// write s1: completed=false
	// write s2: completed=false
	// seal: completed = false
	// waiting for s3
	// write s3: completed=true
	// complete: 3 of 3 done
}
