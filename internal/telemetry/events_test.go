package telemetry_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/workoutput"
)

// TestEventMetricsAndCensus: events are counted per kind and outcome; the
// census reports every job by state and the events still pending per kind,
// read from a real Redis.
func TestEventMetricsAndCensus(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	ev := telemetry.NewEventMetrics(reg)
	ev.Add("a", 10, 2, 3)
	ev.Add("a", 5, 0, 1)
	ev.Add("b", 1, 0, 0)

	r := redistest.New(t)
	store, err := workoutput.New(r.Client, workoutput.Config{Namespace: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	open := func(kind string, n int) string {
		job, err := store.Open(ctx, workoutput.Spec{Kind: kind}, workoutput.Batch{Generated: n}, true)
		if err != nil {
			t.Fatal(err)
		}
		return job.ID
	}
	j1 := open("a", 5)
	if _, err := store.Write(ctx, j1, workoutput.Record{Outputs: []workoutput.Output{{EventID: "#0", Value: []byte("1")}},
		Failures: []workoutput.Failure{{EventID: "#1", Reason: "x"}}}); err != nil {
		t.Fatal(err)
	}
	open("a", 2)
	if err := store.Cancel(ctx, open("b", 4)); err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(telemetry.CensusCollector(store.Census))
	mf, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range mf {
		for _, m := range f.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = v
		}
	}
	for name, want := range map[string]float64{
		"fanin_events_processed_total/a": 15, "fanin_events_processed_total/b": 1,
		"fanin_events_failed_total/a": 2, "fanin_events_retried_total/a": 4, "fanin_events_retried_total/b": 0,
		"fanin_events_pending/a": 5, // 3 of the first job, 2 of the second; the cancelled job's are not pending
		"fanin_jobs/running":     2, "fanin_jobs/cancelled": 1, "fanin_jobs/done": 0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v); want %v", name, v, ok, want)
		}
	}
	if _, ok := got["fanin_events_pending/b"]; ok {
		t.Errorf("fanin_events_pending counts the events of a cancelled job")
	}
}
