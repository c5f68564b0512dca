package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// Defaults of Config.
const (
	// DefaultMaxBody caps the body of POST /jobs (1 GiB).
	DefaultMaxBody = 1 << 30
	// DefaultPollInterval is how often a stream or a long poll reads a
	// job's status.
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultHeartbeat is the longest a stream stays silent: it sends a
	// comment line when nothing changed for that long.
	DefaultHeartbeat = 15 * time.Second
	// DefaultMaxStreams caps the streams served at once.
	DefaultMaxStreams = 64
	// DefaultMaxSubmits caps the POST /jobs handled at once; more wait
	// for their turn before their body is read.
	DefaultMaxSubmits = 4
	// DefaultMaxWait caps the ?wait= of GET /jobs/{id}/result.
	DefaultMaxWait = 10 * time.Minute
	// DefaultBodyStall is the longest a POST body may send nothing.
	DefaultBodyStall = 30 * time.Second
	// DefaultMinBodyRate is the slowest a POST body may arrive on average,
	// in bytes per second, once it has been sent for BodyStall.
	DefaultMinBodyRate = 64 << 10
	// DefaultPageSize and MaxPageSize bound the pages of the lists.
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// ErrConfig is returned by New for a Config that is not valid.
var ErrConfig = errors.New("httpapi: invalid config")

// Config configures the API. Every zero field takes the default documented
// on it; a Config is never modified.
type Config struct {
	// Client is the Redis client of Store; POST /jobs enqueues events
	// through it. Required.
	Client redis.UniversalClient
	// Store reads and changes the jobs. Required.
	Store *workoutput.Store
	// Producer configures the producer of POST /jobs: its Queue and
	// CollectQueue must be the deployment's. Its ChunkSize is the default
	// of the chunk parameter.
	Producer jobs.ProducerConfig
	// Coordinator replays jobs (POST /jobs/{id}/replay). Nil answers 501.
	Coordinator *jobs.Coordinator
	// Reducers are the kinds Coordinator has a reducer for: a finished job
	// of one of them offers the "replay" action.
	Reducers []string
	// Token, when not empty, must be given as "Authorization: Bearer
	// <Token>" on every request under /api/ (401 otherwise).
	Token string
	// AllowedHosts, when not empty, are the only host names (without port)
	// accepted in a request's Host header (421 otherwise). A server on
	// loopback without a token sets its loopback names here, so that a web
	// page cannot reach it through a DNS name of its own (DNS rebinding).
	AllowedHosts []string
	// MaxBody caps the body of POST /jobs in bytes (413 past it). Default
	// DefaultMaxBody.
	MaxBody int64
	// MaxLine caps one line of the body of POST /jobs in bytes, its end of
	// line excepted (413 past it, naming the line). Default the store's
	// MaxEventSize: a longer line cannot be an event the store accepts.
	MaxLine int
	// PollInterval is how often a stream or a long poll reads a job's
	// status. Default DefaultPollInterval.
	PollInterval time.Duration
	// Heartbeat is the longest a stream stays silent. Default
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// MaxStreams caps the streams served at once (503 past it). Default
	// DefaultMaxStreams.
	MaxStreams int
	// MaxSubmits caps the submissions handled at once. Default
	// DefaultMaxSubmits.
	MaxSubmits int
	// MaxWait caps the wait of GET /jobs/{id}/result. Default
	// DefaultMaxWait.
	MaxWait time.Duration
	// BodyStall ends a POST body that sends nothing for that long (408):
	// a client that stops sending would hold a connection, a submission's
	// turn and its spool file. Default DefaultBodyStall.
	BodyStall time.Duration
	// MinBodyRate, in bytes per second, ends a POST body whose average rate
	// is below it once it has been sent for BodyStall (408): a client
	// trickling a byte at a time. Default DefaultMinBodyRate.
	MinBodyRate int64
	// Logger receives the server's errors (5xx) and, at debug level, one
	// line per request. Default: nothing is logged.
	Logger *slog.Logger
	// Now returns the current time (rates and ETAs). Default time.Now.
	Now func() time.Time
}

// withDefaults checks c and returns it with its defaults filled in.
func (c Config) withDefaults() (Config, error) {
	if c.Client == nil || c.Store == nil {
		return c, fmt.Errorf("%w: Client and Store are required", ErrConfig)
	}
	if c.MaxBody < 0 || c.MaxLine < 0 || c.PollInterval < 0 || c.Heartbeat < 0 || c.MaxStreams < 0 || c.MaxSubmits < 0 || c.MaxWait < 0 || c.BodyStall < 0 || c.MinBodyRate < 0 {
		return c, fmt.Errorf("%w: negative limit (MaxBody %d, MaxLine %d, PollInterval %v, Heartbeat %v, MaxStreams %d, MaxSubmits %d, MaxWait %v, BodyStall %v, MinBodyRate %d)",
			ErrConfig, c.MaxBody, c.MaxLine, c.PollInterval, c.Heartbeat, c.MaxStreams, c.MaxSubmits, c.MaxWait, c.BodyStall, c.MinBodyRate)
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxLine == 0 {
		c.MaxLine = c.Store.Config().MaxEventSize
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.MaxSubmits == 0 {
		c.MaxSubmits = DefaultMaxSubmits
	}
	if c.MaxWait == 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.BodyStall == 0 {
		c.BodyStall = DefaultBodyStall
	}
	if c.MinBodyRate == 0 {
		c.MinBodyRate = DefaultMinBodyRate
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if _, err := jobs.NewProducer(c.Client, c.Store, c.Producer); err != nil {
		return c, fmt.Errorf("%w: Producer: %w", ErrConfig, err)
	}
	return c, nil
}
