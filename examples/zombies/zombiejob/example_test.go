package zombiejob_test

import (
	"context"
	"fmt"
	"time"

	"github.com/fanin-dev/fanin/examples/zombies/sightings"
	"github.com/fanin-dev/fanin/examples/zombies/zombiejob"
)

// The handler a worker runs for each sighting of a zombies job.
func ExampleHandle() {
	a, err := zombiejob.Handle(context.Background(), sightings.Sighting{
		ID: "s1", Time: time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC),
		Lat: 40.8928, Lon: -74.006, Count: 120, Heading: 185,
	})
	fmt.Println(a.City, a.Threat, err)
	// Output: New York 5 <nil>
}
