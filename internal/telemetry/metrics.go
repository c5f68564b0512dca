package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a Prometheus registry holding the Go runtime and
// process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// queueCollector reports the sizes of Asynq queues at each scrape.
type queueCollector struct {
	inspector *asynq.Inspector
	queues    []string
	size      *prometheus.Desc
}

// QueueCollector returns a collector of the number of tasks of each queue
// by state (fanin_queue_tasks{queue, state}), read with inspector at each
// scrape. A queue that does not exist yet reports nothing.
func QueueCollector(inspector *asynq.Inspector, queues ...string) prometheus.Collector {
	return &queueCollector{
		inspector: inspector,
		queues:    queues,
		size: prometheus.NewDesc("fanin_queue_tasks", "Tasks in an Asynq queue, by state.",
			[]string{"queue", "state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.size }

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	known, err := c.inspector.Queues()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.size, fmt.Errorf("telemetry: list queues: %w", err))
		return
	}
	for _, q := range c.queues {
		if !slices.Contains(known, q) {
			continue
		}
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.size, fmt.Errorf("telemetry: queue %s: %w", q, err))
			continue
		}
		for state, n := range map[string]int{
			"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed,
		} {
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}

// Server serves /metrics and /healthz.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr (host:port; ":0" picks a free port) and returns a
// Server that, once Serve runs, exposes reg on /metrics and health on
// /healthz. health is called with the request's context, bounded to 5 s.
func Listen(addr string, reg *prometheus.Registry, health func(ctx context.Context) error) (*Server, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("%w: metrics address %q (want host:port, like :9090 or 127.0.0.1:9090)", ErrInvalid, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("telemetry: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := health(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unhealthy: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then shuts the server down.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("telemetry: metrics server: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(shut)
	return nil
}

// TaskMetrics counts the Asynq tasks a server processes.
type TaskMetrics struct {
	tasks    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewTaskMetrics registers fanin_tasks_processed_total{type, outcome} and
// fanin_task_duration_seconds{type} on reg.
func NewTaskMetrics(reg prometheus.Registerer) *TaskMetrics {
	m := &TaskMetrics{
		tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fanin_tasks_processed_total", Help: "Asynq tasks processed, by type and outcome (ok or error).",
		}, []string{"type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fanin_task_duration_seconds", Help: "Time to process one Asynq task, by type.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"type"}),
	}
	reg.MustRegister(m.tasks, m.duration)
	return m
}

// Middleware wraps h to count its tasks.
func (m *TaskMetrics) Middleware(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		err := h.ProcessTask(ctx, t)
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		m.tasks.WithLabelValues(t.Type(), outcome).Inc()
		m.duration.WithLabelValues(t.Type()).Observe(time.Since(start).Seconds())
		return err
	})
}
