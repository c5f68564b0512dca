package settings

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"

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
	// DefaultCollectQueue is the Asynq queue of collect tasks
	// (jobs.DefaultCollectQueue). It differs from the events queue so that
	// a worker pool never takes a collect task.
	DefaultCollectQueue = jobs.DefaultCollectQueue
	// DefaultConnectTimeout bounds the first PING.
	DefaultConnectTimeout = 10 * time.Second
)

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

	flags *pflag.FlagSet
}

// AddFlags registers the common flags on fs.
func (c *Common) AddFlags(fs *pflag.FlagSet) {
	c.flags = fs
	fs.StringVar(&c.RedisURL, "redis", "", "Redis URL: redis://[user:password@]host:port/db, rediss:// for TLS, several host:port separated by commas or redis+cluster:// for a Cluster, redis+sentinel://host:26379/master for Sentinel (env "+EnvRedisURL+" or "+EnvRedisURLShort+"; default "+DefaultRedisURL+")")
	fs.StringVar(&c.CAFile, "redis-ca-file", "", "PEM file of the CA that signed the Redis server's certificate, for rediss:// with a private CA (env "+EnvCAFile+")")
	fs.StringVar(&c.SentinelMaster, "sentinel-master", "", "read the --redis addresses as Sentinels and connect to this master (env "+EnvSentinelMaster+")")
	fs.StringVar(&c.Namespace, "namespace", workoutput.DefaultNamespace, "prefix of fanin's Redis keys (env "+EnvNamespace+")")
	fs.StringVar(&c.CollectQueue, "collect-queue", DefaultCollectQueue, "Asynq queue of collect tasks; workers never serve it (env "+EnvCollectQueue+")")
	fs.StringVar(&c.LogFormat, "log-format", telemetry.FormatText, "log format: text or json (env "+EnvLogFormat+")")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error (env "+EnvLogLevel+")")
}

// FromEnv fills each flag of fs that was not given on the command line from
// its environment variable in env (flag name → variable names, first set
// wins).
func FromEnv(fs *pflag.FlagSet, env map[string][]string) error {
	for name, vars := range env {
		f := fs.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		for _, v := range vars {
			if val, ok := os.LookupEnv(v); ok && val != "" {
				if err := fs.Set(name, val); err != nil {
					return fmt.Errorf("environment variable %s: %w", v, err)
				}
				f.Changed = false // still "not given on the command line"
				break
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

// Store returns the work-output store of the settings' namespace.
func (c *Common) Store(client redis.UniversalClient) (*workoutput.Store, error) {
	return workoutput.New(client, workoutput.Config{Namespace: c.Namespace})
}
