package sightings

import "math/bits"

// wide is a signed 128-bit integer (two's complement), the accumulator of the
// Predictor's fixed-point sums. Integer addition is associative and
// commutative, so a sum does not depend on the order of its terms, and 128
// bits cannot overflow with terms below 2^63 unless 2^64 of them are added.
type wide struct {
	hi int64
	lo uint64
}

// add adds v to w.
func (w *wide) add(v int64) {
	ext := int64(0)
	if v < 0 {
		ext = -1 // sign extension of v into the high word
	}
	w.addWide(wide{hi: ext, lo: uint64(v)})
}

// addWide adds v to w.
func (w *wide) addWide(v wide) {
	lo, carry := bits.Add64(w.lo, v.lo, 0)
	w.hi += v.hi + int64(carry)
	w.lo = lo
}

// isZero reports whether w is 0.
func (w wide) isZero() bool { return w.hi == 0 && w.lo == 0 }

// toFloat converts w to the nearest-ish float64 (exact below 2^53), the same
// on every platform.
func (w wide) toFloat() float64 {
	neg := w.hi < 0
	hi, lo := uint64(w.hi), w.lo
	if neg { // two's complement negation of (hi, lo)
		var borrow uint64
		lo, borrow = bits.Sub64(0, lo, 0)
		hi, _ = bits.Sub64(0, hi, borrow)
	}
	f := float64(hi)*0x1p64 + float64(lo)
	if neg {
		return -f
	}
	return f
}
