package cache

import (
	"bytes"
	"fmt"
	"reflect"
)

// Item is the result of a read. Its zero value is a miss.
//
// An Item holds either the encoded bytes read from a store (NewEncodedItem)
// or the value itself kept by an in-process store (NewValueItem).
type Item struct {
	present bool
	encoded bool
	raw     []byte
	value   any
	codec   Codec
}

// NewEncodedItem returns a present Item holding bytes produced by Encode with
// codec (nil means JSONCodec).
func NewEncodedItem(raw []byte, codec Codec) Item {
	if codec == nil {
		codec = JSONCodec{}
	}
	return Item{present: true, encoded: true, raw: raw, codec: codec}
}

// NewValueItem returns a present Item holding v itself.
func NewValueItem(v any) Item {
	return Item{present: true, value: v}
}

// HasValue reports whether the key existed (a value cached as null counts).
func (it Item) HasValue() bool { return it.present }

// IsNull reports whether the key existed and held null (a nil value).
func (it Item) IsNull() bool {
	if !it.present {
		return false
	}
	if it.encoded {
		return bytes.Equal(bytes.TrimSpace(it.raw), nullBytes)
	}
	if it.value == nil {
		return true
	}
	rv := reflect.ValueOf(it.value)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// Raw returns the encoded bytes of the value, encoding it with codec when the
// Item holds a value itself (nil codec means JSONCodec). It returns nil for
// a miss.
func (it Item) Raw(codec Codec) ([]byte, error) {
	if !it.present {
		return nil, nil
	}
	if it.encoded {
		return it.raw, nil
	}
	return Encode(codec, it.value)
}

// Value returns the value an in-process store holds, or the decoded JSON form
// of stored bytes (numbers as float64 or int64, objects as map[string]any).
// It returns nil for a miss.
func (it Item) Value() (any, error) {
	if !it.present {
		return nil, nil
	}
	if !it.encoded {
		return it.value, nil
	}
	var v any
	if err := it.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Decode stores the value into the variable dst points to. Decoding a miss
// or a null leaves dst unchanged and returns nil; check HasValue and IsNull.
func (it Item) Decode(dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: destination must be a non-nil pointer, got %T", ErrDecode, dst)
	}
	if !it.present || it.IsNull() {
		return nil
	}
	if !it.encoded {
		return assign(rv.Elem(), it.value)
	}
	if ok, err := decodeNumber(it.raw, dst); ok {
		return err
	}
	if b, ok := dst.(*[]byte); ok {
		*b = append((*b)[:0], it.raw...)
		return nil
	}
	if p, ok := dst.(*any); ok {
		if n, ok := parseNumberAny(it.raw); ok {
			*p = n
			return nil
		}
	}
	if err := it.codec.Unmarshal(it.raw, dst); err != nil {
		return fmt.Errorf("%w into %T: %v", ErrDecode, dst, err)
	}
	return nil
}

// assign sets dst to v, converting between numeric kinds and between a value
// and a pointer to it. A number is converted as a number read from Redis
// is decoded, through its decimal text: a value the destination cannot hold
// exactly (out of range, a fraction into an integer, a negative number into
// an unsigned one) is ErrDecode, never wrapped or truncated.
func assign(dst reflect.Value, v any) error {
	sv := reflect.ValueOf(v)
	switch {
	case sv.Type().AssignableTo(dst.Type()):
		dst.Set(sv)
		return nil
	case isNumberKind(sv.Kind()) && isNumberKind(dst.Kind()):
		raw, err := Encode(JSONCodec{}, v)
		if err != nil {
			return err
		}
		_, err = decodeNumber(raw, dst.Addr().Interface())
		return err
	case sv.Kind() == reflect.Pointer && !sv.IsNil() && sv.Elem().Type().AssignableTo(dst.Type()):
		dst.Set(sv.Elem())
		return nil
	}
	// Fall back to a round trip through JSON, as a distributed store would.
	raw, err := Encode(JSONCodec{}, v)
	if err != nil {
		return err
	}
	return NewEncodedItem(raw, JSONCodec{}).Decode(dst.Addr().Interface())
}

func isNumberKind(k reflect.Kind) bool {
	return (k >= reflect.Int && k <= reflect.Uint64) || k == reflect.Float32 || k == reflect.Float64
}
