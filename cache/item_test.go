package cache_test

import (
	"errors"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

type user struct {
	Name    string  `json:"name"`
	Balance float64 `json:"balance"`
}

func TestItemTellsMissFromNullFromZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		item             cache.Item
		hasValue, isNull bool
	}{
		{"miss", cache.Item{}, false, false},
		{"encoded null", cache.NewEncodedItem([]byte("null"), nil), true, true},
		{"encoded zero", cache.NewEncodedItem([]byte("0"), nil), true, false},
		{"encoded empty string", cache.NewEncodedItem([]byte(`""`), nil), true, false},
		{"value nil", cache.NewValueItem(nil), true, true},
		{"value nil pointer", cache.NewValueItem((*user)(nil)), true, true},
		{"value nil map", cache.NewValueItem(map[string]int(nil)), true, true},
		{"value zero", cache.NewValueItem(0), true, false},
	} {
		if tc.item.HasValue() != tc.hasValue || tc.item.IsNull() != tc.isNull {
			t.Errorf("%s: HasValue %v IsNull %v; want %v %v", tc.name,
				tc.item.HasValue(), tc.item.IsNull(), tc.hasValue, tc.isNull)
		}
	}
}

func TestItemDecode(t *testing.T) {
	t.Parallel()
	var n int64
	if err := cache.NewEncodedItem([]byte("42"), nil).Decode(&n); err != nil || n != 42 {
		t.Fatalf("decode 42 into int64: %d, %v", n, err)
	}
	var f float64
	if err := cache.NewEncodedItem([]byte("4.5"), nil).Decode(&f); err != nil || f != 4.5 {
		t.Fatalf("decode 4.5 into float64: %v, %v", f, err)
	}
	if err := cache.NewEncodedItem([]byte("7"), nil).Decode(&f); err != nil || f != 7 {
		t.Fatalf("decode 7 into float64: %v, %v", f, err)
	}
	var i int
	if err := cache.NewEncodedItem([]byte("4.5"), nil).Decode(&i); !errors.Is(err, cache.ErrDecode) {
		t.Fatalf("decode 4.5 into int: %v, want ErrDecode", err)
	}
	var i8 int8
	if err := cache.NewEncodedItem([]byte("300"), nil).Decode(&i8); !errors.Is(err, cache.ErrDecode) {
		t.Fatalf("decode 300 into int8: %v, want ErrDecode", err)
	}
	var u user
	if err := cache.NewEncodedItem([]byte(`{"name":"Alice","balance":100}`), nil).Decode(&u); err != nil || u.Name != "Alice" {
		t.Fatalf("decode struct: %+v, %v", u, err)
	}
	if err := cache.NewEncodedItem([]byte(`{"name":`), nil).Decode(&u); !errors.Is(err, cache.ErrDecode) {
		t.Fatalf("decode broken JSON: %v, want ErrDecode", err)
	}
	var anyV any
	if err := cache.NewEncodedItem([]byte("12"), nil).Decode(&anyV); err != nil || anyV != int64(12) {
		t.Fatalf("decode 12 into any: %#v, %v", anyV, err)
	}
	var raw []byte
	if err := cache.NewEncodedItem([]byte(`"x"`), nil).Decode(&raw); err != nil || string(raw) != `"x"` {
		t.Fatalf("decode into []byte: %q, %v", raw, err)
	}
	if err := cache.NewEncodedItem([]byte("1"), nil).Decode(n); !errors.Is(err, cache.ErrDecode) {
		t.Fatalf("decode into a non-pointer: %v, want ErrDecode", err)
	}
	keep := "unchanged"
	if err := (cache.Item{}).Decode(&keep); err != nil || keep != "unchanged" {
		t.Fatalf("decoding a miss changed the destination: %q, %v", keep, err)
	}
}

func TestValueItemDecodeConverts(t *testing.T) {
	t.Parallel()
	var f float64
	if err := cache.NewValueItem(3).Decode(&f); err != nil || f != 3 {
		t.Fatalf("int value into float64: %v, %v", f, err)
	}
	var u user
	if err := cache.NewValueItem(&user{Name: "Bob"}).Decode(&u); err != nil || u.Name != "Bob" {
		t.Fatalf("*user value into user: %+v, %v", u, err)
	}
	var m map[string]any
	if err := cache.NewValueItem(user{Name: "Eve"}).Decode(&m); err != nil || m["name"] != "Eve" {
		t.Fatalf("user value into map (through JSON): %v, %v", m, err)
	}
	v, err := cache.NewValueItem(user{Name: "Eve"}).Value()
	if err != nil || v.(user).Name != "Eve" {
		t.Fatalf("Value of a value item: %#v, %v", v, err)
	}
	raw, err := cache.NewValueItem(2.5).Raw(nil)
	if err != nil || string(raw) != "2.5" {
		t.Fatalf("Raw of a value item: %q, %v", raw, err)
	}
}

func TestValueOf(t *testing.T) {
	t.Parallel()
	got, err := cache.ValueOf[user](cache.NewEncodedItem([]byte(`{"name":"Ann"}`), nil))
	if err != nil || !got.HasValue || got.IsNull || got.Value.Name != "Ann" {
		t.Fatalf("ValueOf user: %+v, %v", got, err)
	}
	null, err := cache.ValueOf[*user](cache.NewEncodedItem([]byte("null"), nil))
	if err != nil || !null.HasValue || !null.IsNull || null.Value != nil {
		t.Fatalf("ValueOf null: %+v, %v", null, err)
	}
	miss, err := cache.ValueOf[int](cache.Item{})
	if err != nil || miss.HasValue || miss.IsNull {
		t.Fatalf("ValueOf miss: %+v, %v", miss, err)
	}
}

func TestExpirationStates(t *testing.T) {
	t.Parallel()
	var none cache.Expiration
	if !none.IsNone() || none.IsExpired() || none.TTL() != 0 || none.String() != "no expiration" {
		t.Fatalf("zero Expiration: none %v expired %v ttl %v %q", none.IsNone(), none.IsExpired(), none.TTL(), none)
	}
	in := cache.ExpiresIn(time.Minute)
	if in.IsNone() || in.IsExpired() || in.TTL() != time.Minute {
		t.Fatalf("ExpiresIn(1m): %v", in)
	}
	for _, d := range []time.Duration{0, -time.Second} {
		e := cache.ExpiresIn(d)
		if e.IsNone() || !e.IsExpired() {
			t.Fatalf("ExpiresIn(%v) should be expired: %v", d, e)
		}
	}
}
