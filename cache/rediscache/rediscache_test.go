package rediscache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// newCache returns a Cache on r, namespaced by r.Prefix.
func newCache(tb testing.TB, r *redistest.Redis) *Cache {
	tb.Helper()
	c, err := New(r.Client, Config{KeyPrefix: r.Prefix})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// topologies runs fn as a subtest on a standalone Redis and on a cluster.
func topologies(t *testing.T, fn func(t *testing.T, r *redistest.Redis)) {
	t.Helper()
	t.Run("standalone", func(t *testing.T) {
		t.Parallel()
		fn(t, redistest.New(t))
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		fn(t, redistest.NewCluster(t))
	})
}

func must[T any](t *testing.T, what string) func(T, error) T {
	t.Helper()
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		cfg    Config
		want   string
	}{
		{"nil client", nil, Config{}, "client is nil"},
		{"hash tag in prefix", r.Client, Config{KeyPrefix: "app{x}:"}, "KeyPrefix"},
		{"negative batch", r.Client, Config{BatchSize: -1}, "BatchSize is -1"},
	} {
		c, err := New(tc.client, tc.cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) || c != nil {
			t.Errorf("%s: New = %v, %v; want nil and ErrInvalidConfig naming %q", tc.name, c, err, tc.want)
		}
	}
	c, err := New(r.Client, Config{})
	if err != nil {
		t.Fatalf("New with zero Config: %v", err)
	}
	if _, ok := c.codec.(cache.JSONCodec); !ok || c.batch != DefaultBatchSize || c.prefix != "" {
		t.Errorf("defaults: codec %T, batch %d, prefix %q; want JSONCodec, %d, \"\"", c.codec, c.batch, c.prefix, DefaultBatchSize)
	}
}

func TestEscapeGlob(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":           "",
		"plain:key":  "plain:key",
		`a*b?c[d]e\`: `a\*b\?c\[d\]e\\`,
		"x.+^$()|{}": "x.+^$()|{}",
	} {
		if got := escapeGlob(in); got != want {
			t.Errorf("escapeGlob(%q) = %q; want %q", in, got, want)
		}
	}
}

// A key in its last millisecond exists while PTTL answers 0. GetExpiration
// reported ExpiresIn(0), "already expired", and SetExpiration given it back
// deleted the key. That millisecond cannot be hit on purpose through Redis,
// so this checks the conversion of PTTL replies itself.
func TestExpirationOfLastMillisecond(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pttl   time.Duration
		want   cache.Expiration
		exists bool
	}{
		{-2, cache.Expiration{}, false},
		{-1, cache.Expiration{}, true},
		{0, cache.ExpiresIn(time.Millisecond), true},
		{time.Millisecond, cache.ExpiresIn(time.Millisecond), true},
		{1500 * time.Millisecond, cache.ExpiresIn(1500 * time.Millisecond), true},
	} {
		got, exists := expirationOf(tc.pttl)
		if got != tc.want || exists != tc.exists {
			t.Errorf("expirationOf(PTTL %v) = %v, %v; want %v, %v", tc.pttl, got, exists, tc.want, tc.exists)
		}
		if exists && got.IsExpired() {
			t.Errorf("expirationOf(PTTL %v) = %v: an existing key reported expired", tc.pttl, got)
		}
	}
}

// TestIncrementCommands checks from the stored text and encoding which of
// INCRBY and INCRBYFLOAT ran: INCRBY keeps an integer object ("int"),
// INCRBYFLOAT always writes a string object ("embstr"), even for "8".
func TestIncrementCommands(t *testing.T) {
	t.Parallel()
	topologies(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := newCache(t, r)
		stored := func(key, wantText, wantEnc string) {
			t.Helper()
			text, err := r.Client.Get(ctx, r.Key(key)).Result()
			if err != nil {
				t.Fatalf("GET %s: %v", key, err)
			}
			enc, err := r.Client.ObjectEncoding(ctx, r.Key(key)).Result()
			if err != nil {
				t.Fatalf("OBJECT ENCODING %s: %v", key, err)
			}
			if text != wantText || enc != wantEnc {
				t.Errorf("%s holds %q (%s); want %q (%s)", key, text, enc, wantText, wantEnc)
			}
		}

		if n := must[int64](t, "Increment")(c.Increment(ctx, "n", 5, cache.Expiration{})); n != 5 {
			t.Errorf("Increment = %d; want 5", n)
		}
		stored("n", "5", "int")
		if f := must[float64](t, "IncrementFloat 2.0")(c.IncrementFloat(ctx, "n", 2.0, cache.Expiration{})); f != 7 {
			t.Errorf("IncrementFloat(2.0) = %v; want 7", f)
		}
		stored("n", "7", "int") // INCRBY
		for range 2 {
			must[float64](t, "IncrementFloat 0.5")(c.IncrementFloat(ctx, "n", 0.5, cache.Expiration{}))
		}
		stored("n", "8", "embstr") // INCRBYFLOAT wrote 7.5 then 8

		if f := must[float64](t, "IncrementFloat 1.5")(c.IncrementFloat(ctx, "f", 1.5, cache.Expiration{})); f != 1.5 {
			t.Errorf("IncrementFloat(1.5) = %v; want 1.5", f)
		}
		// A whole amount on a fractional number falls back to INCRBYFLOAT.
		if f := must[float64](t, "IncrementFloat 2.0 on 1.5")(c.IncrementFloat(ctx, "f", 2.0, cache.Expiration{})); f != 3.5 {
			t.Errorf("IncrementFloat(2.0) on 1.5 = %v; want 3.5", f)
		}
		stored("f", "3.5", "embstr")
		// The integer Increment refuses a fractional number and changes nothing.
		if _, err := c.Increment(ctx, "f", 1, cache.ExpiresIn(time.Hour)); !errors.Is(err, cache.ErrNotNumber) {
			t.Errorf("Increment on 3.5: %v; want ErrNotNumber", err)
		}
		stored("f", "3.5", "embstr")
		if ttl := r.Client.PTTL(ctx, r.Key("f")).Val(); ttl != -1 {
			t.Errorf("PTTL after refused Increment = %v; want -1 (untouched)", ttl)
		}

		must[bool](t, "Set text")(c.Set(ctx, "s", "abc", cache.Expiration{}))
		for _, err := range []error{
			func() error { _, err := c.Increment(ctx, "s", 1, cache.Expiration{}); return err }(),
			func() error { _, err := c.IncrementFloat(ctx, "s", 1.5, cache.Expiration{}); return err }(),
			func() error { _, err := c.IncrementFloat(ctx, "s", 1, cache.Expiration{}); return err }(),
			func() error { _, err := c.SetIfHigher(ctx, "s", 1, cache.Expiration{}); return err }(),
		} {
			if !errors.Is(err, cache.ErrNotNumber) || errors.Is(err, cache.ErrUnavailable) {
				t.Errorf("numeric operation on a JSON string: %v; want ErrNotNumber only", err)
			}
		}
		if _, err := c.IncrementFloat(ctx, "n", nan(), cache.Expiration{}); err == nil || !strings.Contains(err.Error(), "finite") {
			t.Errorf("IncrementFloat(NaN): %v; want an error asking for a finite number", err)
		}
	})
}

func nan() float64 { z := 0.0; return z / z }

func TestIncrementExpiration(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	c := newCache(t, r)
	must[bool](t, "Set")(c.Set(ctx, "n", 1, cache.ExpiresIn(time.Hour)))
	must[int64](t, "Increment")(c.Increment(ctx, "n", 1, cache.Expiration{}))
	if ttl := r.Client.PTTL(ctx, r.Key("n")).Val(); ttl != -1 {
		t.Errorf("PTTL after Increment without expiration = %v; want -1 (PERSIST)", ttl)
	}
	must[int64](t, "Increment")(c.Increment(ctx, "n", 1, cache.ExpiresIn(10*time.Minute)))
	if ttl := r.Client.PTTL(ctx, r.Key("n")).Val(); ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Errorf("PTTL after Increment with 10m = %v", ttl)
	}
	if n := must[int64](t, "Increment expired")(c.Increment(ctx, "n", 5, cache.ExpiresIn(0))); n != 0 {
		t.Errorf("Increment with expired exp = %d; want 0", n)
	}
	if n := r.Client.Exists(ctx, r.Key("n")).Val(); n != 0 {
		t.Errorf("key exists after Increment with expired exp")
	}
	// A sub-millisecond TTL is rounded up, never down to "no TTL".
	must[bool](t, "Set 1µs")(c.Set(ctx, "tiny", "v", cache.ExpiresIn(time.Microsecond)))
	if ttl := r.Client.PTTL(ctx, r.Key("tiny")).Val(); ttl == -1 {
		t.Errorf("Set with 1µs left the key without TTL")
	}
}

func TestSetIfExactIntegers(t *testing.T) {
	t.Parallel()
	topologies(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := newCache(t, r)
		const big = int64(1) << 53 // 2^53 and 2^53+1 are the same double
		if d := must[int64](t, "SetIfHigher")(c.SetIfHigher(ctx, "{hw}:max", big, cache.Expiration{})); d != big {
			t.Errorf("SetIfHigher on a new key = %d; want %d", d, big)
		}
		if d := must[int64](t, "SetIfHigher +1")(c.SetIfHigher(ctx, "{hw}:max", big+1, cache.Expiration{})); d != 1 {
			t.Errorf("SetIfHigher(2^53+1) over 2^53 = %d; want 1", d)
		}
		if d := must[int64](t, "SetIfHigher same")(c.SetIfHigher(ctx, "{hw}:max", big+1, cache.ExpiresIn(time.Hour))); d != 0 {
			t.Errorf("SetIfHigher with the same value = %d; want 0", d)
		}
		if ttl := r.Client.PTTL(ctx, r.Key("{hw}:max")).Val(); ttl != -1 {
			t.Errorf("a failed SetIfHigher changed the TTL to %v", ttl)
		}
		if got := r.Client.Get(ctx, r.Key("{hw}:max")).Val(); got != strconv.FormatInt(big+1, 10) {
			t.Errorf("stored %q; want %d", got, big+1)
		}
		if d := must[int64](t, "SetIfLower negative")(c.SetIfLower(ctx, "{hw}:max", -big-1, cache.Expiration{})); d != 2*big+2 {
			t.Errorf("SetIfLower(-2^53-1) = %d; want %d", d, 2*big+2)
		}
		if d := must[float64](t, "SetIfLowerFloat")(c.SetIfLowerFloat(ctx, "{hw}:min", 2.5, cache.Expiration{})); d != 2.5 {
			t.Errorf("SetIfLowerFloat on a new key = %v; want 2.5", d)
		}
		if d := must[float64](t, "SetIfLowerFloat")(c.SetIfLowerFloat(ctx, "{hw}:min", -1, cache.ExpiresIn(time.Hour))); d != 3.5 {
			t.Errorf("SetIfLowerFloat(-1) under 2.5 = %v; want 3.5", d)
		}
		if got := r.Client.Get(ctx, r.Key("{hw}:min")).Val(); got != "-1" {
			t.Errorf("stored %q; want -1", got)
		}
	})
}

// TestGetAllReadsOtherKindsAsMisses: on a cluster GetAll sends one GET per
// key, and a key holding a list or a hash failed the whole call with
// WRONGTYPE, where MGET on a single node (and memorycache) read it as a
// miss. Found by the differential test at full size, which adds a cluster.
func TestGetAllReadsOtherKindsAsMisses(t *testing.T) {
	t.Parallel()
	topologies(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := newCache(t, r)
		must[bool](t, "Set")(c.Set(ctx, "v", "x", cache.Expiration{}))
		must[int64](t, "ListAdd")(c.ListAdd(ctx, "l", []any{"a"}, cache.Expiration{}))
		must[bool](t, "HashSet")(c.HashSet(ctx, "h", "f", 1))
		got := must[map[string]cache.Item](t, "GetAll")(c.GetAll(ctx, []string{"v", "l", "h", "missing"}))
		if len(got) != 4 || !got["v"].HasValue() || got["l"].HasValue() || got["h"].HasValue() || got["missing"].HasValue() {
			t.Fatalf("GetAll = %v; want v present, the list, the hash and the missing key as misses", got)
		}
	})
}

// TestIncrementReturnsExactIntegers: the incr script passed INCRBY's
// result through a Lua number, a double, so a result beyond 2^53 came back
// rounded (and math.MaxInt64 as math.MinInt64), though the stored value was
// right. Found by the differential test.
func TestIncrementReturnsExactIntegers(t *testing.T) {
	t.Parallel()
	topologies(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		c := newCache(t, r)
		const big = int64(1) << 53
		for _, tc := range []struct {
			key          string
			start, delta int64
		}{
			{"{inc}:max", 0, math.MaxInt64},
			{"{inc}:min", 0, math.MinInt64},
			{"{inc}:odd", big, 1},
			{"{inc}:neg", -big, -3},
		} {
			if tc.start != 0 {
				must[bool](t, "Set")(c.Set(ctx, tc.key, tc.start, cache.Expiration{}))
			}
			if n := must[int64](t, "Increment")(c.Increment(ctx, tc.key, tc.delta, cache.Expiration{})); n != tc.start+tc.delta {
				t.Errorf("Increment(%d) from %d = %d; want %d", tc.delta, tc.start, n, tc.start+tc.delta)
			}
			if f := must[float64](t, "IncrementFloat")(c.IncrementFloat(ctx, tc.key, 0, cache.Expiration{})); f != float64(tc.start+tc.delta) {
				t.Errorf("IncrementFloat(0) on %d = %v", tc.start+tc.delta, f)
			}
		}
	})
}

// TestScriptsOnCluster runs every script on keys spread over the slots (and
// masters) of a cluster, hash-tagged and not.
func TestScriptsOnCluster(t *testing.T) {
	t.Parallel()
	r := redistest.NewCluster(t)
	ctx := context.Background()
	c := newCache(t, r)
	for i := range 12 {
		keys := []string{fmt.Sprintf("{job%d}:value", i), fmt.Sprintf("plain%d", i)}
		for _, k := range keys {
			must[bool](t, "Set")(c.Set(ctx, k, "a", cache.Expiration{}))
			if ok := must[bool](t, "ReplaceIfEqual")(c.ReplaceIfEqual(ctx, k, "b", "a", cache.ExpiresIn(time.Hour))); !ok {
				t.Fatalf("ReplaceIfEqual(%s) = false", k)
			}
			if ok := must[bool](t, "RemoveIfEqual")(c.RemoveIfEqual(ctx, k, "b")); !ok {
				t.Fatalf("RemoveIfEqual(%s) = false", k)
			}
			if n := must[int64](t, "Increment")(c.Increment(ctx, k, 3, cache.Expiration{})); n != 3 {
				t.Fatalf("Increment(%s) = %d", k, n)
			}
			if d := must[int64](t, "SetIfHigher")(c.SetIfHigher(ctx, k, 10, cache.Expiration{})); d != 7 {
				t.Fatalf("SetIfHigher(%s) = %d", k, d)
			}
			lk := k + ":list"
			if n := must[int64](t, "ListAdd")(c.ListAdd(ctx, lk, []any{1, 2}, cache.ExpiresIn(time.Hour))); n != 2 {
				t.Fatalf("ListAdd(%s) = %d", lk, n)
			}
			if n := must[int64](t, "ListRemove")(c.ListRemove(ctx, lk, []any{1})); n != 1 {
				t.Fatalf("ListRemove(%s) = %d", lk, n)
			}
			items := must[[]cache.Item](t, "GetList")(c.GetList(ctx, lk, cache.Page{}))
			if len(items) != 1 {
				t.Fatalf("GetList(%s) has %d items; want 1", lk, len(items))
			}
		}
	}
	keys := make([]string, 0, 40)
	for i := range 40 {
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	values := make(map[string]any, len(keys))
	for _, k := range keys {
		values[k] = k
	}
	if n := must[int](t, "SetAll")(c.SetAll(ctx, values, cache.ExpiresIn(time.Hour))); n != len(keys) {
		t.Errorf("SetAll = %d; want %d", n, len(keys))
	}
	all := must[map[string]cache.Item](t, "GetAll")(c.GetAll(ctx, append(keys, "missing")))
	for _, k := range keys {
		var s string
		if err := all[k].Decode(&s); err != nil || s != k {
			t.Errorf("GetAll[%s] = %q, %v", k, s, err)
		}
	}
	if it, ok := all["missing"]; !ok || it.HasValue() {
		t.Errorf("GetAll[missing] = %v, %v; want a miss", it, ok)
	}
	exps := must[map[string]cache.Expiration](t, "GetAllExpiration")(c.GetAllExpiration(ctx, append(keys, "missing")))
	if len(exps) != len(keys) {
		t.Errorf("GetAllExpiration has %d keys; want %d", len(exps), len(keys))
	}
	if n := must[int](t, "RemoveAll")(c.RemoveAll(ctx, append(keys, "missing"))); n != len(keys) {
		t.Errorf("RemoveAll = %d; want %d", n, len(keys))
	}
}

// mastersOf returns the number of keys each cluster master holds (a master
// answers EXISTS with MOVED for a key it does not own).
func mastersOf(t *testing.T, r *redistest.Redis, keys []string) map[string]int {
	t.Helper()
	cc, ok := r.Client.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("client is %T; want a cluster client", r.Client)
	}
	perMaster := map[string]int{}
	var mu sync.Mutex
	err := cc.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		n := 0
		for _, k := range keys {
			if m.Exists(ctx, k).Val() == 1 {
				n++
			}
		}
		mu.Lock()
		perMaster[m.Options().Addr] = n
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("inspect masters: %v", err)
	}
	return perMaster
}

func TestRemoveByPrefixIsLiteralOnEveryMaster(t *testing.T) {
	t.Parallel()
	r := redistest.NewCluster(t)
	ctx := context.Background()
	c := newCache(t, r)
	const prefix = `a*[b]?\.c+(d|e)^$:`
	var targets, decoys []string
	for i := range 30 {
		targets = append(targets, fmt.Sprintf("%s%d", prefix, i))
		// Each decoy matches prefix+"*" read as a glob (or a regex) but does
		// not start with prefix.
		decoys = append(decoys,
			fmt.Sprintf(`axx[b]?\.c+(d|e)^$:%d`, i),
			fmt.Sprintf(`a*b\.c+(d|e)^$:%d`, i),
			fmt.Sprintf(`a*[b]x\.c+(d|e)^$:%d`, i),
			fmt.Sprintf(`a*[b]?.c+(d|e)^$:%d`, i))
	}
	for _, k := range append(append([]string{}, targets...), decoys...) {
		must[bool](t, "Set")(c.Set(ctx, k, 1, cache.Expiration{}))
	}
	per := mastersOf(t, r, c.keys(targets))
	if len(per) != 3 {
		t.Fatalf("cluster has %d masters; want 3", len(per))
	}
	for addr, n := range per {
		if n == 0 {
			t.Fatalf("no target key on master %s (%v): the test must cover every master", addr, per)
		}
	}
	if n := must[int](t, "RemoveByPrefix")(c.RemoveByPrefix(ctx, prefix)); n != len(targets) {
		t.Errorf("RemoveByPrefix = %d; want %d", n, len(targets))
	}
	for _, k := range targets {
		if must[bool](t, "Exists")(c.Exists(ctx, k)) {
			t.Errorf("%q survived RemoveByPrefix", k)
		}
	}
	for _, k := range decoys {
		if !must[bool](t, "Exists")(c.Exists(ctx, k)) {
			t.Errorf("decoy %q was removed", k)
		}
	}
}

func TestRemoveByPrefixStaysInsideKeyPrefix(t *testing.T) {
	t.Parallel()
	topologies(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		one, err := New(r.Client, Config{KeyPrefix: r.Key("one:"), BatchSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		two, err := New(r.Client, Config{KeyPrefix: r.Key("onex:")}) // starts like one's
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			must[bool](t, "Set one")(one.Set(ctx, fmt.Sprintf("k%d", i), i, cache.Expiration{}))
		}
		must[bool](t, "Set two")(two.Set(ctx, "k", 1, cache.Expiration{}))
		r.Client.Set(ctx, r.Key("outside"), 1, 0)
		if n := must[int](t, "RemoveByPrefix(k1)")(one.RemoveByPrefix(ctx, "k1")); n != 11 {
			t.Errorf("RemoveByPrefix(k1) = %d; want 11 (k1, k10..k19)", n)
		}
		if n := must[int](t, "RemoveByPrefix(\"\")")(one.RemoveByPrefix(ctx, "")); n != 39 {
			t.Errorf("RemoveByPrefix(\"\") = %d; want 39", n)
		}
		if !must[bool](t, "Exists two")(two.Exists(ctx, "k")) {
			t.Errorf("RemoveByPrefix(\"\") on one removed a key of another namespace")
		}
		if n := must[int](t, "Exists one")(one.RemoveByPrefix(ctx, "")); n != 0 {
			t.Errorf("second RemoveByPrefix(\"\") = %d; want 0", n)
		}
		if r.Client.Exists(ctx, r.Key("outside")).Val() != 1 {
			t.Errorf("RemoveByPrefix(\"\") removed a key outside KeyPrefix")
		}
	})
}
