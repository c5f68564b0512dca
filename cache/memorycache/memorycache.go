package memorycache

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// entryOverhead is the bookkeeping, in bytes, added to the size estimate of
// every key.
const entryOverhead = 64

// Config configures a Cache. The zero Config is valid: an unbounded cache
// storing values by reference.
type Config struct {
	// MaxItems bounds the number of keys. When a write would exceed it, the
	// least recently used key is evicted (a read counts as use). 0, the
	// default, means unlimited; negative is invalid.
	MaxItems int

	// MaxMemorySize bounds the estimated size, in bytes, of everything
	// stored. An entry's estimate is the length of its key, plus the size
	// of its value (of every field and value for hashes, every value for
	// lists), plus 64 bytes of bookkeeping; a value's size is its encoded
	// length, or what SizeFunc says. Least recently used keys are evicted
	// until the total is under the bound; an entry larger than MaxEntrySize
	// (by default, the bound itself) is refused with ErrTooLarge.
	// Estimating without SizeFunc encodes every value written, so it costs
	// as much as CloneValues. 0, the default, means unlimited; negative is
	// invalid.
	MaxMemorySize int64

	// MaxEntrySize bounds the estimated size, in bytes, of one entry (as
	// MaxMemorySize counts it): a write that would make an entry larger is
	// refused with an error wrapping ErrTooLarge that names both sizes. 0,
	// the default, means MaxMemorySize (no bound when that is 0 too); it
	// must not exceed MaxMemorySize when both are set, and negative is
	// invalid.
	MaxEntrySize int64

	// SizeFunc, when set, returns the size in bytes of a value written by
	// Add, Set, SetAll, Replace, ReplaceIfEqual or HashSet, in place of its
	// encoded length (list values always count their encoded length). It
	// must not return a negative size: such a write fails. It is called
	// outside the cache's lock and must be safe for concurrent use. nil,
	// the default, means the encoded length.
	SizeFunc func(value any) int64

	// OnEvict, when set, is called with the key of every entry the cache
	// drops by itself: because its TTL ran out (Expired) or to make room
	// under MaxItems or MaxMemorySize (Evicted); not for removals and
	// overwrites asked by callers. It is called after the cache's lock is
	// released, by the goroutine whose call dropped the entry, so it may
	// use the cache; it should return quickly. nil, the default, means no
	// callback.
	//
	// An entry is evicted during the write that needs the room. An expired
	// entry is invisible at once, but no goroutine watches the clock: it
	// is dropped, and Expired reported, by the first call that reclaims
	// it. That is a call naming its key (any read, write or removal of
	// it, Exists, GetExpiration; RemoveByPrefix for the keys it matches),
	// or a call that sweeps out every expired entry: any call storing a
	// value (Add, Set, SetAll, Replace, ReplaceIfEqual, Increment,
	// IncrementFloat, the SetIfHigher and SetIfLower family, ListAdd,
	// HashSet), SetExpiration, SetAllExpiration, Stats and Len. Reads and
	// removals of other keys do not sweep, so in a cache that is only
	// read, an expired entry nobody asks for is reported at the next such
	// call. A list value whose own TTL runs out is not reported; the list
	// is, once it has no value left.
	OnEvict func(key string, reason EvictReason)

	// CloneValues stores values encoded by Codec and decodes them afresh on
	// every read, so a caller mutating what it wrote or read never changes
	// the cache. false, the default, stores references: fastest, but a
	// mutated value is mutated in the cache too. Numbers and []byte are
	// always stored as the bytes Redis would hold, nil as itself.
	CloneValues bool

	// Codec encodes values for CloneValues, size estimates, list values and
	// the comparisons of ReplaceIfEqual and RemoveIfEqual. nil, the default,
	// means cache.JSONCodec{}.
	Codec cache.Codec

	// Clock returns the current time. Expirations are measured on it from
	// the time New read it, so they never overflow, and with the default
	// (time.Now, whose readings carry the monotonic clock) a jump of the
	// wall clock does not move them. nil, the default, means time.Now.
	// Tests set it to move time by hand.
	Clock func() time.Time
}

// EvictReason says why the cache dropped an entry by itself.
type EvictReason int

const (
	// Expired: the entry's TTL ran out.
	Expired EvictReason = iota + 1
	// Evicted: the entry was the least recently used when room was needed
	// under Config.MaxItems or Config.MaxMemorySize.
	Evicted
)

// String names the reason.
func (r EvictReason) String() string {
	switch r {
	case Expired:
		return "expired"
	case Evicted:
		return "evicted"
	}
	return fmt.Sprintf("EvictReason(%d)", int(r))
}

// Stats are counters and gauges of a Cache; see Cache.Stats.
type Stats struct {
	// Hits and Misses count the keys Get and GetAll found and did not find.
	Hits, Misses int64
	// Items is the number of live keys.
	Items int
	// MemorySize is the estimated size in bytes of everything stored, as
	// Config.MaxMemorySize counts it. Values are only measured when
	// MaxMemorySize, MaxEntrySize or SizeFunc is set (measuring encodes
	// them); otherwise it counts keys, list values and bookkeeping only.
	MemorySize int64
	// Expirations and Evictions count the entries dropped because their
	// TTL ran out, and to make room.
	Expirations, Evictions int64
}

// Cache is an in-process cache.Client and cache.Hashes, safe for concurrent
// use. Create it with New.
type Cache struct {
	maxItems int
	maxSize  int64
	maxEntry int64 // 0: no bound (then neither is maxSize)
	sizeFunc func(any) int64
	onEvict  func(string, EvictReason)
	clone    bool
	codec    cache.Codec
	clock    func() time.Time
	base     time.Time // the clock when New ran: time zero of now()

	mu      sync.Mutex
	items   map[string]*entry
	lru     entry // sentinel of the recency ring: lru.next is the most recent
	heap    expiryHeap
	used    int64
	pending []eviction // OnEvict calls to make once mu is released

	hits, misses, expirations, evictions int64
}

// eviction is an OnEvict call to make.
type eviction struct {
	key    string
	reason EvictReason
}

var (
	_ cache.Client = (*Cache)(nil)
	_ cache.Hashes = (*Cache)(nil)
)

// New returns an empty Cache configured by cfg.
func New(cfg Config) (*Cache, error) {
	if cfg.MaxItems < 0 {
		return nil, fmt.Errorf("%w: MaxItems is %d, want 0 (unlimited) or more", ErrInvalidConfig, cfg.MaxItems)
	}
	if cfg.MaxMemorySize < 0 {
		return nil, fmt.Errorf("%w: MaxMemorySize is %d, want 0 (unlimited) or more bytes", ErrInvalidConfig, cfg.MaxMemorySize)
	}
	if cfg.MaxEntrySize < 0 {
		return nil, fmt.Errorf("%w: MaxEntrySize is %d, want 0 (MaxMemorySize) or more bytes", ErrInvalidConfig, cfg.MaxEntrySize)
	}
	if cfg.MaxMemorySize > 0 && cfg.MaxEntrySize > cfg.MaxMemorySize {
		return nil, fmt.Errorf("%w: MaxEntrySize %d is larger than MaxMemorySize %d; want at most MaxMemorySize, or 0 for the same",
			ErrInvalidConfig, cfg.MaxEntrySize, cfg.MaxMemorySize)
	}
	c := &Cache{
		maxItems: cfg.MaxItems,
		maxSize:  cfg.MaxMemorySize,
		maxEntry: cfg.MaxEntrySize,
		sizeFunc: cfg.SizeFunc,
		onEvict:  cfg.OnEvict,
		clone:    cfg.CloneValues,
		codec:    cfg.Codec,
		clock:    cfg.Clock,
		items:    make(map[string]*entry),
	}
	if c.maxEntry == 0 {
		c.maxEntry = c.maxSize
	}
	if c.codec == nil {
		c.codec = cache.JSONCodec{}
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	c.base = c.clock()
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	return c, nil
}

// Stats returns the counters of c since New, and its current size.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.unlock()
	c.sweep(c.now())
	return Stats{
		Hits: c.hits, Misses: c.misses,
		Items: len(c.items), MemorySize: c.used,
		Expirations: c.expirations, Evictions: c.evictions,
	}
}

// Len returns the number of live keys.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.unlock()
	c.sweep(c.now())
	return len(c.items)
}

// begin checks what every operation checks first: the context and the key.
func begin(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memorycache: %s: %w", op, err)
	}
	if key == "" {
		return fmt.Errorf("memorycache: %s: %w", op, cache.ErrEmptyKey)
	}
	return nil
}

// beginKeys is begin for operations on several keys.
func beginKeys(ctx context.Context, op string, keys []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memorycache: %s: %w", op, err)
	}
	if keys == nil {
		return fmt.Errorf("memorycache: %s: %w", op, cache.NilCollection("keys"))
	}
	for i, k := range keys {
		if k == "" {
			return fmt.Errorf("memorycache: %s: key %d of %d: %w", op, i, len(keys), cache.ErrEmptyKey)
		}
	}
	return nil
}

// never is the expiry of what does not expire: later than any instant.
const never = math.MaxInt64

// now returns the time in nanoseconds since New, the unit of every expiry
// instant. Counting from New, rather than from 1970, leaves room for any
// time.Duration: a TTL of math.MaxInt64 from now only overflows after the
// cache has run for as long as the TTL.
func (c *Cache) now() int64 { return int64(c.clock().Sub(c.base)) }

// deadline turns exp, not expired, into an expiry instant. An instant past
// the largest one a Cache can hold is clamped to it (still a TTL, which
// GetExpiration reports as the time left until then); exp's TTL is at most
// the cache's age longer than that.
func deadline(exp cache.Expiration, now int64) int64 {
	if exp.IsNone() {
		return never
	}
	at := now + int64(exp.TTL())
	if at < now || at >= never { // overflowed: clamp
		at = never - 1
	}
	return at
}

// remaining turns an expiry instant into what GetExpiration returns.
func remaining(at, now int64) cache.Expiration {
	if at == never {
		return cache.Expiration{}
	}
	return cache.ExpiresIn(time.Duration(at - now))
}

// tooLarge reports an entry of size bytes that MaxEntrySize refuses.
func (c *Cache) tooLarge(op, key string, size int64) error {
	if c.maxEntry > 0 && size > c.maxEntry {
		return fmt.Errorf("memorycache: %s %q: %w: the entry would be %d bytes; MaxEntrySize is %d", op, key, ErrTooLarge, size, c.maxEntry)
	}
	return nil
}

func wrongType(op, key string, e *entry) error {
	return fmt.Errorf("memorycache: %s %q: %w (it holds a %s)", op, key, ErrWrongType, e.kind)
}
