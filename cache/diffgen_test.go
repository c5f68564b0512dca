package cache_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// This file generates the operation sequences of the differential test
// (differential_test.go): every method of cache.Client and cache.Hashes,
// with arguments drawn from small pools that reach the edges (numeric
// limits, nil and empty collections, empty keys, expirations from already
// expired to the largest time.Duration).

// chooser draws the choices of a sequence: from a seeded PRNG, or from the
// bytes of a fuzz input.
type chooser interface {
	// intn returns a choice in [0, n).
	intn(n int) int
	// exhausted reports that a byte stream has run out.
	exhausted() bool
}

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int  { return c.r.IntN(n) }
func (c randChooser) exhausted() bool { return false }

type byteChooser struct{ b []byte }

func (c *byteChooser) intn(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}

func (c *byteChooser) exhausted() bool { return len(c.b) == 0 }

func pick[T any](ch chooser, pool []T) T { return pool[ch.intn(len(pool))] }

// diffKeys are the keys a sequence works on. "" is an invalid key; "a*" and
// "a?" hold glob characters that RemoveByPrefix must take literally.
var diffKeys = []string{"a", "ab", "a*", "b", "n", "l", "h", ""}

// liveKeys are the keys the state snapshots read (every valid key).
var liveKeys = []string{"a", "ab", "a*", "b", "n", "l", "h"}

var diffPrefixes = []string{"", "a", "a*", "x", "l", "n"}

type payload struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags,omitempty"`
}

// diffValues are the values written: every kind Encode handles, at their
// edges.
var diffValues = []any{
	nil,
	true, false,
	"", "hello", "42", "null", "true", "-0", "1e3", "ünïcödé",
	[]byte("raw"), []byte("42"), []byte("null"), []byte{0xff, 0x00}, []byte{},
	0, 1, -1, 42, int8(math.MinInt8), int16(math.MaxInt16), int32(math.MaxInt32), int32(math.MinInt32),
	int64(math.MaxInt32) + 1, int64(math.MaxUint32), int64(math.MaxUint32) + 1,
	int64(math.MaxInt64), int64(math.MinInt64), int64(math.MinInt64 + 1), int64(1 << 53), int64(1<<53 + 1),
	uint(7), uint8(math.MaxUint8), uint16(math.MaxUint16), uint32(math.MaxUint32),
	uint64(math.MaxInt64), uint64(math.MaxInt64) + 1, uint64(math.MaxUint64),
	0.5, 2.5, -2.5, 2.0, -3.0, math.Copysign(0, -1), 0.1, 1e15, 1e300, -1e300,
	math.MaxFloat64, math.SmallestNonzeroFloat64, 9007199254740993.0, float32(1.5), float32(0.1),
	math.Inf(1), math.Inf(-1), math.NaN(),
	payload{Name: "ada", Count: 3, Tags: []string{"x"}},
	&payload{Name: "bob"},
	(*payload)(nil),
	map[string]any{"k": 1, "a": "b"},
	[]string{"x", "y"},
	[]any{1, "a", nil},
}

// diffListValues are the values of list operations (nil is invalid there).
var diffListValues = []any{"a", "b", "c", 1, 2.0, 2.5, int64(math.MaxInt64), uint64(math.MaxUint64), true, payload{Name: "p"}, []byte("raw"), nil}

// diffExps are the expirations of writes. Positive TTLs are all far longer
// than any run, so nothing expires by the passing of time during a
// sequence, and they differ from each other by at least a minute, far more
// than the tolerance with which remaining TTLs are compared.
var diffExps = []cache.Expiration{
	{},
	cache.ExpiresIn(0),
	cache.ExpiresIn(-time.Second),
	cache.ExpiresIn(math.MinInt64),
	cache.ExpiresIn(time.Hour),
	cache.ExpiresIn(26 * time.Hour),
	cache.ExpiresIn(7 * 24 * time.Hour),
	cache.ExpiresIn(250 * 365 * 24 * time.Hour),
	cache.ExpiresIn(math.MaxInt64 - time.Hour),
	cache.ExpiresIn(math.MaxInt64),
}

var diffAmounts = []int64{0, 1, -1, 5, 1000, math.MaxInt64, math.MinInt64, math.MaxInt32}

// diffFloatAmounts are exact in binary, and small, so that float64 (memory)
// and long double (Redis INCRBYFLOAT) arithmetic give the same sums; see
// the intended differences in the package documentation.
var diffFloatAmounts = []float64{0, 0.5, -0.25, 2, 1.5, -3, math.Inf(1), math.NaN(), math.MaxFloat64}

var diffPages = []cache.Page{{}, {Number: 0, Size: 1}, {Number: 1, Size: 1}, {Number: 0, Size: 2}, {Number: 3, Size: 2}, {Number: -1, Size: 1}, {Number: math.MaxInt, Size: 2}}

var diffFields = []string{"f", "g", ""}

// genSlice returns a collection drawn from pool: nil, empty, or one to
// three elements (repeats allowed).
func genSlice[T any](ch chooser, pool []T) []T {
	switch ch.intn(6) {
	case 0:
		return nil
	case 1:
		return []T{}
	}
	out := make([]T, 1+ch.intn(3))
	for i := range out {
		out[i] = pick(ch, pool)
	}
	return out
}

// genMap returns a map from keys to elements of pool: nil, empty, or one to
// three entries.
func genMap[V any](ch chooser, pool []V) map[string]V {
	keys := genSlice(ch, diffKeys)
	if keys == nil {
		return nil
	}
	m := make(map[string]V, len(keys))
	for _, k := range keys {
		m[k] = pick(ch, pool)
	}
	return m
}

func genKeys(ch chooser) []string                      { return genSlice(ch, diffKeys) }
func genValues(ch chooser) []any                       { return genSlice(ch, diffListValues) }
func genValueMap(ch chooser) map[string]any            { return genMap(ch, diffValues) }
func genExpMap(ch chooser) map[string]cache.Expiration { return genMap(ch, diffExps) }

// diffOp is one generated call, run against every implementation.
type diffOp struct {
	desc string
	run  func(ctx context.Context, c cache.Client) outcome
	// guard, when set, is asked on the reference whether the call is in
	// the domain where the implementations must agree; when it is not,
	// the call is skipped everywhere. See the intended differences.
	guard func(ctx context.Context, ref cache.Client) bool
}

func mkOp(desc string, run func(ctx context.Context, c cache.Client) outcome) diffOp {
	return diffOp{desc: desc, run: run}
}

func (o diffOp) guarded(g func(ctx context.Context, ref cache.Client) bool) diffOp {
	o.guard = g
	return o
}

// genOp draws one operation.
func genOp(ch chooser) diffOp {
	k := pick(ch, diffKeys)
	switch ch.intn(29) {
	case 0, 1, 2:
		return mkOp(fmt.Sprintf("Get(%q)", k), func(ctx context.Context, c cache.Client) outcome {
			it, err := c.Get(ctx, k)
			return result(err, describeItem(it))
		})
	case 3:
		keys := genKeys(ch)
		return mkOp(fmt.Sprintf("GetAll(%s)", showKeys(keys)), func(ctx context.Context, c cache.Client) outcome {
			m, err := c.GetAll(ctx, keys)
			return result(err, describeItems(m))
		})
	case 4:
		v, exp := pick(ch, diffValues), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("Add(%q, %s, %v)", k, showValue(v), exp), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.Add(ctx, k, v, exp)
			return result(err, ok)
		})
	case 5, 6, 7:
		v, exp := pick(ch, diffValues), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("Set(%q, %s, %v)", k, showValue(v), exp), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.Set(ctx, k, v, exp)
			return result(err, ok)
		})
	case 8:
		m, exp := genValueMap(ch), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("SetAll(%s, %v)", showMap(m), exp), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.SetAll(ctx, m, exp)
			return result(err, n)
		})
	case 9:
		v, exp := pick(ch, diffValues), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("Replace(%q, %s, %v)", k, showValue(v), exp), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.Replace(ctx, k, v, exp)
			return result(err, ok)
		})
	case 10:
		v, want, exp := pick(ch, diffValues), pick(ch, diffValues), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("ReplaceIfEqual(%q, %s, %s, %v)", k, showValue(v), showValue(want), exp), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.ReplaceIfEqual(ctx, k, v, want, exp)
			return result(err, ok)
		})
	case 11:
		return mkOp(fmt.Sprintf("Remove(%q)", k), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.Remove(ctx, k)
			return result(err, ok)
		})
	case 12:
		want := pick(ch, diffValues)
		return mkOp(fmt.Sprintf("RemoveIfEqual(%q, %s)", k, showValue(want)), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.RemoveIfEqual(ctx, k, want)
			return result(err, ok)
		})
	case 13:
		keys := genKeys(ch)
		return mkOp(fmt.Sprintf("RemoveAll(%s)", showKeys(keys)), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.RemoveAll(ctx, keys)
			return result(err, n)
		})
	case 14:
		p := pick(ch, diffPrefixes)
		return mkOp(fmt.Sprintf("RemoveByPrefix(%q)", p), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.RemoveByPrefix(ctx, p)
			return result(err, n)
		})
	case 15:
		return mkOp(fmt.Sprintf("Exists(%q)", k), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.Exists(ctx, k)
			return result(err, ok)
		})
	case 16, 17:
		a, exp := pick(ch, diffAmounts), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("Increment(%q, %d, %v)", k, a, exp), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.Increment(ctx, k, a, exp)
			return result(err, n)
		})
	case 18:
		a, exp := pick(ch, diffFloatAmounts), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("IncrementFloat(%q, %v, %v)", k, a, exp), func(ctx context.Context, c cache.Client) outcome {
			f, err := c.IncrementFloat(ctx, k, a, exp)
			return result(err, f)
		}).guarded(func(ctx context.Context, ref cache.Client) bool { return exactIncrement(ctx, ref, k, a) })
	case 19:
		return setIfOp(ch, k, diffAmounts, "", func(c cache.Client) (setIfFunc[int64], setIfFunc[int64]) {
			return c.SetIfHigher, c.SetIfLower
		})
	case 20:
		return setIfOp(ch, k, diffFloatAmounts, "Float", func(c cache.Client) (setIfFunc[float64], setIfFunc[float64]) {
			return c.SetIfHigherFloat, c.SetIfLowerFloat
		})
	case 21:
		return mkOp(fmt.Sprintf("GetExpiration(%q)", k), func(ctx context.Context, c cache.Client) outcome {
			e, err := c.GetExpiration(ctx, k)
			return result(err, e)
		})
	case 22:
		keys := genKeys(ch)
		return mkOp(fmt.Sprintf("GetAllExpiration(%s)", showKeys(keys)), func(ctx context.Context, c cache.Client) outcome {
			m, err := c.GetAllExpiration(ctx, keys)
			return result(err, describeExps(m))
		})
	case 23:
		exp := pick(ch, diffExps)
		return mkOp(fmt.Sprintf("SetExpiration(%q, %v)", k, exp), func(ctx context.Context, c cache.Client) outcome {
			return result(c.SetExpiration(ctx, k, exp))
		})
	case 24:
		m := genExpMap(ch)
		return mkOp(fmt.Sprintf("SetAllExpiration(%v)", m), func(ctx context.Context, c cache.Client) outcome {
			return result(c.SetAllExpiration(ctx, m))
		})
	case 25:
		vs, exp := genValues(ch), pick(ch, diffExps)
		return mkOp(fmt.Sprintf("ListAdd(%q, %s, %v)", k, showValues(vs), exp), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.ListAdd(ctx, k, vs, exp)
			return result(err, n)
		})
	case 26:
		vs := genValues(ch)
		return mkOp(fmt.Sprintf("ListRemove(%q, %s)", k, showValues(vs)), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.ListRemove(ctx, k, vs)
			return result(err, n)
		})
	case 27:
		p := pick(ch, diffPages)
		return mkOp(fmt.Sprintf("GetList(%q, %+v)", k, p), func(ctx context.Context, c cache.Client) outcome {
			items, err := c.GetList(ctx, k, p)
			return result(err, describeList(items))
		})
	default:
		return genHashOp(ch, k)
	}
}

// setIfFunc is a SetIfHigher or SetIfLower method.
type setIfFunc[T int64 | float64] func(ctx context.Context, key string, value T, exp cache.Expiration) (T, error)

// setIfOp draws a SetIfHigher or SetIfLower call (name suffix "" or
// "Float"); methods picks the two methods of a client.
func setIfOp[T int64 | float64](ch chooser, k string, pool []T, suffix string, methods func(cache.Client) (higher, lower setIfFunc[T])) diffOp {
	v, exp, higher := pick(ch, pool), pick(ch, diffExps), ch.intn(2) == 0
	name := map[bool]string{true: "SetIfHigher", false: "SetIfLower"}[higher] + suffix
	return mkOp(fmt.Sprintf("%s(%q, %v, %v)", name, k, v, exp), func(ctx context.Context, c cache.Client) outcome {
		h, l := methods(c)
		f := l
		if higher {
			f = h
		}
		n, err := f(ctx, k, v, exp)
		return result(err, n)
	})
}

// genHashOp draws one cache.Hashes operation.
func genHashOp(ch chooser, k string) diffOp {
	f := pick(ch, diffFields)
	switch ch.intn(4) {
	case 0:
		v := pick(ch, diffValues)
		return mkOp(fmt.Sprintf("HashSet(%q, %q, %s)", k, f, showValue(v)), func(ctx context.Context, c cache.Client) outcome {
			ok, err := c.(cache.Hashes).HashSet(ctx, k, f, v)
			return result(err, ok)
		})
	case 1:
		return mkOp(fmt.Sprintf("HashGet(%q, %q)", k, f), func(ctx context.Context, c cache.Client) outcome {
			it, err := c.(cache.Hashes).HashGet(ctx, k, f)
			return result(err, describeItem(it))
		})
	case 2:
		return mkOp(fmt.Sprintf("HashLen(%q)", k), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.(cache.Hashes).HashLen(ctx, k)
			return result(err, n)
		})
	default:
		return mkOp(fmt.Sprintf("HashDelete(%q, %q)", k, f), func(ctx context.Context, c cache.Client) outcome {
			n, err := c.(cache.Hashes).HashDelete(ctx, k, f)
			return result(err, n)
		})
	}
}

func showValue(v any) string {
	switch x := v.(type) {
	case []byte:
		if x == nil {
			return "[]byte(nil)"
		}
		return fmt.Sprintf("[]byte(%q)", x)
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func showValues(vs []any) string {
	if vs == nil {
		return "nil"
	}
	s := "["
	for i, v := range vs {
		if i > 0 {
			s += " "
		}
		s += showValue(v)
	}
	return s + "]"
}

func showKeys(keys []string) string {
	if keys == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", keys)
}

func showMap(m map[string]any) string {
	if m == nil {
		return "nil"
	}
	s := "{"
	for _, k := range sortedKeys(m) {
		s += fmt.Sprintf("%q: %s ", k, showValue(m[k]))
	}
	return s + "}"
}

// exactIncrement reports whether IncrementFloat(k, amount) on ref is in
// the domain where float64 (memorycache) and long double (Redis) give the
// same stored text: a whole amount added to an integer (exact in both), or
// an amount and a stored number, and their sum, that are multiples of
// 1/256 below 2^40 (exact in both, and printed the same). Anything that is
// not a number at all is in the domain too: every implementation fails.
func exactIncrement(ctx context.Context, ref cache.Client, k string, amount float64) bool {
	if k == "" || math.IsNaN(amount) || math.IsInf(amount, 0) {
		return true
	}
	it, err := ref.Get(ctx, k)
	if err != nil {
		return true
	}
	raw := []byte("0") // a missing key counts as 0
	if it.HasValue() {
		if raw, err = it.Raw(nil); err != nil {
			return true
		}
	}
	if _, err := strconv.ParseInt(string(raw), 10, 64); err == nil && amount == math.Trunc(amount) && math.Abs(amount) < 1<<63 {
		return true
	}
	cur, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return true
	}
	exact := func(x float64) bool { return x*256 == math.Trunc(x*256) && math.Abs(x) < 1<<40 }
	return exact(cur) && exact(amount) && exact(cur+amount)
}
