package settings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/redisurl"
	"github.com/fanin-dev/fanin/internal/telemetry"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// Defaults of the shared settings.
const (
	// DefaultRedisURL is used when neither --redis nor an environment
	// variable names Redis.
	DefaultRedisURL = "redis://127.0.0.1:6379/0"
	// DefaultConnectTimeout bounds the first PING.
	DefaultConnectTimeout = 10 * time.Second
)

// QueueRule explains, for --help, the deployment value: what --namespace
// derives and which overrides are refused.
const QueueRule = `--namespace names the deployment; NAME and NAME: are the same one. From
it derive its key prefix NAME:, its events queue NAME:default, its collect
queue NAME:fanin-collect and its completion channel NAME:completed; the
default, fanin, keeps the queue names default and fanin-collect. Allowed:
letters, digits, '-', '_' and '.' in parts separated by ':', at most 64
characters, not asynq nor starting with asynq: (Asynq's own keys; asynqx
and ASYNQ are other names). Two deployments on one Redis never share a
queue. --queues, --queue and --collect-queue (or their environment
variables) override the queue names; refused at start: a collect queue
that is an events queue, or the deployment's events queue; an events
queue that is the deployment's collect queue; and any override of the
form of a derived name (default, fanin-collect, or a name ending in
:default or :fanin-collect) other than the deployment's own queue of that
role, since such names are another deployment's. A coordinator whose
collect queue is an override hands event chunks sent there by mistake to
the deployment's events queue, and warns at start that it does.`

// Deployment returns the deployment of the settings' namespace; its error
// carries the usage exit code.
func (c *Common) Deployment() (jobs.Deployment, error) {
	d, err := jobs.ParseDeployment(c.Namespace)
	return d, exitcode.With(exitcode.Usage, err)
}

// CheckQueues checks the queue names of one process (events: the queues
// it sends events to or serves; the collect queue of the settings) against
// the deployment (see jobs.Deployment.CheckQueues) and returns the
// deployment; its errors carry the usage exit code.
func (c *Common) CheckQueues(events ...string) (jobs.Deployment, error) {
	d, err := c.Deployment()
	if err != nil {
		return d, err
	}
	return d, exitcode.With(exitcode.Usage, d.CheckQueues(events, c.CollectQueue))
}

// Environment variables.
const (
	// EnvRedisURL names Redis (--redis); it wins over EnvRedisURLShort.
	EnvRedisURL = "FANIN_REDIS_URL"
	// EnvRedisURLShort names Redis when EnvRedisURL is not set.
	EnvRedisURLShort = "REDIS_URL"
	// EnvCAFile is --redis-ca-file.
	EnvCAFile = "FANIN_REDIS_CA_FILE"
	// EnvSentinelMaster is --sentinel-master.
	EnvSentinelMaster = "FANIN_REDIS_SENTINEL_MASTER"
	// EnvNamespace is --namespace.
	EnvNamespace = "FANIN_NAMESPACE"
	// EnvCollectQueue is --collect-queue.
	EnvCollectQueue = "FANIN_COLLECT_QUEUE"
	// EnvLogFormat is --log-format.
	EnvLogFormat = "FANIN_LOG_FORMAT"
	// EnvLogLevel is --log-level.
	EnvLogLevel = "FANIN_LOG_LEVEL"
	// EnvMetricsAddr is --metrics-addr.
	EnvMetricsAddr = "FANIN_METRICS_ADDR"
	// EnvReplicaAcks is --replica-acks.
	EnvReplicaAcks = "FANIN_REPLICA_ACKS"
	// EnvReplicaTimeout is --replica-timeout.
	EnvReplicaTimeout = "FANIN_REPLICA_TIMEOUT"
	// EnvReplicaWait is --replica-wait (submit's flag).
	EnvReplicaWait = "FANIN_REPLICA_WAIT"
	// EnvRedisWait is --redis-wait (the daemons' flag).
	EnvRedisWait = "FANIN_REDIS_WAIT"
	// EnvMaxEventSize is --max-event-size.
	EnvMaxEventSize = "FANIN_MAX_EVENT_SIZE"
	// EnvMaxOutputSize is --max-output-size.
	EnvMaxOutputSize = "FANIN_MAX_OUTPUT_SIZE"
)

// Backoff of WaitForRedis between two PINGs: from MinRetryDelay, doubled
// up to MaxRetryDelay. Each PING is bounded by PingTimeout.
const (
	MinRetryDelay = 100 * time.Millisecond
	MaxRetryDelay = 5 * time.Second
	PingTimeout   = 3 * time.Second
)

// Common are the settings both binaries take.
type Common struct {
	// RedisURL names Redis (see package redisurl for the forms).
	RedisURL string
	// CAFile is a PEM CA bundle for rediss URLs.
	CAFile string
	// SentinelMaster reads the URL's addresses as Sentinels of this
	// master.
	SentinelMaster string
	// Namespace prefixes fanin's keys.
	Namespace string
	// CollectQueue is the Asynq queue of collect tasks.
	CollectQueue string
	// LogFormat is text or json; LogLevel debug, info, warn or error.
	LogFormat, LogLevel string
	// ReplicaAcks and ReplicaTimeout are workoutput.Config's.
	ReplicaAcks    int
	ReplicaTimeout time.Duration
	// MaxEventSize and MaxOutputSize cap one event's payload and one
	// output, in bytes (workoutput.Config's).
	MaxEventSize, MaxOutputSize int

	flags *pflag.FlagSet
}

// AddFlags registers the common flags on fs.
func (c *Common) AddFlags(fs *pflag.FlagSet) {
	c.flags = fs
	fs.StringVar(&c.RedisURL, "redis", "", "Redis URL: redis://[user:password@]host:port/db, rediss:// for TLS, several host:port separated by commas or redis+cluster:// for a Cluster, redis+sentinel://host:26379/master for Sentinel (env "+EnvRedisURL+" or "+EnvRedisURLShort+"; default "+DefaultRedisURL+")")
	fs.StringVar(&c.CAFile, "redis-ca-file", "", "PEM file of the CA that signed the Redis server's certificate, for rediss:// with a private CA (env "+EnvCAFile+")")
	fs.StringVar(&c.SentinelMaster, "sentinel-master", "", "read the --redis addresses as Sentinels and connect to this master (env "+EnvSentinelMaster+")")
	fs.StringVar(&c.Namespace, "namespace", workoutput.DefaultNamespace, "the deployment: prefix of fanin's Redis keys, and of its queues and channel under another namespace than fanin: (NAME and NAME: are the same; env "+EnvNamespace+")")
	fs.StringVar(&c.CollectQueue, "collect-queue", jobs.DefaultCollectQueue, "Asynq queue of collect tasks; workers never serve it (env "+EnvCollectQueue+"; default NAMESPACE:fanin-collect under a --namespace other than fanin:)")
	fs.StringVar(&c.LogFormat, "log-format", telemetry.FormatText, "log format: text or json (env "+EnvLogFormat+")")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error (env "+EnvLogLevel+")")
	fs.IntVar(&c.ReplicaAcks, "replica-acks", 0, "replicas that must acknowledge every job write before it counts as done (Redis WAIT), so a failover loses nothing acknowledged; while fewer replicas answer (missing, or still in their first sync), a write is applied on the master, not acknowledged, and retried: workers ride it out, submit for --replica-wait (env "+EnvReplicaAcks+"; 0: the master's acknowledgement is enough)")
	fs.IntVar(&c.MaxEventSize, "max-event-size", workoutput.DefaultMaxEventSize, "largest event payload in bytes: submit refuses a larger event, and a longer line of the events file as soon as it reads that far (nothing is submitted); a failed event's payload, kept for coordinator retry, is bounded by it too (env "+EnvMaxEventSize+")")
	fs.IntVar(&c.MaxOutputSize, "max-output-size", workoutput.DefaultMaxOutputSize, "largest output in bytes: a worker records a larger output as the event's failure (env "+EnvMaxOutputSize+")")
	fs.DurationVar(&c.ReplicaTimeout, "replica-timeout", workoutput.DefaultReplicaTimeout, "with --replica-acks, how long one write waits for the replicas before it is retried; meanwhile the write is applied on the master but not acknowledged, and readers of the master already see it (env "+EnvReplicaTimeout+")")
}

// Names of the queue flags whose default follows the namespace (see
// jobs.Deployment): the collect queue of every program, the worker's
// --queues and submit's --queue.
const (
	flagNamespace    = "namespace"
	flagCollectQueue = "collect-queue"
	flagQueues       = "queues"
	flagQueue        = "queue"
)

// FromEnv fills each flag of fs that was not given on the command line from
// its environment variable in env (flag name → variable names, first set
// and non-empty wins). Then it checks the flags: --redis given empty, a
// negative int or duration flag, and an empty or ill-formed --namespace
// are errors; and the queue flags given neither way (collect-queue, queues,
// queue) take the names of the namespace's deployment
// (jobs.Deployment). Callers report its errors as usage errors.
func FromEnv(fs *pflag.FlagSet, env map[string][]string) error {
	given := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { given[f.Name] = true })
	for name, vars := range env {
		f := fs.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		for _, v := range vars {
			if val, ok := os.LookupEnv(v); ok && val != "" {
				if err := setFromEnv(fs, f, val); err != nil {
					return fmt.Errorf("environment variable %s: %w", v, err)
				}
				f.Changed = false // still "not given on the command line"
				given[name] = true
				break
			}
		}
	}
	if f := fs.Lookup("redis"); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
		return fmt.Errorf("--redis is empty (want a Redis URL like %s; leave the flag out to use %s, %s or that default)", DefaultRedisURL, EnvRedisURL, EnvRedisURLShort)
	}
	var negative error
	fs.VisitAll(func(f *pflag.Flag) {
		if t := f.Value.Type(); negative == nil && (t == "int" || t == "duration") && strings.HasPrefix(f.Value.String(), "-") {
			negative = fmt.Errorf("--%s %s: must not be negative", f.Name, f.Value)
		}
	})
	if negative != nil {
		return negative
	}
	ns := fs.Lookup(flagNamespace)
	if ns == nil {
		return nil
	}
	d, err := jobs.ParseDeployment(ns.Value.String())
	if err != nil {
		return err
	}
	for name, val := range map[string]string{flagCollectQueue: d.CollectQueue(), flagQueues: d.EventsQueue(), flagQueue: d.EventsQueue()} {
		if f := fs.Lookup(name); f != nil && !given[name] {
			if err := f.Value.Set(val); err != nil {
				return fmt.Errorf("--%s from --namespace: %w", name, err)
			}
		}
	}
	return nil
}

// setFromEnv sets f to val; a list flag takes one value per line.
func setFromEnv(fs *pflag.FlagSet, f *pflag.Flag, val string) error {
	if !strings.HasSuffix(f.Value.Type(), "Array") && !strings.HasSuffix(f.Value.Type(), "Slice") {
		return fs.Set(f.Name, val)
	}
	for line := range strings.SplitSeq(val, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if err := fs.Set(f.Name, line); err != nil {
				return err
			}
		}
	}
	return nil
}

// CommonEnv maps the common flags to their environment variables.
func CommonEnv() map[string][]string {
	return map[string][]string{
		"redis":           {EnvRedisURL, EnvRedisURLShort},
		"redis-ca-file":   {EnvCAFile},
		"sentinel-master": {EnvSentinelMaster},
		"namespace":       {EnvNamespace},
		"collect-queue":   {EnvCollectQueue},
		"log-format":      {EnvLogFormat},
		"log-level":       {EnvLogLevel},
		"metrics-addr":    {EnvMetricsAddr},
		"redis-wait":      {EnvRedisWait},
		"replica-acks":    {EnvReplicaAcks},
		"replica-timeout": {EnvReplicaTimeout},
		"replica-wait":    {EnvReplicaWait},
		"max-event-size":  {EnvMaxEventSize},
		"max-output-size": {EnvMaxOutputSize},
	}
}

// URL returns the Redis URL to use: the flag, the environment, or the
// default.
func (c *Common) URL() string {
	if strings.TrimSpace(c.RedisURL) == "" {
		return DefaultRedisURL
	}
	return c.RedisURL
}

// Logger returns the logger the settings describe, writing to w.
func (c *Common) Logger(w io.Writer) (*slog.Logger, error) {
	return telemetry.NewLogger(w, c.LogFormat, c.LogLevel)
}

// Connect opens a client for the settings' Redis and checks it answers
// within DefaultConnectTimeout. Errors wrap redisurl.ErrInvalid (a bad URL
// or CA file) or redisurl.ErrUnreachable, without the password.
func (c *Common) Connect(ctx context.Context, clientName string) (redis.UniversalClient, *redisurl.Target, error) {
	client, target, err := redisurl.NewClient(c.URL(), redisurl.Options{CAFile: c.CAFile, SentinelMaster: c.SentinelMaster, ClientName: clientName})
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout)
	defer cancel()
	if err := redisurl.Ping(pctx, client, target); err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return client, target, nil
}

// AddWaitFlag registers --redis-wait, the daemons' wait for Redis at start,
// on fs.
func AddWaitFlag(fs *pflag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "redis-wait", 0, "at start, how long to wait for an unreachable Redis, retrying with backoff (0: forever); an authentication or TLS failure exits at once (env "+EnvRedisWait+")")
}

// Open parses the settings' URL and returns a client for it without
// contacting Redis. Errors wrap redisurl.ErrInvalid, without the password.
func (c *Common) Open(clientName string) (redis.UniversalClient, *redisurl.Target, error) {
	return redisurl.NewClient(c.URL(), redisurl.Options{CAFile: c.CAFile, SentinelMaster: c.SentinelMaster, ClientName: clientName})
}

// WaitForRedis PINGs client until it answers, for the daemons: while Redis
// is unreachable it logs a warning naming the redacted URL and the error
// and retries after MinRetryDelay, doubled up to MaxRetryDelay. It returns
// nil once Redis answers (logging the wait if there was one), ctx's error
// when ctx ends, and the last PING error (wrapping
// redisurl.ErrUnreachable) at once when Redis rejects the connection
// (redisurl.ErrRejected: credentials, TLS) or when maxWait > 0 has passed.
func WaitForRedis(ctx context.Context, client redis.UniversalClient, target *redisurl.Target, log *slog.Logger, maxWait time.Duration) error {
	start := time.Now()
	delay := MinRetryDelay
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, PingTimeout)
		err := redisurl.Ping(pctx, client, target)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("Redis is reachable", "redis", target.Redacted, "attempts", attempt, "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, redisurl.ErrRejected) {
			return err
		}
		if maxWait > 0 && time.Since(start)+delay > maxWait {
			return fmt.Errorf("%w (gave up after --redis-wait %v)", err, maxWait)
		}
		log.Warn("Redis unreachable, retrying", "redis", target.Redacted, "attempt", attempt, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, MaxRetryDelay)
	}
}

// OpenStore opens a client with Open and the work-output store of the
// settings' namespace on it, for the daemons: nothing contacts Redis yet.
// Its errors carry the usage exit code (a malformed URL, CA file or
// namespace); on error no client is left open.
func (c *Common) OpenStore(clientName string) (redis.UniversalClient, *redisurl.Target, *workoutput.Store, error) {
	client, target, err := c.Open(clientName)
	if err != nil {
		return nil, nil, nil, exitcode.With(exitcode.Usage, err)
	}
	store, err := c.Store(client)
	if err != nil {
		_ = client.Close()
		return nil, nil, nil, exitcode.With(exitcode.Usage, err)
	}
	return client, target, store, nil
}

// Store returns the work-output store of the settings' deployment.
func (c *Common) Store(client redis.UniversalClient) (*workoutput.Store, error) {
	cfg, err := c.StoreConfig()
	if err != nil {
		return nil, err
	}
	return workoutput.New(client, cfg)
}

// StoreConfig returns the checked workoutput.Config of the settings'
// deployment, as Store gives it to its store: what submit needs to know of
// its limits before it connects.
func (c *Common) StoreConfig() (workoutput.Config, error) {
	d, err := c.Deployment()
	if err != nil {
		return workoutput.Config{}, err
	}
	if c.MaxEventSize < 1 || c.MaxOutputSize < 1 {
		return workoutput.Config{}, fmt.Errorf("--max-event-size %d and --max-output-size %d (want at least 1 byte each)", c.MaxEventSize, c.MaxOutputSize)
	}
	return workoutput.Config{Namespace: d.Namespace(), ReplicaAcks: c.ReplicaAcks, ReplicaTimeout: c.ReplicaTimeout,
		MaxEventSize: c.MaxEventSize, MaxOutputSize: c.MaxOutputSize}, nil
}
