package telemetry

import (
	"context"
	"fmt"
	"sync"
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

// CensusReuse is how long a census is reported again instead of read anew:
// a census costs Redis a few commands per job kept, so scrapes closer
// together than this (a short scrape interval, or two Prometheus servers
// scraping the same process) cost one census between them.
const CensusReuse = 10 * time.Second

// censusCollector reports a census of the jobs at each scrape, reading it
// at most once per CensusReuse.
type censusCollector struct {
	census  func(context.Context) (workoutput.Census, error)
	now     func() time.Time
	jobs    *prometheus.Desc
	pending *prometheus.Desc

	mu   sync.Mutex // held while a census is read: a concurrent scrape waits for it
	last workoutput.Census
	at   time.Time // when last was read; zero before the first
}

// CensusCollector returns a collector of fanin_jobs{state} (jobs in Redis
// by state) and fanin_events_pending{kind} (events of open and running
// jobs without an output or a failure, by kind), read with census
// (workoutput.Store.Census) within CensusTimeout at a scrape, unless one
// was read less than CensusReuse before. A census costs a few Redis
// commands per job kept.
func CensusCollector(census func(context.Context) (workoutput.Census, error)) prometheus.Collector {
	return &censusCollector{
		census:  census,
		now:     time.Now,
		jobs:    prometheus.NewDesc("fanin_jobs", "Jobs in Redis, by state (finished jobs while kept).", []string{"state"}, nil),
		pending: prometheus.NewDesc("fanin_events_pending", "Events of open and running jobs with neither an output nor a failure yet, by job kind.", []string{"kind"}, nil),
	}
}

// read returns the last census if it is younger than CensusReuse, or reads
// one; a census that fails to read is not kept.
func (c *censusCollector) read() (workoutput.Census, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && c.now().Sub(c.at) < CensusReuse {
		return c.last, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), CensusTimeout)
	defer cancel()
	cs, err := c.census(ctx)
	if err != nil {
		return cs, err
	}
	c.last, c.at = cs, c.now()
	return cs, nil
}

// Describe implements prometheus.Collector.
func (c *censusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.jobs; ch <- c.pending }

// Collect implements prometheus.Collector.
func (c *censusCollector) Collect(ch chan<- prometheus.Metric) {
	cs, err := c.read()
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
