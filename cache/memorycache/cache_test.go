package memorycache_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

// fakeClock is a Config.Clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func set(t *testing.T, c cache.Client, key string, v any, exp cache.Expiration) {
	t.Helper()
	if ok, err := c.Set(t.Context(), key, v, exp); !ok || err != nil {
		t.Fatalf("Set(%q) = %v, %v; want true, nil", key, ok, err)
	}
}

func exists(t *testing.T, c cache.Client, key string) bool {
	t.Helper()
	ok, err := c.Exists(t.Context(), key)
	if err != nil {
		t.Fatalf("Exists(%q): %v", key, err)
	}
	return ok
}

// present returns which of keys exist.
func present(t *testing.T, c cache.Client, keys ...string) []string {
	t.Helper()
	var out []string
	for _, k := range keys {
		if exists(t, c, k) {
			out = append(out, k)
		}
	}
	return out
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []memorycache.Config{{MaxItems: -1}, {MaxMemorySize: -5}} {
		c, err := memorycache.New(cfg)
		if !errors.Is(err, memorycache.ErrInvalidConfig) || c != nil {
			t.Errorf("New(%+v) = %v, %v; want nil and ErrInvalidConfig", cfg, c, err)
		}
	}
}

func TestMaxItemsEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{MaxItems: 3})
	for _, k := range []string{"a", "b", "c"} {
		set(t, c, k, k, cache.Expiration{})
	}
	// Reading a makes b the least recently used.
	if _, err := c.Get(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	set(t, c, "d", "d", cache.Expiration{})
	if got, want := fmt.Sprint(present(t, c, "a", "b", "c", "d")), "[a c d]"; got != want {
		t.Fatalf("after reading a and adding d: present %s, want %s", got, want)
	}
	// Recency is now d, a, c. Writing c makes a the oldest.
	set(t, c, "c", "c2", cache.Expiration{})
	if _, err := c.ListAdd(t.Context(), "l", []any{1}, cache.Expiration{}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(present(t, c, "a", "c", "d", "l")), "[c d l]"; got != want {
		t.Fatalf("after writing c and adding l: present %s, want %s", got, want)
	}
	// Recency is l, c, d. Reading d through GetAll makes c the oldest.
	if _, err := c.GetAll(t.Context(), []string{"d"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HashSet(t.Context(), "h", "f", 1); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(present(t, c, "c", "d", "l", "h")), "[d l h]"; got != want {
		t.Fatalf("after reading d and adding h: present %s, want %s", got, want)
	}
	if n := c.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
}

func TestMaxItemsPrefersExpiredKeys(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := newCache(t, memorycache.Config{MaxItems: 2, Clock: clock.Now})
	set(t, c, "old", 1, cache.Expiration{})
	set(t, c, "soon", 1, cache.ExpiresIn(time.Second))
	clock.Advance(2 * time.Second)
	set(t, c, "new", 1, cache.Expiration{})
	if got, want := fmt.Sprint(present(t, c, "old", "soon", "new")), "[old new]"; got != want {
		t.Fatalf("present %s, want %s: the expired key goes before the least recently used", got, want)
	}
}

func TestMaxMemorySizeEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	// Each entry: 1-byte key + 64 bytes overhead + 100 bytes of value
	// (a 98-letter JSON string) = 165 bytes; three fit in 500, four do not.
	value := func(r byte) string {
		b := make([]byte, 98)
		for i := range b {
			b[i] = r
		}
		return string(b)
	}
	c := newCache(t, memorycache.Config{MaxMemorySize: 500})
	for _, k := range []string{"a", "b", "c"} {
		set(t, c, k, value(k[0]), cache.Expiration{})
	}
	if got := c.Len(); got != 3 {
		t.Fatalf("Len = %d after three 165-byte entries under 500 bytes, want 3", got)
	}
	if _, err := c.Get(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	set(t, c, "d", value('d'), cache.Expiration{})
	if got, want := fmt.Sprint(present(t, c, "a", "b", "c", "d")), "[a c d]"; got != want {
		t.Fatalf("present %s, want %s", got, want)
	}
	// Growing one entry past the room left evicts others, not it.
	set(t, c, "a", value('a')+value('a'), cache.Expiration{})
	if got, want := fmt.Sprint(present(t, c, "a", "c", "d")), "[a d]"; got != want {
		t.Fatalf("after growing a: present %s, want %s", got, want)
	}
}

func TestMaxMemorySizeRefusesOversizedEntry(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{MaxMemorySize: 200})
	set(t, c, "small", "x", cache.Expiration{})
	big := string(make([]byte, 300))
	for name, call := range map[string]func() error{
		"Set":     func() error { _, err := c.Set(t.Context(), "big", big, cache.Expiration{}); return err },
		"ListAdd": func() error { _, err := c.ListAdd(t.Context(), "big", []any{big}, cache.Expiration{}); return err },
		"HashSet": func() error { _, err := c.HashSet(t.Context(), "big", "f", big); return err },
		"SetAll": func() error {
			_, err := c.SetAll(t.Context(), map[string]any{"big": big}, cache.Expiration{})
			return err
		},
		"Add":     func() error { _, err := c.Add(t.Context(), "big", big, cache.Expiration{}); return err },
		"Replace": func() error { _, err := c.Replace(t.Context(), "small", big, cache.Expiration{}); return err },
		"ListAdd2": func() error {
			_, err := c.ListAdd(t.Context(), "big", []any{big[:100], big[:150]}, cache.Expiration{})
			return err
		},
	} {
		if err := call(); !errors.Is(err, memorycache.ErrTooLarge) {
			t.Errorf("%s of a 300-byte value under MaxMemorySize 200: error %v, want ErrTooLarge", name, err)
		}
	}
	if got, want := fmt.Sprint(present(t, c, "small", "big")), "[small]"; got != want {
		t.Fatalf("present %s, want %s: a refused write changes nothing", got, want)
	}
}

func TestMaxMemorySizeCountsListAndHashGrowth(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{MaxMemorySize: 1000})
	set(t, c, "victim", 1, cache.Expiration{})
	for i := range 30 {
		if _, err := c.HashSet(t.Context(), "h", fmt.Sprintf("field-%02d", i), "0123456789"); err != nil {
			t.Fatal(err)
		}
	}
	// 30 fields of 8+12 bytes = 600 bytes plus the key: still fits, with
	// the victim.
	if got, want := fmt.Sprint(present(t, c, "victim", "h")), "[victim h]"; got != want {
		t.Fatalf("present %s, want %s", got, want)
	}
	for i := range 30 {
		if _, err := c.ListAdd(t.Context(), "l", []any{fmt.Sprintf("value-%02d", i)}, cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
	}
	// The list (30 x (10+8) bytes) no longer fits beside the hash: the
	// least recently used keys went.
	if exists(t, c, "victim") || !exists(t, c, "l") {
		t.Fatalf("present %v, want the victim evicted and the list kept", present(t, c, "victim", "h", "l"))
	}
}

type account struct {
	Name    string
	Balance float64
	Tags    map[string]string
}

func TestCloneValuesIsolatesCallers(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{CloneValues: true})
	ctx := t.Context()
	written := &account{Name: "alice", Balance: 100, Tags: map[string]string{"tier": "gold"}}
	set(t, c, "user:1", written, cache.Expiration{})
	written.Balance = -1 // mutating what was written
	written.Tags["tier"] = "mutated"

	read, err := cache.Get[*account](ctx, c, "user:1")
	if err != nil {
		t.Fatal(err)
	}
	if read.Value.Balance != 100 || read.Value.Tags["tier"] != "gold" {
		t.Fatalf("read %+v, want the value as written (Balance 100, tier gold)", read.Value)
	}
	read.Value.Balance = 0 // mutating what was read
	read.Value.Tags["tier"] = "mutated"

	again, err := cache.Get[account](ctx, c, "user:1")
	if err != nil {
		t.Fatal(err)
	}
	if again.Value.Balance != 100 || again.Value.Tags["tier"] != "gold" {
		t.Fatalf("re-read %+v, want Balance 100, tier gold", again.Value)
	}

	m := map[string]any{"k": "v"}
	set(t, c, "map", m, cache.Expiration{})
	got, err := cache.Get[map[string]any](ctx, c, "map")
	if err != nil {
		t.Fatal(err)
	}
	got.Value["k"] = "mutated"
	m["k"] = "mutated too"
	again2, err := cache.Get[map[string]any](ctx, c, "map")
	if err != nil || again2.Value["k"] != "v" {
		t.Fatalf("re-read map = %v, %v; want k=v", again2.Value, err)
	}

	b := []byte("bytes")
	set(t, c, "bytes", b, cache.Expiration{})
	b[0] = 'X'
	gotB, err := cache.Get[[]byte](ctx, c, "bytes")
	if err != nil || string(gotB.Value) != "bytes" {
		t.Fatalf("re-read bytes = %q, %v; want \"bytes\"", gotB.Value, err)
	}

	if _, err := c.HashSet(ctx, "h", "f", written); err != nil {
		t.Fatal(err)
	}
	written.Name = "mutated"
	it, err := c.HashGet(ctx, "h", "f")
	if err != nil {
		t.Fatal(err)
	}
	var fromHash account
	if err := it.Decode(&fromHash); err != nil || fromHash.Name != "alice" {
		t.Fatalf("hash field = %+v, %v; want Name alice", fromHash, err)
	}
}

func TestWithoutCloneValuesReferencesAreShared(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{})
	ctx := t.Context()
	written := &account{Name: "alice", Balance: 100}
	set(t, c, "user:1", written, cache.Expiration{})

	read, err := cache.Get[*account](ctx, c, "user:1")
	if err != nil {
		t.Fatal(err)
	}
	if read.Value != written {
		t.Fatalf("Get returned %p, want the very pointer written (%p)", read.Value, written)
	}
	read.Value.Balance = 0
	again, err := cache.Get[account](ctx, c, "user:1")
	if err != nil {
		t.Fatal(err)
	}
	if again.Value.Balance != 0 {
		t.Fatalf("re-read Balance %v, want 0: without CloneValues the cache holds the reference", again.Value.Balance)
	}
}

func TestExpiryFollowsClockAndIsReclaimed(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := newCache(t, memorycache.Config{Clock: clock.Now})
	ctx := t.Context()
	for i := range 100 {
		set(t, c, fmt.Sprintf("k%d", i), i, cache.ExpiresIn(time.Minute))
	}
	set(t, c, "forever", 1, cache.Expiration{})
	if _, err := c.ListAdd(ctx, "l", []any{"a"}, cache.ExpiresIn(time.Minute)); err != nil {
		t.Fatal(err)
	}
	exp, err := c.GetExpiration(ctx, "k0")
	if err != nil || exp.TTL() != time.Minute {
		t.Fatalf("GetExpiration = %v, %v; want exactly 1m on a stopped clock", exp, err)
	}
	clock.Advance(59 * time.Second)
	if got := c.Len(); got != 102 {
		t.Fatalf("Len after 59s = %d, want 102", got)
	}
	clock.Advance(time.Second)
	if exists(t, c, "k5") {
		t.Fatal("k5 exists after its minute passed")
	}
	// A write sweeps every expired key, without anyone reading them.
	set(t, c, "trigger", 1, cache.Expiration{})
	if got := c.Len(); got != 2 {
		t.Fatalf("Len after expiry and a write = %d, want 2 (forever and trigger)", got)
	}
}

func TestListValuesExpireOnClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c := newCache(t, memorycache.Config{Clock: clock.Now})
	ctx := t.Context()
	for i, d := range []time.Duration{time.Second, 3 * time.Second, 2 * time.Second} {
		if _, err := c.ListAdd(ctx, "l", []any{i}, cache.ExpiresIn(d)); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := c.GetExpiration(ctx, "l")
	if err != nil || exp.TTL() != 3*time.Second {
		t.Fatalf("list TTL = %v, %v; want 3s (its longest-lived value)", exp, err)
	}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{{0, "[0 2 1]"}, {time.Second, "[2 1]"}, {time.Second, "[1]"}, {time.Second, "[]"}} {
		clock.Advance(step.advance)
		got, err := cache.GetList[int](ctx, c, "l", cache.Page{})
		if err != nil || fmt.Sprint(got) != step.want {
			t.Fatalf("GetList = %v, %v; want %s", got, err, step.want)
		}
	}
	if exists(t, c, "l") {
		t.Fatal("list exists after all its values expired")
	}
}

func TestWrongType(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{})
	ctx := t.Context()
	if _, err := c.ListAdd(ctx, "l", []any{1}, cache.Expiration{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HashSet(ctx, "h", "f", 1); err != nil {
		t.Fatal(err)
	}
	set(t, c, "v", "x", cache.Expiration{})
	for name, err := range map[string]error{
		"Get(list)":            second(c.Get(ctx, "l")),
		"Increment(hash)":      second(c.Increment(ctx, "h", 1, cache.Expiration{})),
		"ReplaceIfEqual(list)": second(c.ReplaceIfEqual(ctx, "l", 1, 1, cache.Expiration{})),
		"ListAdd(hash)":        second(c.ListAdd(ctx, "h", []any{1}, cache.Expiration{})),
		"GetList(value)":       second(c.GetList(ctx, "v", cache.Page{})),
		"HashGet(list)":        second(c.HashGet(ctx, "l", "f")),
		"HashLen(value)":       second(c.HashLen(ctx, "v")),
	} {
		if !errors.Is(err, memorycache.ErrWrongType) {
			t.Errorf("%s: error %v, want ErrWrongType", name, err)
		}
	}
	all, err := c.GetAll(ctx, []string{"l", "v"})
	if err != nil || all["l"].HasValue() || !all["v"].HasValue() {
		t.Fatalf("GetAll over a list and a value = %v, %v; want the list read as a miss, as MGET does", all, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestIncrementRefusesFractionAndOverflow(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{})
	ctx := t.Context()
	set(t, c, "f", 2.5, cache.Expiration{})
	if _, err := c.Increment(ctx, "f", 1, cache.Expiration{}); !errors.Is(err, cache.ErrNotNumber) {
		t.Errorf("Increment on 2.5: error %v, want ErrNotNumber (Redis INCRBY refuses it too)", err)
	}
	set(t, c, "max", int64(1<<63-1), cache.Expiration{})
	if _, err := c.Increment(ctx, "max", 1, cache.Expiration{}); err == nil {
		t.Error("Increment past MaxInt64: no error, want one")
	}
	v, err := cache.Get[int64](ctx, c, "max")
	if err != nil || v.Value != 1<<63-1 {
		t.Fatalf("value after refused increment = %v, %v; want MaxInt64", v.Value, err)
	}
}

func TestGetListRejectsNegativePage(t *testing.T) {
	t.Parallel()
	c := newCache(t, memorycache.Config{})
	for _, p := range []cache.Page{{Number: -1, Size: 1}, {Size: -2}} {
		if _, err := c.GetList(t.Context(), "l", p); err == nil {
			t.Errorf("GetList with page %+v: no error, want one", p)
		}
	}
}
