package progress_test

import (
	"fmt"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/workoutput"
)

func ExampleLine() {
	fmt.Println(progress.Line(workoutput.Status{ID: "j1", State: workoutput.StateOpen, Total: 200, Done: 150, Failed: 2, Pending: 48}))
	// Output: job j1 open: 152/200 events (76%), 150 done, 2 failed, 48 pending
}
