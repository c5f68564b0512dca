package telemetry

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fanin-dev/fanin/workoutput"
)

// EventMetrics counts the events a worker handles, by kind.
type EventMetrics struct {
	processed, failed, retried *prometheus.CounterVec
}

// NewEventMetrics registers fanin_events_processed_total{kind} (outputs
// written), fanin_events_failed_total{kind} (events failed for good) and
// fanin_events_retried_total{kind} (failed attempts that will be retried)
// on reg.
func NewEventMetrics(reg prometheus.Registerer) *EventMetrics {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"kind"})
	}
	m := &EventMetrics{
		processed: vec("fanin_events_processed_total", "Events this worker handled with an output written, by kind."),
		failed:    vec("fanin_events_failed_total", "Events this worker recorded as failed for good, by kind."),
		retried:   vec("fanin_events_retried_total", "Failed attempts of events this worker will retry (a handler error or timeout), by kind."),
	}
	reg.MustRegister(m.processed, m.failed, m.retried)
	return m
}

// Add counts the outcomes of a chunk of events of kind.
func (m *EventMetrics) Add(kind string, processed, failed, retried int) {
	m.processed.WithLabelValues(kind).Add(float64(processed))
	m.failed.WithLabelValues(kind).Add(float64(failed))
	m.retried.WithLabelValues(kind).Add(float64(retried))
}

// CensusTimeout bounds the read of a census at a scrape.
const CensusTimeout = 5 * time.Second

// censusCollector reports a census of the jobs at each scrape.
type censusCollector struct {
	census  func(context.Context) (workoutput.Census, error)
	jobs    *prometheus.Desc
	pending *prometheus.Desc
}

// CensusCollector returns a collector of fanin_jobs{state} (jobs in Redis
// by state) and fanin_events_pending{kind} (events of open and running
// jobs without an output or a failure, by kind), read with census
// (workoutput.Store.Census) at each scrape within CensusTimeout. Its cost
// grows with the jobs kept: a few Redis commands per job per scrape.
func CensusCollector(census func(context.Context) (workoutput.Census, error)) prometheus.Collector {
	return &censusCollector{
		census:  census,
		jobs:    prometheus.NewDesc("fanin_jobs", "Jobs in Redis, by state (finished jobs while kept).", []string{"state"}, nil),
		pending: prometheus.NewDesc("fanin_events_pending", "Events of open and running jobs with neither an output nor a failure yet, by job kind.", []string{"kind"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *censusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.jobs; ch <- c.pending }

// Collect implements prometheus.Collector.
func (c *censusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), CensusTimeout)
	defer cancel()
	cs, err := c.census(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.jobs, fmt.Errorf("telemetry: census of jobs: %w", err))
		return
	}
	for _, s := range workoutput.States() {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(cs.Jobs[s]), string(s))
	}
	for kind, n := range cs.Pending {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n), kind)
	}
}
