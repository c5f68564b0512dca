package cache_test

import (
	"errors"
	"math"
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
