// Package redisnum holds Redis's rules for numbers kept as text, in one
// place: what INCRBY accepts as an integer (string2ll), what INCRBYFLOAT
// accepts as a number (string2ld), what the set_if script accepts (Lua 5.1's
// tonumber) and how it compares two numbers, and how SetIfHigher's result
// is computed from the previous text, and how TTLs are counted in
// milliseconds (PX, PEXPIRE). rediscache uses it for the part of
// its work done in Go; memorycache uses all of it to answer exactly as
// Redis does.
package redisnum

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Int parses s as Redis's string2ll does, which INCRBY and INCRBY's
// fallback in the incr script rely on: an optional '-', then decimal
// digits without a leading zero (only "0" itself), within int64; no '+',
// no spaces, no "-0".
func Int(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	p := s
	if p[0] == '-' {
		p = p[1:]
	}
	if len(p) == 0 || p[0] < '1' || p[0] > '9' {
		return 0, false
	}
	for _, b := range p {
		if b < '0' || b > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil
}

// Float parses s as Redis's string2ld does, which INCRBYFLOAT relies on:
// the whole of s is a number (infinities included), without leading space,
// not NaN, not out of range.
func Float(s []byte) (float64, bool) {
	if len(s) == 0 || isSpace(s[0]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// LuaNumber parses s as Lua 5.1's tonumber does in the set_if script: a
// number (infinities and NaN included) or a hexadecimal integer, with
// spaces around it allowed.
func LuaNumber(s []byte) (float64, bool) {
	t := strings.TrimFunc(string(s), func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	if t == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil || (err.(*strconv.NumError)).Err == strconv.ErrRange {
		return f, true
	}
	u := strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	if len(u) > 2 && (u[:2] == "0x" || u[:2] == "0X") {
		if n, err := strconv.ParseUint(u[2:], 16, 64); err == nil {
			if t[0] == '-' {
				return -float64(n), true
			}
			return float64(n), true
		}
	}
	return 0, false
}

func isSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// digits returns the sign and the digits, leading zeros dropped, of s when
// s is an optional '-' followed by decimal digits (the set_if script's
// int_part).
func digits(s []byte) (neg bool, d string, ok bool) {
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 {
		return false, "", false
	}
	for _, b := range s {
		if b < '0' || b > '9' {
			return false, "", false
		}
	}
	d = strings.TrimLeft(string(s), "0")
	return neg && d != "", d, true
}

// Compare returns -1, 0 or 1 as a < b, a == b or a > b, as the set_if
// script compares: exactly, as decimal text, when both are integers written
// in digits, and otherwise as doubles (NaN compares equal to everything).
// Both must be numbers (LuaNumber).
func Compare(a, b []byte) int {
	aneg, ad, aok := digits(a)
	bneg, bd, bok := digits(b)
	if aok && bok {
		if aneg != bneg {
			if aneg {
				return -1
			}
			return 1
		}
		r := 0
		switch {
		case len(ad) != len(bd):
			r = cmpInt(len(ad), len(bd))
		case ad != bd:
			r = strings.Compare(ad, bd)
		}
		if aneg {
			return -r
		}
		return r
	}
	x, _ := LuaNumber(a)
	y, _ := LuaNumber(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpInt(a, b int) int {
	if a < b {
		return -1
	}
	return 1
}

// IntDelta returns SetIfHigher's (higher) or SetIfLower's result after
// value replaced the number whose text was old: the difference between the
// two, exactly (with int64 wrap-around) when old is an integer, else
// through float64. It reports false when old is not a number Go can read.
func IntDelta(value int64, old string, higher bool) (int64, bool) {
	var d int64
	if o, err := strconv.ParseInt(old, 10, 64); err == nil {
		d = value - o
	} else {
		o, err := strconv.ParseFloat(old, 64)
		if err != nil {
			return 0, false
		}
		d = int64(float64(value) - o)
	}
	if !higher {
		d = -d
	}
	return d, true
}

// FloatDelta is IntDelta for SetIfHigherFloat and SetIfLowerFloat.
func FloatDelta(value float64, old string, higher bool) (float64, bool) {
	o, err := strconv.ParseFloat(old, 64)
	if err != nil {
		return 0, false
	}
	if higher {
		return value - o, true
	}
	return o - value, true
}

// Whole returns f as an int64 when it is a whole number in range: the
// IncrementFloat amounts the incr script adds with INCRBY.
func Whole(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// Millis returns d in whole milliseconds, as PX and PEXPIRE count a TTL:
// rounded up, so a positive d stays positive, except at the very top of
// the range, where it rounds down so that the result still fits a
// time.Duration. It returns 0 for d <= 0.
func Millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 && ms < math.MaxInt64/int64(time.Millisecond) {
		ms++
	}
	return ms
}
