package workoutput

import (
	"cmp"
	"fmt"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

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
)

// Config configures a Store. The zero value is valid: every zero field takes
// the default documented on it. A Config is never modified by the Store.
type Config struct {
	// Namespace prefixes every key. Default DefaultNamespace ("fanin:").
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
	// HGETALL; larger jobs are scanned page by page. Default
	// DefaultSmallHash (512). Negative: always scan.
	SmallHash int
}

// withDefaults validates c and returns a copy with defaults filled in.
func (c Config) withDefaults() (Config, error) {
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"DefaultDeadline", c.DefaultDeadline}, {"DefaultRetention", c.DefaultRetention}, {"SafetyMargin", c.SafetyMargin}} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: Config.%s is %v, want >= 0 (0 means the default)", ErrInvalid, f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"MaxEventSize", c.MaxEventSize}, {"MaxOutputSize", c.MaxOutputSize}, {"MaxEvents", c.MaxEvents}, {"ScanPage", c.ScanPage}} {
		if f.v < 0 {
			return c, fmt.Errorf("%w: Config.%s is %d, want >= 0 (0 means the default)", ErrInvalid, f.name, f.v)
		}
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
	return c, nil
}
