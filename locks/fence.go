package locks

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed fence.lua
	fenceLua string
	//go:embed commit.lua
	commitLua string
	//go:embed check.lua
	checkLua string
	//go:embed highest.lua
	highestLua string
)

// FenceLua returns the Lua source of the fence check, for scripts of other
// packages that write under a fencing token in their own way (a hash field,
// several keys). Prepend it to the script; it defines
//
//	local function fanin_fence(key, token, ttl) -> ok, highestBefore
//
// key is FenceKey(prefix, resource), passed in KEYS; token is a number; ttl
// is how long in ms the fence must at least live (0: for ever). When token
// is at least the highest seen, it records token and returns true; otherwise
// it changes nothing and returns false. On a Cluster every key of the script
// must carry HashTag(resource).
func FenceLua() string { return fenceLua }

// FenceConfig configures a Fence.
type FenceConfig struct {
	// Redis runs the fence scripts. Required.
	Redis redis.Scripter
	// KeyPrefix starts the fence keys; use the KeyPrefix of the Provider
	// whose tokens are checked. Default: "".
	KeyPrefix string
}

// Fence is the sink side of fencing: a write is accepted only when its token
// is at least the highest token already accepted for the resource. A holder
// that stalled past its TTL carries an older token than the lock's new
// holder, so once the new holder has written, the stale holder's writes are
// rejected with ErrFenced.
type Fence struct {
	rdb     redis.Scripter
	keys    keyspace
	commit  *redis.Script
	check   *redis.Script
	highest *redis.Script
}

// NewFence returns a Fence, or an error wrapping ErrInvalid.
func NewFence(cfg FenceConfig) (*Fence, error) {
	if cfg.Redis == nil {
		return nil, fmt.Errorf("%w: FenceConfig.Redis is nil", ErrInvalid)
	}
	if err := checkPrefix(cfg.KeyPrefix); err != nil {
		return nil, err
	}
	return &Fence{
		rdb:     cfg.Redis,
		keys:    keyspace{prefix: cfg.KeyPrefix},
		commit:  redis.NewScript(fenceLua + "\n" + commitLua),
		check:   redis.NewScript(fenceLua + "\n" + checkLua),
		highest: redis.NewScript(highestLua),
	}, nil
}

// Key returns the fence key of resource.
func (f *Fence) Key(resource string) string { return f.keys.fence(resource) }

// CommitIfFenced sets key to value, with ttl (0: none), only if token is at
// least the highest token seen for resource, and records token as the
// highest seen; all in one atomic step. Otherwise it writes nothing and
// returns an error wrapping ErrFenced.
//
// key must carry the hash tag of resource (see HashTag), so that on a
// Cluster it lives in the fence key's slot; otherwise CommitIfFenced returns
// an error wrapping ErrInvalid. The fence key lives at least as long as the
// values it guards: for ever when ttl is 0.
func (f *Fence) CommitIfFenced(ctx context.Context, resource string, token int64, key string, value []byte, ttl time.Duration) error {
	if err := f.checkArgs(resource, token, ttl); err != nil {
		return err
	}
	if slotTag(key) != slotTag(f.keys.fence(resource)) {
		return fmt.Errorf("%w: sink key %q must carry the hash tag %s of resource %q", ErrInvalid, key, HashTag(resource), resource)
	}
	return f.run(ctx, f.commit, "commit", resource, token, []string{f.keys.fence(resource), key}, value, ttl.Milliseconds())
}

// Check accepts token if it is at least the highest seen for resource, and
// records it; otherwise it returns an error wrapping ErrFenced. It writes
// nothing else, so a sink outside Redis that calls Check and then writes is
// not atomic: a newer holder may check between the two. ttl is how long the
// fence must at least live (0: for ever).
func (f *Fence) Check(ctx context.Context, resource string, token int64, ttl time.Duration) error {
	if err := f.checkArgs(resource, token, ttl); err != nil {
		return err
	}
	return f.run(ctx, f.check, "check", resource, token, []string{f.keys.fence(resource)}, ttl.Milliseconds())
}

// Highest returns the highest token accepted for resource, 0 for none.
func (f *Fence) Highest(ctx context.Context, resource string) (int64, error) {
	if err := checkResource(resource); err != nil {
		return 0, err
	}
	n, err := f.highest.Run(ctx, f.rdb, []string{f.keys.fence(resource)}).Int64()
	if err != nil {
		return 0, fmt.Errorf("locks: fence %q: %w", resource, err)
	}
	return n, nil
}

func (f *Fence) checkArgs(resource string, token int64, ttl time.Duration) error {
	if err := checkResource(resource); err != nil {
		return err
	}
	if token < 1 {
		return fmt.Errorf("%w: token %d; tokens start at 1", ErrInvalid, token)
	}
	if ttl < 0 || (ttl > 0 && ttl < time.Millisecond) {
		return fmt.Errorf("%w: ttl %v; want 0 (no expiration) or at least 1ms", ErrInvalid, ttl)
	}
	return nil
}

func (f *Fence) run(ctx context.Context, s *redis.Script, op, resource string, token int64, keys []string, args ...any) error {
	res, err := s.Run(ctx, f.rdb, keys, append([]any{token}, args...)...).Int64Slice()
	if err != nil {
		return fmt.Errorf("locks: fence %s %q: %w", op, resource, err)
	}
	if len(res) != 2 {
		return fmt.Errorf("locks: fence %s %q: script returned %d values, want 2", op, resource, len(res))
	}
	if res[0] != 1 {
		return fmt.Errorf("%w: resource %q: token %d, highest seen %d", ErrFenced, resource, token, res[1])
	}
	return nil
}
