package jobs_test

import (
	"fmt"

	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// One deployment value gives every role its names; "acme" and "acme:" are
// the same deployment.
func ExampleParseDeployment() {
	d, err := jobs.ParseDeployment("acme")
	if err != nil {
		fmt.Println(err)
		return
	}
	same, _ := jobs.ParseDeployment("acme:")
	fmt.Println(d == same, d.Namespace(), d.EventsQueue(), d.CollectQueue(), d.Channel())

	// The configs of its producer, workers and coordinators.
	_ = workoutput.Config{Namespace: d.Namespace()}
	_ = jobs.ProducerConfig{Queue: d.EventsQueue(), CollectQueue: d.CollectQueue()}
	_ = jobs.MuxConfig{CollectQueue: d.CollectQueue()}
	_ = jobs.CoordinatorConfig{Queue: d.CollectQueue(), EventsQueue: d.EventsQueue()}

	_, err = jobs.ParseDeployment("acme prod")
	fmt.Println(err != nil)
	// Output:
	// true acme: acme:default acme:fanin-collect acme:completed
	// true
}
