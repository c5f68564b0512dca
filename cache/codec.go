package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
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
//
// Integer destinations read the text exactly (see exactInteger), never
// through float64, so "2.0000000000000001" is a fraction, not 2. Float
// destinations read it as strconv.ParseFloat does, rounded to the nearest
// float64 (then float32 for a float32): a value beyond the destination's
// range is ErrDecode (1e300 into a float32, 1e400 into a float64), one
// too small for it reads as zero, as any float parse gives it.
func decodeNumber(data []byte, dst any) (bool, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false, nil
	}
	ev := rv.Elem()
	s := string(bytes.TrimSpace(data))
	switch ev.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && !ev.OverflowInt(n) {
			ev.SetInt(n)
			return true, nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n, err := strconv.ParseUint(s, 10, 64); err == nil && !ev.OverflowUint(n) {
			ev.SetUint(n)
			return true, nil
		}
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
	default:
		return false, nil
	}
	// An integer destination, and text that is not a plain decimal integer
	// it holds: read it exactly.
	x, err := exactInteger(s, ev.Type())
	if err != nil {
		return true, err
	}
	if ev.CanInt() {
		ev.SetInt(x.Int64())
	} else {
		ev.SetUint(x.Uint64())
	}
	return true, nil
}

// exactInteger reads s, number text that is not a plain decimal integer
// of typ's range, as the integer type typ: it returns the integer s
// denotes exactly ("2.0", "1e3", "-0"), or ErrDecode naming s and typ when
// s is not a number, is a fraction however close to a whole number
// ("9007199254740992.5", "0.9999999999999999999", "1e-400") or lies out of
// typ's range ("-9223372036854775809" for an int64). Rounding s through
// float64 first would hide all three.
func exactInteger(s string, typ reflect.Type) (*big.Int, error) {
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return nil, fmt.Errorf("%w: %q is not a number; want an integer for %s", ErrDecode, s, typ)
	case math.IsNaN(f) || (err == nil && math.IsInf(f, 0)):
		return nil, fmt.Errorf("%w: %q is not a finite number; want an integer for %s", ErrDecode, s, typ)
	case err != nil || math.Abs(f) > 1<<65:
		// Beyond float64, or far beyond every integer type: no need to
		// read it exactly (which could take a power of ten of any size).
		return nil, outOfRange(s, typ)
	case f == 0 && !zeroMantissa(s):
		// Not zero, yet below float64's smallest: a fraction, found
		// without reading its exponent exactly.
		return nil, notWhole(s, typ)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%w: %q cannot be read exactly; want an integer for %s", ErrDecode, s, typ)
	}
	if !r.IsInt() {
		return nil, notWhole(s, typ)
	}
	x := r.Num()
	lo, hi := integerRange(typ)
	if x.Cmp(lo) < 0 || x.Cmp(hi) > 0 {
		return nil, outOfRange(s, typ)
	}
	return x, nil
}

// notWhole is the error of a fraction read into the integer type typ.
func notWhole(s string, typ reflect.Type) error {
	return fmt.Errorf("%w: %q is not an integer; %s holds integers only", ErrDecode, s, typ)
}

// outOfRange is the error of a number beyond the range of the integer type
// typ.
func outOfRange(s string, typ reflect.Type) error {
	lo, hi := integerRange(typ)
	return fmt.Errorf("%w: %q is out of the range of %s (%v to %v)", ErrDecode, s, typ, lo, hi)
}

// integerRange returns the least and greatest values of the integer type
// typ.
func integerRange(typ reflect.Type) (lo, hi *big.Int) {
	bits := uint(typ.Bits())
	one := big.NewInt(1)
	switch typ.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return new(big.Int), new(big.Int).Sub(new(big.Int).Lsh(one, bits), one)
	}
	hi = new(big.Int).Sub(new(big.Int).Lsh(one, bits-1), one)
	return new(big.Int).Neg(new(big.Int).Add(hi, one)), hi
}

// zeroMantissa reports whether the digits of the number text s before
// any exponent are all zeros: whether s denotes 0 whatever its exponent.
func zeroMantissa(s string) bool {
	s = strings.TrimLeft(s, "+-")
	exp := "eE"
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, exp = s[2:], "pP"
	}
	if i := strings.IndexAny(s, exp); i >= 0 {
		s = s[:i]
	}
	return strings.Trim(s, "0._") == ""
}
