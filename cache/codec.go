package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// Codec encodes and decodes cached values. Numbers never go through the
// Codec: they are stored as decimal text so Redis can increment them.
type Codec interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value pointed to by v.
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the default Codec, on encoding/json.
type JSONCodec struct{}

// Marshal encodes v as JSON.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON data into v.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// nullBytes is how a nil value is encoded whatever the codec.
var nullBytes = []byte("null")

// Encode turns v into the bytes an implementation stores: integers and floats
// as decimal text, nil as "null", []byte as given, everything else through
// codec. Implementations call it; users rarely need to.
func Encode(codec Codec, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nullBytes, nil
	case []byte:
		return x, nil
	case int:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(nil, x, 10), nil
	case uint:
		return strconv.AppendUint(nil, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(nil, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(nil, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(nil, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(nil, x, 10), nil
	case float32:
		return FormatFloat(float64(x)), nil
	case float64:
		return FormatFloat(x), nil
	}
	if codec == nil {
		codec = JSONCodec{}
	}
	b, err := codec.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cache: encode %T: %w", v, err)
	}
	return b, nil
}

// FormatFloat formats f the way Redis INCRBYFLOAT does: the shortest decimal
// text that reads back as f, with no exponent for ordinary magnitudes.
func FormatFloat(f float64) []byte {
	return strconv.AppendFloat(nil, f, 'f', -1, 64)
}

// decodeNumber parses decimal text into a numeric destination, refusing
// with ErrDecode a value the destination cannot hold exactly: out of its
// range, a fraction into an integer, a negative number into an unsigned
// one. It reports false when dst is not a pointer to a number.
func decodeNumber(data []byte, dst any) (bool, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false, nil
	}
	ev := rv.Elem()
	s := string(bytes.TrimSpace(data))
	switch ev.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
				return true, fmt.Errorf("%w: %q is not an integer %s can hold", ErrDecode, s, ev.Type())
			}
			n = int64(f)
		}
		if ev.OverflowInt(n) {
			return true, fmt.Errorf("%w: %d overflows %s", ErrDecode, n, ev.Type())
		}
		ev.SetInt(n)
		return true, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) || f < 0 || f >= 1<<64 {
				return true, fmt.Errorf("%w: %q is not an unsigned integer %s can hold", ErrDecode, s, ev.Type())
			}
			n = uint64(f)
		}
		if ev.OverflowUint(n) {
			return true, fmt.Errorf("%w: %d overflows %s", ErrDecode, n, ev.Type())
		}
		ev.SetUint(n)
		return true, nil
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return true, fmt.Errorf("%w: %q is not a number", ErrDecode, s)
		}
		if err != nil || ev.OverflowFloat(f) {
			return true, fmt.Errorf("%w: %q overflows %s", ErrDecode, s, ev.Type())
		}
		ev.SetFloat(f)
		return true, nil
	}
	return false, nil
}
