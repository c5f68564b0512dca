package cache_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/cache"
)

func TestEncodeStoresNumbersAsDecimalText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   any
		want string
	}{
		{0, "0"}, {int64(-42), "-42"}, {uint8(7), "7"}, {uint64(math.MaxUint64), "18446744073709551615"},
		{2.5, "2.5"}, {float32(0.25), "0.25"}, {1e21, "1000000000000000000000"}, {4.0, "4"},
		{nil, "null"}, {"abc", `"abc"`}, {true, "true"},
		{struct {
			A int `json:"a"`
		}{3}, `{"a":3}`},
	} {
		got, err := cache.Encode(nil, tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("Encode(%#v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestEncodeReportsCodecErrors(t *testing.T) {
	t.Parallel()
	_, err := cache.Encode(cache.JSONCodec{}, make(chan int))
	if err == nil {
		t.Fatal("Encode(chan) succeeded")
	}
}

// reverseCodec stores strings reversed, to show numbers bypass the codec.
type reverseCodec struct{}

func (reverseCodec) Marshal(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, errors.New("reverseCodec: strings only")
	}
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b, nil
}

func (c reverseCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*string)
	if !ok {
		return errors.New("reverseCodec: strings only")
	}
	b, _ := c.Marshal(string(data))
	*p = string(b)
	return nil
}

func TestPluggableCodec(t *testing.T) {
	t.Parallel()
	raw, err := cache.Encode(reverseCodec{}, "abc")
	if err != nil || string(raw) != "cba" {
		t.Fatalf("Encode with reverseCodec = %q, %v", raw, err)
	}
	var s string
	if err := cache.NewEncodedItem(raw, reverseCodec{}).Decode(&s); err != nil || s != "abc" {
		t.Fatalf("Decode with reverseCodec = %q, %v", s, err)
	}
	n, _ := cache.Encode(reverseCodec{}, 12)
	var got int
	if err := cache.NewEncodedItem(n, reverseCodec{}).Decode(&got); err != nil || got != 12 {
		t.Fatalf("numbers bypass the codec: got %d, %v", got, err)
	}
}

// Integer destinations read number text exactly: a fraction (however close
// to a whole number) or a value out of the type's range is ErrDecode naming
// the text and the type; an exact integer in another spelling is read.
// Float destinations round, and refuse only what overflows them.
func TestDecodeNumberTextExactly(t *testing.T) {
	t.Parallel()
	dec := func(s string, dst any) error { return cache.NewEncodedItem([]byte(s), nil).Decode(dst) }
	for _, tc := range []struct {
		text, typ string
		dst       any
	}{
		{"9007199254740992.5", "int64", new(int64)},
		{"0.9999999999999999999", "int64", new(int64)},
		{"2.0000000000000001", "int64", new(int64)},
		{"1e-400", "int64", new(int64)},
		{"-1e-999999999", "int", new(int)},
		{"-9223372036854775809", "int64", new(int64)},
		{"9223372036854775808.0", "int64", new(int64)},
		{"1e400", "int64", new(int64)},
		{"Inf", "int64", new(int64)},
		{"NaN", "int32", new(int32)},
		{"1/2", "int64", new(int64)},
		{"-129", "int8", new(int8)},
		{"128.0", "int8", new(int8)},
		{"-1.0", "uint", new(uint)},
		{"-0.5", "uint64", new(uint64)},
		{"65536e0", "uint16", new(uint16)},
		{"4294967296.000", "uint32", new(uint32)},
		{"18446744073709551616.0", "uint64", new(uint64)},
		{"1e400", "float64", new(float64)},
		{"3.5e38", "float32", new(float32)},
	} {
		err := dec(tc.text, tc.dst)
		if !errors.Is(err, cache.ErrDecode) || !strings.Contains(err.Error(), strconv.Quote(tc.text)) || !strings.Contains(err.Error(), tc.typ) {
			t.Errorf("%q into %s: %v; want ErrDecode naming %q and %s", tc.text, tc.typ, err, tc.text, tc.typ)
		}
	}

	var i64 int64
	for text, want := range map[string]int64{
		"2.0": 2, "1e3": 1000, "-0": 0, "0e-999999999": 0, "-0.000": 0, " 7 ": 7,
		"9223372036854775807.0": math.MaxInt64, "-9223372036854775808.000": math.MinInt64,
		"9007199254740993.0": 1<<53 + 1, "0x10p0": 16,
	} {
		if err := dec(text, &i64); err != nil || i64 != want {
			t.Errorf("%q into int64 = %d, %v; want %d", text, i64, err, want)
		}
	}
	var i8 int8
	if err := dec("-128.0", &i8); err != nil || i8 != -128 {
		t.Errorf(`"-128.0" into int8 = %d, %v; want -128`, i8, err)
	}
	var u64 uint64
	if err := dec("18446744073709551615.0", &u64); err != nil || u64 != math.MaxUint64 {
		t.Errorf(`"18446744073709551615.0" into uint64 = %d, %v; want MaxUint64`, u64, err)
	}
	var f64 float64
	if err := dec("9007199254740992.5", &f64); err != nil || f64 != 1<<53 {
		t.Errorf(`"9007199254740992.5" into float64 = %v, %v; want 2^53 (rounded)`, f64, err)
	}
	if err := dec("1e-400", &f64); err != nil || f64 != 0 {
		t.Errorf(`"1e-400" into float64 = %v, %v; want 0 (too small for float64)`, f64, err)
	}
	var f32 float32
	if err := dec("0.1", &f32); err != nil || f32 != 0.1 {
		t.Errorf(`"0.1" into float32 = %v, %v; want 0.1`, f32, err)
	}
}
