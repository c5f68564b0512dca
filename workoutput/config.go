package workoutput

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// MinDeadline is the shortest Spec.Deadline: a job's times are kept to
// the millisecond.
const MinDeadline = time.Millisecond

// Defaults of Config.
const (
	// DefaultNamespace prefixes every key workoutput writes.
	DefaultNamespace = "fanin:"
	// DefaultDeadline is how long a job may take when its Spec gives none.
	DefaultDeadline = time.Hour
	// DefaultRetention is how long a finished job's data is kept when its
	// Spec gives none.
	DefaultRetention = 24 * time.Hour
	// DefaultSafetyMargin is added to deadline + retention to get the
	// safety TTL every key of a job is created with.
	DefaultSafetyMargin = time.Hour
	// DefaultMaxEventSize caps one event's payload (1 MiB).
	DefaultMaxEventSize = 1 << 20
	// DefaultMaxOutputSize caps one event's output (1 MiB).
	DefaultMaxOutputSize = 1 << 20
	// DefaultMaxEvents caps the number of events of one job.
	DefaultMaxEvents = 10_000_000
	// DefaultScanPage is the page size of scans (HSCAN, SSCAN, ZRANGE).
	DefaultScanPage = 1000
	// DefaultSmallHash is the largest outputs hash Gather reads with one
	// HGETALL instead of HSCAN pages (see docs/BENCHMARKS.md).
	DefaultSmallHash = 512
	// DefaultSweepDelay is how long the sweeper leaves a job to its normal
	// course before it looks at it (see Config.SweepDelay).
	DefaultSweepDelay = 5 * time.Second
	// DefaultTombstone is how long the meta and result of a job whose data
	// was deleted at once (NoRetention) are kept (see Config.Tombstone).
	DefaultTombstone = time.Hour
	// DefaultFailedRetention is the retention of a failed job whose own
	// retention is NoRetention (see Config.FailedRetention).
	DefaultFailedRetention = 24 * time.Hour
	// DefaultGatherBudget bounds the bytes of outputs Gather holds at once
	// (16 MiB).
	DefaultGatherBudget = 16 << 20
	// DefaultReplicaTimeout is how long a write waits for Config.ReplicaAcks
	// replicas when ReplicaAcks is set.
	DefaultReplicaTimeout = time.Second
)

// Config configures a Store. The zero value is valid: every zero field takes
// the default documented on it. A Config is never modified by the Store.
type Config struct {
	// Namespace prefixes every key. It must not contain '{' or '}': the job
	// ID is the hash tag of a job's keys. Default DefaultNamespace
	// ("fanin:").
	Namespace string
	// Hashes reads outputs and failures (the cache layer). Default: a
	// rediscache.Cache on the Store's Redis client, with no key prefix of
	// its own (Store passes full key names, Namespace included). A Hashes
	// given here must not add a prefix either.
	Hashes cache.Hashes
	// DefaultDeadline applies to a Spec without Deadline. Default
	// DefaultDeadline (1 h).
	DefaultDeadline time.Duration
	// DefaultRetention applies to a Spec without Retention. Default
	// DefaultRetention (24 h).
	DefaultRetention time.Duration
	// SafetyMargin is added to deadline + retention to get the TTL every
	// key of a job gets at creation, so an abandoned job never leaks
	// memory. Default DefaultSafetyMargin (1 h).
	SafetyMargin time.Duration
	// MaxEventSize caps one event's payload in bytes. Default
	// DefaultMaxEventSize (1 MiB).
	MaxEventSize int
	// MaxOutputSize caps one output in bytes. Default DefaultMaxOutputSize
	// (1 MiB).
	MaxOutputSize int
	// MaxEvents caps the number of events of one job. Default
	// DefaultMaxEvents (10,000,000).
	MaxEvents int
	// ScanPage is the page size of scans. Default DefaultScanPage (1000).
	ScanPage int
	// SmallHash is the largest number of outputs Gather reads with one
	// HGETALL (if they also fit GatherBudget); larger jobs are read page by
	// page. Default DefaultSmallHash (512). Negative: always page.
	SmallHash int
	// GatherBudget bounds, in bytes, the outputs Gather holds at once in
	// its pages in flight: pages are sized from the largest output the job
	// has (recorded by Write), so a job of 1 MiB outputs reduces in bounded
	// memory too. One output larger than the budget is still read, alone.
	// Default DefaultGatherBudget (16 MiB).
	GatherBudget int
	// SweepDelay is how long the sweeper leaves a job to its normal course
	// before it looks at it: an open or running job is first looked at
	// SweepDelay after its deadline (so the clocks of producers and
	// coordinators may differ by that much), a job announced complete
	// (Notify) SweepDelay after the announcement. Default DefaultSweepDelay
	// (5 s).
	SweepDelay time.Duration
	// Tombstone is how long the meta hash and the result of a job whose
	// data was deleted at once (a commit or cancel with NoRetention) are
	// kept, with its fence and token counter: a retried Commit or Cancel
	// then gets its first answer, Status tells how the job ended, and a
	// client waiting for the result (collect --wait) reads it. Default
	// DefaultTombstone (1 h).
	Tombstone time.Duration
	// FailedRetention is the retention Commit gives a failed job whose own
	// retention is NoRetention: a failed job keeps its failure reasons and
	// outputs for a replay. Default DefaultFailedRetention (24 h).
	FailedRetention time.Duration
	// Now returns the current time; every time stamp, deadline check and
	// sweep of the Store reads it. Default time.Now. Tests and simulations
	// set it to a clock of their own.
	Now func() time.Time
	// ReplicaAcks is how many replicas must acknowledge a write before the
	// Store reports it done: every script that changes a job, and the job
	// index entry, runs on the master together with a Redis WAIT in one
	// round trip (see docs/RELIABILITY.md, "Failover"). A write that fewer
	// replicas acknowledge within ReplicaTimeout is an error wrapping
	// ErrNotReplicated and cache.ErrUnavailable: it is applied on the master
	// and is retried like any write during an outage; retrying is safe,
	// every write is idempotent. Default 0: a write is done when the master
	// has it, and a failover can lose the last writes the master had not
	// yet replicated. ReplicaAcks needs a *redis.Client (standalone,
	// Sentinel) or a *redis.ClusterClient.
	ReplicaAcks int
	// ReplicaTimeout bounds the wait for ReplicaAcks replicas. It must be
	// shorter than the client's ReadTimeout, which bounds the whole round
	// trip. Default DefaultReplicaTimeout (1 s); unused when ReplicaAcks is
	// 0.
	ReplicaTimeout time.Duration
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"DefaultDeadline", c.DefaultDeadline}, {"DefaultRetention", c.DefaultRetention}, {"SafetyMargin", c.SafetyMargin}, {"ReplicaTimeout", c.ReplicaTimeout},
		{"SweepDelay", c.SweepDelay}, {"Tombstone", c.Tombstone}, {"FailedRetention", c.FailedRetention}} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: Config.%s is %v, want >= 0 (0 means the default)", ErrInvalid, f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"MaxEventSize", c.MaxEventSize}, {"MaxOutputSize", c.MaxOutputSize}, {"MaxEvents", c.MaxEvents}, {"ScanPage", c.ScanPage}, {"ReplicaAcks", c.ReplicaAcks}, {"GatherBudget", c.GatherBudget}} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: Config.%s is %d, want >= 0 (0 means the default)", ErrInvalid, f.name, f.v)
		}
	}
	if strings.ContainsAny(c.Namespace, "{}") {
		return c, fmt.Errorf("%w: Config.Namespace %q contains '{' or '}' (want none: the job ID is the hash tag of a job's keys)", ErrInvalid, c.Namespace)
	}
	c.Namespace = cmp.Or(c.Namespace, DefaultNamespace)
	c.DefaultDeadline = cmp.Or(c.DefaultDeadline, DefaultDeadline)
	c.DefaultRetention = cmp.Or(c.DefaultRetention, DefaultRetention)
	c.SafetyMargin = cmp.Or(c.SafetyMargin, DefaultSafetyMargin)
	c.MaxEventSize = cmp.Or(c.MaxEventSize, DefaultMaxEventSize)
	c.MaxOutputSize = cmp.Or(c.MaxOutputSize, DefaultMaxOutputSize)
	c.MaxEvents = cmp.Or(c.MaxEvents, DefaultMaxEvents)
	c.ScanPage = cmp.Or(c.ScanPage, DefaultScanPage)
	c.SmallHash = cmp.Or(c.SmallHash, DefaultSmallHash)
	c.ReplicaTimeout = cmp.Or(c.ReplicaTimeout, DefaultReplicaTimeout)
	c.GatherBudget = cmp.Or(c.GatherBudget, DefaultGatherBudget)
	c.SweepDelay = cmp.Or(c.SweepDelay, DefaultSweepDelay)
	c.Tombstone = cmp.Or(c.Tombstone, DefaultTombstone)
	c.FailedRetention = cmp.Or(c.FailedRetention, DefaultFailedRetention)
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"SweepDelay", c.SweepDelay}, {"Tombstone", c.Tombstone}, {"FailedRetention", c.FailedRetention}} {
		if f.v < time.Millisecond {
			return c, fmt.Errorf("%w: Config.%s is %v, want at least 1ms", ErrInvalid, f.name, f.v)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
