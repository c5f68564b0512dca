package cache_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/cache"
)

// Regression tests of issue 16, one per cause that lives in package cache
// or shows through every implementation. Each runs on every
// implementation newImpls builds (memorycache plain and cloning, rediscache,
// the hybrid, scoped over memory and over Redis).

// numberCase is a number written, and a type it must not be read into.
type numberCase struct {
	value any
	read  func(cache.Item) error
	what  string
}

func readAs[T any](it cache.Item) error {
	var v T
	err := it.Decode(&v)
	if err == nil {
		return fmt.Errorf("read as %T: got %v, no error", v, v)
	}
	return err
}

var numberCases = []numberCase{
	{int64(math.MaxInt64), readAs[int32], "MaxInt64 as int32"},
	{2.5, readAs[int64], "2.5 as int64"},
	{-1, readAs[uint32], "-1 as uint32"},
	{uint64(math.MaxUint64), readAs[int64], "MaxUint64 as int64"},
	{1e300, readAs[uint64], "1e300 as uint64"},
	{1e300, readAs[float32], "1e300 as float32"},
	{300, readAs[int8], "300 as int8"},
	// Text no float64 holds exactly, stored as given ([]byte), as Redis
	// keeps the long double sum of INCRBYFLOAT: read exactly, never
	// rounded through float64.
	{[]byte("9007199254740992.5"), readAs[int64], "9007199254740992.5 as int64"},
	{[]byte("0.9999999999999999999"), readAs[int64], "0.9999999999999999999 as int64"},
	{[]byte("2.0000000000000001"), readAs[int64], "2.0000000000000001 as int64"},
	{[]byte("1e-400"), readAs[int64], "1e-400 as int64"},
	{[]byte("-9223372036854775809"), readAs[int64], "-9223372036854775809 as int64"},
	{[]byte("18446744073709551615.5"), readAs[uint64], "18446744073709551615.5 as uint64"},
	{[]byte("18446744073709551616"), readAs[uint64], "18446744073709551616 as uint64"},
	{[]byte("-2147483649.0"), readAs[int32], "-2147483649.0 as int32"},
	{[]byte("256.0"), readAs[uint8], "256.0 as uint8"},
}

// Cause 2: memorycache and the hybrid's L1 converted numbers silently
// (MaxInt64 read as int32 gave -1, 2.5 as int64 gave 2, -1 as uint32 gave
// 4294967295) where Redis answers a decode error.
func TestNumbersAreNotConvertedSilently(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, im := range newImpls(t, false) {
		for _, tc := range numberCases {
			if _, err := im.c.Set(ctx, "k", tc.value, cache.Expiration{}); err != nil {
				t.Fatalf("%s: Set(%v): %v", im.name, tc.value, err)
			}
			// Read twice: the hybrid's second read is an L1 hit.
			for range 2 {
				it, err := im.c.Get(ctx, "k")
				if err != nil {
					t.Fatalf("%s: Get: %v", im.name, err)
				}
				if err := tc.read(it); !errors.Is(err, cache.ErrDecode) {
					t.Errorf("%s: %s: %v; want ErrDecode", im.name, tc.what, err)
				}
			}
		}
	}
	// An Item holding a Go number converts it the same way.
	for _, tc := range numberCases {
		if err := tc.read(cache.NewValueItem(tc.value)); !errors.Is(err, cache.ErrDecode) {
			t.Errorf("value Item: %s: %v; want ErrDecode", tc.what, err)
		}
	}
	// Exact conversions still work.
	var i8 int8
	if err := cache.NewValueItem(int64(-128)).Decode(&i8); err != nil || i8 != -128 {
		t.Errorf("int64(-128) as int8: %v, %v", i8, err)
	}
	var u uint64
	if err := cache.NewValueItem(2.0).Decode(&u); err != nil || u != 2 {
		t.Errorf("2.0 as uint64: %v, %v", u, err)
	}
}

// A fraction finer than float64 was read into an integer by rounding it
// through float64: Set(k, 2^53) then IncrementFloat(k, 0.5) leaves
// "9007199254740992.5" in Redis (a long double sum), and Get[int64] gave
// 9007199254740992 with no error. memorycache adds in float64 and keeps
// "9007199254740992" (an intended difference, see package doc): a whole
// number, read as such. Either way an integer read gives the stored text's
// value exactly, or ErrDecode naming the text and the type.
func TestIntegerReadOfIncrementFloatIsExact(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, im := range newImpls(t, false) {
		if _, err := im.c.Set(ctx, "n", int64(1<<53), cache.Expiration{}); err != nil {
			t.Fatalf("%s: Set: %v", im.name, err)
		}
		if _, err := im.c.IncrementFloat(ctx, "n", 0.5, cache.Expiration{}); err != nil {
			t.Fatalf("%s: IncrementFloat: %v", im.name, err)
		}
		text, want, wantErr := "9007199254740992.5", int64(0), true
		if strings.Contains(im.name, "memory") {
			text, want, wantErr = "9007199254740992", 1<<53, false
		}
		if raw, err := cache.Get[[]byte](ctx, im.c, "n"); err != nil || string(raw.Value) != text {
			t.Fatalf("%s: stored text %q, %v; want %q", im.name, raw.Value, err, text)
		}
		for range 2 { // the hybrid's second read is an L1 hit
			got, err := cache.Get[int64](ctx, im.c, "n")
			switch {
			case wantErr && (!errors.Is(err, cache.ErrDecode) || !strings.Contains(err.Error(), text) || !strings.Contains(err.Error(), "int64")):
				t.Errorf("%s: Get[int64] of %q = %d, %v; want ErrDecode naming the value and int64", im.name, text, got.Value, err)
			case !wantErr && (err != nil || got.Value != want):
				t.Errorf("%s: Get[int64] of %q = %d, %v; want %d", im.name, text, got.Value, err, want)
			}
		}
	}
}

// Cause 4: nil collections were accepted (GetAll(nil), GetAllExpiration(nil),
// SetAll(nil), SetAllExpiration(nil), ListAdd(k, nil), ListRemove(k, nil)
// returned empty results) where the specification wants an invalid-argument
// error; memorycache also checked the key's type for a nil or empty list of
// values where Redis does not look at the key.
func TestNilCollectionsAreRefused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	none := cache.Expiration{}
	for _, im := range newImpls(t, false) {
		c := im.c
		if _, err := c.Set(ctx, "v", 1, none); err != nil {
			t.Fatal(err)
		}
		for name, call := range map[string]func() error{
			"GetAll":           func() error { _, err := c.GetAll(ctx, nil); return err },
			"GetAllExpiration": func() error { _, err := c.GetAllExpiration(ctx, nil); return err },
			"RemoveAll":        func() error { _, err := c.RemoveAll(ctx, nil); return err },
			"SetAll":           func() error { _, err := c.SetAll(ctx, nil, none); return err },
			"SetAllExpiration": func() error { return c.SetAllExpiration(ctx, nil) },
			"ListAdd":          func() error { _, err := c.ListAdd(ctx, "v", nil, none); return err },
			"ListRemove":       func() error { _, err := c.ListRemove(ctx, "v", nil); return err },
		} {
			if err := call(); !errors.Is(err, cache.ErrInvalidArgument) {
				t.Errorf("%s: %s(nil): %v; want ErrInvalidArgument", im.name, name, err)
			}
		}
		for name, call := range map[string]func() (int64, error){
			"ListAdd":    func() (int64, error) { return c.ListAdd(ctx, "v", []any{}, none) },
			"ListRemove": func() (int64, error) { return c.ListRemove(ctx, "v", []any{}) },
		} {
			if n, err := call(); n != 0 || err != nil {
				t.Errorf("%s: %s(empty) on a plain value = %d, %v; want 0, nil", im.name, name, n, err)
			}
		}
	}
}
