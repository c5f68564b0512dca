package progress_test

import (
	"fmt"
	"time"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/workoutput"
)

func ExampleDescribe() {
	m := progress.NewMeter(progress.DefaultWindow)
	t0 := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	m.Observe(t0, 1000)
	m.Observe(t0.Add(2*time.Second), 3500) // 1,250 events/s
	st := workoutput.Status{ID: "j1", State: workoutput.StateRunning, Sealed: true, Total: 20000, Done: 3488, Failed: 12, Pending: 16500}
	fmt.Println(progress.Describe(st, m))
	// Output: running: 3,500/20,000 events (17%), 12 failed, 1,250 events/s, ETA 13s
}
