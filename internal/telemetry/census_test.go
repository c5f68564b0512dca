package telemetry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fanin-dev/fanin/workoutput"
)

// TestCensusIsReadOncePerReuse: scrapes within CensusReuse of a census
// report it again, without reading Redis; the first scrape after that reads
// a new one; a census that failed is not kept, so the next scrape reads
// again. (The census itself, on a real Redis, is TestEventMetricsAndCensus's.)
func TestCensusIsReadOncePerReuse(t *testing.T) {
	t.Parallel()
	reads, fail := 0, false
	census := func(context.Context) (workoutput.Census, error) {
		reads++
		if fail {
			return workoutput.Census{}, errors.New("redis is down")
		}
		return workoutput.Census{Jobs: map[workoutput.State]int64{workoutput.StateRunning: int64(reads)}}, nil
	}
	now := time.Unix(1_000_000, 0)
	c := CensusCollector(census).(*censusCollector)
	c.now = func() time.Time { return now }
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	running := func() (float64, error) {
		t.Helper()
		mf, err := reg.Gather()
		for _, f := range mf {
			for _, m := range f.GetMetric() {
				if f.GetName() == "fanin_jobs" && m.GetLabel()[0].GetValue() == "running" {
					return m.GetGauge().GetValue(), err
				}
			}
		}
		return -1, err
	}
	for _, step := range []struct {
		after   time.Duration
		fail    bool
		reads   int
		running float64 // -1: no value (the scrape failed)
	}{
		{0, false, 1, 1},                           // the first scrape reads
		{time.Second, false, 1, 1},                 // reused
		{CensusReuse - 2*time.Second, false, 1, 1}, // 1s before CensusReuse: reused
		{2 * time.Second, false, 2, 2},             // past it: read anew
		{CensusReuse, true, 3, -1},                 // read, failed: reported as an error
		{time.Millisecond, false, 4, 4},            // the failure was not kept
	} {
		now, fail = now.Add(step.after), step.fail
		got, err := running()
		if reads != step.reads || got != step.running || (err != nil) != step.fail {
			t.Fatalf("after %v more: %d reads, running %v, error %v; want %d reads, running %v, an error %v",
				step.after, reads, got, err, step.reads, step.running, step.fail)
		}
	}
}
