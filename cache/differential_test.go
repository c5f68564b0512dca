package cache_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/hybridcache"
	"github.com/fanin-dev/fanin/cache/memorycache"
	"github.com/fanin-dev/fanin/cache/rediscache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// The differential test runs seeded random sequences of cache operations
// (diffgen_test.go) against every implementation at once and requires every
// answer, error class and visible state to agree with rediscache's, the
// reference. The intended differences it tolerates are listed under
// "Differences between implementations" in the package documentation, and
// each is applied in exactly one place below (see normalize).
//
// Sizes: `go test` runs a few short sequences; FANIN_FULL=1 (make
// test-full) runs many long ones, also against a Redis Cluster.
// FANIN_DIFF_SEED=n replays one seed; FANIN_DIFF_SEEDS and FANIN_DIFF_OPS
// override the number of seeds and of operations per seed.
// FuzzDifferential (make fuzz) draws the sequence from the fuzzer's bytes.

// impl is one implementation under test.
type impl struct {
	name string
	c    cache.Client
}

// newImpls returns fresh, empty implementations, each in its own namespace,
// the reference first. cluster adds rediscache on a Redis Cluster.
func newImpls(tb testing.TB, cluster bool) []impl {
	tb.Helper()
	r := redistest.New(tb)
	mem, err := memorycache.New(memorycache.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	clone, err := memorycache.New(memorycache.Config{CloneValues: true})
	if err != nil {
		tb.Fatal(err)
	}
	redisAt := func(r *redistest.Redis, ns string) *rediscache.Cache {
		c, err := rediscache.New(r.Client, rediscache.Config{KeyPrefix: r.Prefix + ns})
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	hybrid, err := hybridcache.New(tb.Context(), hybridcache.Config{
		Distributed: redisAt(r, "hybrid:"), Publisher: r.Client, Channel: r.Key("invalidate"),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = hybrid.Close() })
	scope := func(c cache.Client) cache.Client {
		s, err := cache.NewScoped(c, "tenant")
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	aware, err := hybridcache.NewAware(redisAt(r, "aware:"), r.Client, hybridcache.AwareConfig{Channel: r.Key("invalidate")})
	if err != nil {
		tb.Fatal(err)
	}
	out := []impl{
		{"rediscache", redisAt(r, "redis:")},
		{"memorycache", mem},
		{"memorycache-clone", clone},
		{"hybrid", hybrid},
		{"hybrid-aware", aware},
		{"scoped-memory", scope(mem2(tb))},
		{"scoped-redis", scope(redisAt(r, "scoped:"))},
	}
	if cluster {
		out = append(out, impl{"rediscache-cluster", redisAt(redistest.NewCluster(tb), "redis:")})
	}
	return out
}

func mem2(tb testing.TB) *memorycache.Cache {
	c, err := memorycache.New(memorycache.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// part is one observable piece of an answer: text, or a remaining TTL,
// compared with a tolerance.
type part struct {
	s   string
	ttl time.Duration
	isT bool
}

func (p part) String() string {
	if p.isT {
		return "ttl " + p.ttl.String()
	}
	return p.s
}

// outcome is what one call returned: its error class and its results.
type outcome struct {
	err   string
	parts []part
}

func (o outcome) String() string {
	var b strings.Builder
	b.WriteString(o.err)
	for _, p := range o.parts {
		b.WriteString(" | ")
		b.WriteString(p.String())
	}
	return b.String()
}

// result builds an outcome from an error and results of any of the types
// the generated operations return.
func result(err error, vals ...any) outcome {
	o := outcome{err: errClass(err)}
	for _, v := range vals {
		o.parts = append(o.parts, parts(v)...)
	}
	return o
}

func parts(v any) []part {
	switch x := v.(type) {
	case part:
		return []part{x}
	case []part:
		return x
	case cache.Expiration:
		switch {
		case x.IsNone():
			return []part{{s: "no expiration"}}
		case x.IsExpired():
			return []part{{s: "expired"}}
		}
		return []part{{ttl: x.TTL(), isT: true}}
	case float64:
		return []part{{s: "float " + strconv.FormatFloat(x, 'g', -1, 64)}}
	}
	return []part{{s: fmt.Sprintf("%T %v", v, v)}}
}

// errClass names the sentinel an error wraps: what callers can tell apart.
func errClass(err error) string {
	if err == nil {
		return "ok"
	}
	for _, s := range []struct {
		name string
		err  error
	}{
		{"ErrEmptyKey", cache.ErrEmptyKey},
		{"ErrNilValue", cache.ErrNilValue},
		{"ErrNotNumber", cache.ErrNotNumber},
		{"ErrWrongType", cache.ErrWrongType},
		{"ErrDecode", cache.ErrDecode},
		{"ErrInvalidArgument", cache.ErrInvalidArgument},
		{"ErrUnsupported", cache.ErrUnsupported},
		{"ErrUnavailable", cache.ErrUnavailable},
		{"ErrTooLarge", memorycache.ErrTooLarge},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "error"
}

// decodeTarget decodes an Item into a fresh variable of one type and shows
// what it got.
type decodeTarget struct {
	name   string
	decode func(it cache.Item) string
}

func target[T any](name string, show func(T) string) decodeTarget {
	return decodeTarget{name, func(it cache.Item) string {
		var v T
		if err := it.Decode(&v); err != nil {
			return name + "!" + errClass(err)
		}
		return name + "=" + show(v)
	}}
}

func showAny[T any](v T) string { return fmt.Sprintf("%#v", v) }

func showFloat[T float32 | float64](v T) string {
	bits := 64
	if _, ok := any(v).(float32); ok {
		bits = 32
	}
	return strconv.FormatFloat(float64(v), 'g', -1, bits)
}

// showJSON shows a decoded interface value by its JSON form, keys sorted.
func showJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T(%v)", v, v)
	}
	var norm any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&norm) != nil {
		return string(b)
	}
	b, _ = json.Marshal(norm)
	return string(b)
}

var decodeTargets = []decodeTarget{
	target("any", showJSON),
	target("bool", showAny[bool]),
	target("string", showAny[string]),
	target("[]byte", func(b []byte) string { return fmt.Sprintf("%q", b) }),
	target("int", showAny[int]),
	target("int8", showAny[int8]),
	target("int16", showAny[int16]),
	target("int32", showAny[int32]),
	target("int64", showAny[int64]),
	target("uint", showAny[uint]),
	target("uint8", showAny[uint8]),
	target("uint16", showAny[uint16]),
	target("uint32", showAny[uint32]),
	target("uint64", showAny[uint64]),
	target("float32", showFloat[float32]),
	target("float64", showFloat[float64]),
	target("payload", showAny[payload]),
	target("*payload", func(p *payload) string { return showJSON(p) }),
	target("map", showJSON),
	target("[]string", showAny[[]string]),
}

// describeItem shows everything a caller can learn from an Item.
func describeItem(it cache.Item) []part {
	if !it.HasValue() {
		return []part{{s: "miss"}}
	}
	out := []part{{s: fmt.Sprintf("present null=%v", it.IsNull())}}
	raw, err := it.Raw(nil)
	out = append(out, part{s: fmt.Sprintf("raw=%q %s", raw, errClass(err))})
	for _, d := range decodeTargets {
		out = append(out, part{s: d.decode(it)})
	}
	return out
}

// describeMap shows a map result, key by key in order.
func describeMap[V any](m map[string]V, describe func(V) []part) []part {
	out := []part{{s: fmt.Sprintf("%d keys", len(m))}}
	for _, k := range sortedKeys(m) {
		out = append(out, part{s: "key " + strconv.Quote(k)})
		out = append(out, describe(m[k])...)
	}
	return out
}

func describeItems(m map[string]cache.Item) []part { return describeMap(m, describeItem) }

func describeExps(m map[string]cache.Expiration) []part {
	return describeMap(m, func(e cache.Expiration) []part { return parts(e) })
}

func describeList(items []cache.Item) []part {
	out := []part{{s: fmt.Sprintf("%d values nil=%v", len(items), items == nil)}}
	for _, it := range items {
		out = append(out, describeItem(it)...)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// snapshot reads the whole visible state of the live keys.
func snapshot(ctx context.Context, c cache.Client) outcome {
	var ps []part
	add := func(o outcome) {
		ps = append(ps, part{s: o.err})
		ps = append(ps, o.parts...)
	}
	for _, k := range liveKeys {
		ps = append(ps, part{s: "key " + strconv.Quote(k)})
		ok, err := c.Exists(ctx, k)
		add(result(err, ok))
		e, err := c.GetExpiration(ctx, k)
		add(result(err, e))
		it, err := c.Get(ctx, k)
		add(result(err, describeItem(it)))
		items, err := c.GetList(ctx, k, cache.Page{})
		add(result(err, describeList(items)))
		n, err := c.(cache.Hashes).HashLen(ctx, k)
		add(result(err, n))
	}
	m, err := c.GetAll(ctx, liveKeys)
	add(result(err, describeItems(m)))
	exps, err := c.GetAllExpiration(ctx, liveKeys)
	add(result(err, describeExps(exps)))
	return outcome{err: "snapshot", parts: ps}
}

// same compares two outcomes; remaining TTLs may differ by tol (see
// runSequence). After an error only the error class is compared.
func same(a, b outcome, tol time.Duration) bool {
	if a.err != b.err {
		return false
	}
	if a.err != "ok" && a.err != "snapshot" {
		return true
	}
	if len(a.parts) != len(b.parts) {
		return false
	}
	for i, p := range a.parts {
		q := b.parts[i]
		if p.isT != q.isT || p.s != q.s {
			return false
		}
		if p.isT && (p.ttl-q.ttl > tol || q.ttl-p.ttl > tol) {
			return false
		}
	}
	return true
}

// firstDifference describes where two outcomes part.
func firstDifference(a, b outcome, tol time.Duration) string {
	if a.err != b.err {
		return fmt.Sprintf("error class %s, want %s", b.err, a.err)
	}
	for i := range min(len(a.parts), len(b.parts)) {
		if !same(outcome{err: "ok", parts: a.parts[i : i+1]}, outcome{err: "ok", parts: b.parts[i : i+1]}, tol) {
			ctx := ""
			for j := i - 1; j >= 0; j-- {
				if strings.HasPrefix(a.parts[j].s, "key ") {
					ctx = a.parts[j].s + ": "
					break
				}
			}
			return fmt.Sprintf("%sgot %v, want %v", ctx, b.parts[i], a.parts[i])
		}
	}
	return fmt.Sprintf("%d results, want %d", len(b.parts), len(a.parts))
}

// mismatch is a difference found in a sequence.
type mismatch struct {
	tol  time.Duration
	step int
	op   string
	impl string
	ref  outcome
	got  outcome
	ops  []string
}

func (m *mismatch) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d, %s: %s differs from %s: %s\n", m.step, m.op, m.impl, "rediscache", firstDifference(m.ref, m.got, m.tol))
	fmt.Fprintf(&b, "  rediscache: %v\n  %s: %v\n", m.ref, m.impl, m.got)
	b.WriteString("  the sequence up to there:\n")
	for i, o := range m.ops {
		fmt.Fprintf(&b, "    %3d %s\n", i, o)
	}
	return b.String()
}

// snapshotEvery is how many operations run between two state comparisons.
const snapshotEvery = 8

// runSequence runs up to n operations drawn from ch against every
// implementation, built at born, and returns the first difference.
// Remaining TTLs are compared to within the implementations' age: the time
// the implementations read their clocks at may differ by that much, and
// memorycache's clamp of the largest TTLs by at most its age.
func runSequence(ctx context.Context, impls []impl, born time.Time, ch chooser, n int) *mismatch {
	var ops []string
	compare := func(step int, desc string, run func(context.Context, cache.Client) outcome) *mismatch {
		ref := run(ctx, impls[0].c)
		for _, im := range impls[1:] {
			got := run(ctx, im.c)
			if tol := time.Since(born) + 50*time.Millisecond; !same(ref, got, tol) {
				return &mismatch{tol: tol, step: step, op: desc, impl: im.name, ref: ref, got: got, ops: ops}
			}
		}
		return nil
	}
	for i := 0; i < n && !ch.exhausted(); i++ {
		op := genOp(ch)
		if op.guard != nil && !op.guard(ctx, impls[0].c) {
			ops = append(ops, "(skipped) "+op.desc)
			continue
		}
		ops = append(ops, op.desc)
		if m := compare(i, op.desc, op.run); m != nil {
			return m
		}
		if i%snapshotEvery == snapshotEvery-1 {
			if m := compare(i, "state after "+op.desc, snapshot); m != nil {
				return m
			}
		}
	}
	return compare(len(ops), "final state", snapshot)
}

// envInt reads a positive integer from the environment, or returns def.
func envInt(t testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, s)
	}
	return n
}

func TestDifferential(t *testing.T) {
	full := os.Getenv("FANIN_FULL") == "1"
	seeds, ops := 6, 150
	if full {
		seeds, ops = 200, 600
	}
	seeds, ops = envInt(t, "FANIN_DIFF_SEEDS", seeds), envInt(t, "FANIN_DIFF_OPS", ops)
	first := 1
	if s := os.Getenv("FANIN_DIFF_SEED"); s != "" {
		first, seeds = envInt(t, "FANIN_DIFF_SEED", 1), 1
	}
	for seed := first; seed < first+seeds; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			born := time.Now()
			impls := newImpls(t, full)
			ch := randChooser{rand.New(rand.NewPCG(uint64(seed), 0x6661_6e69_6e))}
			if m := runSequence(t.Context(), impls, born, ch, ops); m != nil {
				t.Fatalf("seed %d (replay: FANIN_DIFF_SEED=%d go test -run TestDifferential ./cache/): %v", seed, seed, m)
			}
		})
	}
}

// FuzzDifferential draws the operations from the fuzzer's bytes, about
// three bytes an operation. The implementations are built once per worker
// and emptied before each input.
func FuzzDifferential(f *testing.F) {
	for _, seed := range []string{
		"\x05\x00\x1f\x00\x00\x00\x02\x00",     // Set then Get
		"\x10\x03\x01\x07\x00\x03\x14",         // Increment with a TTL
		"\x19\x05\x00\x00\x1b\x05\x00",         // ListAdd, GetList
		"\x03\x00\x0d\x01\x08\x00\x18\x00\x16", // nil and empty collections
	} {
		f.Add([]byte(seed))
	}
	born := time.Now()
	impls := newImpls(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := t.Context()
		for _, im := range impls {
			if _, err := im.c.RemoveByPrefix(ctx, ""); err != nil {
				t.Fatalf("%s: emptying: %v", im.name, err)
			}
		}
		if m := runSequence(ctx, impls, born, &byteChooser{b: data}, 64); m != nil {
			t.Fatal(m)
		}
	})
}
