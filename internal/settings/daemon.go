package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/heapfloor"
	"github.com/fanin-dev/fanin/internal/redisurl"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/jobs"
)

// Daemon is what StartDaemon needs of a long-running binary.
type Daemon struct {
	// Name names the daemon in logs ("worker", "coordinator").
	Name string
	// Client and Target are the opened Redis and its description.
	Client redis.UniversalClient
	Target *redisurl.Target
	// Log receives the daemon's messages.
	Log *slog.Logger
	// Registry holds the metrics served on MetricsAddr.
	Registry *prometheus.Registry
	// MetricsAddr serves /metrics and /healthz when not empty.
	MetricsAddr string
	// RedisWait bounds the wait for Redis at start; 0 waits until ctx ends.
	RedisWait time.Duration
}

// StartDaemon serves /metrics and /healthz (a Redis PING) when asked, so
// that /healthz says "unhealthy" while Redis does not answer, then waits for
// Redis with WaitForRedis. It reports stopped when ctx ended during the wait
// (a SIGTERM before Redis came up: the daemon should exit 0), and an error
// with the usage exit code for a bad metrics address. Once Redis answers,
// it touches the heap the daemon will grow to, in the background
// (heapfloor.Pretouch).
func StartDaemon(ctx context.Context, d Daemon) (stopped bool, err error) {
	if d.MetricsAddr != "" {
		ms, err := telemetry.Listen(d.MetricsAddr, d.Registry, func(ctx context.Context) error { return d.Client.Ping(ctx).Err() })
		if err != nil {
			return false, exitcode.With(exitcode.Usage, err)
		}
		go func() { _ = ms.Serve(ctx) }()
		d.Log.Info("serving /metrics and /healthz", "addr", ms.Addr())
	}
	if err := WaitForRedis(ctx, d.Client, d.Target, d.Log, d.RedisWait); err != nil {
		if ctx.Err() != nil {
			d.Log.Info(d.Name + " stopped before Redis was reachable")
			return true, nil
		}
		return false, err
	}
	go heapfloor.Pretouch(heapfloor.Floor) // the first job finds its heap's pages
	return false, nil
}

// Announce makes a daemon's heartbeat (jobs.Registry) until ctx ends: it
// announces the kinds it serves (role worker: handles; coordinator:
// reduces) and its queues in the deployment of store's namespace, and
// withdraws them when ctx ends. The returned function waits for the
// withdrawal. A failed heartbeat is logged at warn, except the first one
// refused for want of permission (NOPERM): a daemon whose Redis user may
// not write the deployment's keys can never work, and Announce returns an
// error with the Unreachable exit code instead of running on.
func Announce(ctx context.Context, client redis.UniversalClient, namespace string, role jobs.Role, kinds, queues []string, log *slog.Logger) (wait func(), err error) {
	reg, err := jobs.NewRegistry(client, jobs.RegistryConfig{Namespace: namespace})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	m := jobs.Member{ID: jobs.NewMemberID(), Role: role, Kinds: kinds, Queues: queues, Host: host, PID: os.Getpid(),
		Version: Version(), Started: time.Now().UTC()}
	var reply redis.Error
	if err := reg.Beat(ctx, m); errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "NOPERM") {
		return nil, exitcode.With(exitcode.Unreachable, fmt.Errorf("the %s's heartbeat was refused: %w (want a Redis user allowed the deployment's keys, %s*, and Asynq's, asynq:*)", role, err, namespace))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		reg.Run(ctx, m, func(err error) { log.Warn("heartbeat failed; retried at the next interval", "err", err) })
	}()
	return func() { <-done }, nil
}

// MetricsAddrHelp is the help of --metrics-addr, the same for the worker
// and coordinator run.
const MetricsAddrHelp = "serve Prometheus /metrics and /healthz on this address, like :9090 (each process on a host needs its own port; env " + EnvMetricsAddr + "; default off)"
