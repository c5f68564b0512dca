package sightings

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestWide checks the 128-bit accumulator against math/big, past the range
// of int64 in both directions.
func TestWide(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(4, 4))
	terms := []int64{math.MaxInt64, math.MaxInt64, math.MaxInt64, -1, math.MinInt64, 0}
	for range 1000 {
		terms = append(terms, int64(r.Uint64()))
	}
	var w, parts [2]wide
	want := new(big.Int)
	for i, v := range terms {
		w[0].add(v)
		parts[i%2].add(v)
		want.Add(want, big.NewInt(v))
		if got := w[0].toFloat(); got != bigFloat(want) {
			t.Fatalf("after %d terms: %v, want %v", i+1, got, bigFloat(want))
		}
	}
	w[1] = parts[1]
	w[1].addWide(parts[0])
	if w[1] != w[0] {
		t.Fatalf("sum of two halves = %+v, want %+v", w[1], w[0])
	}
	var neg wide
	neg.add(-5)
	if got := neg.toFloat(); got != -5 || neg.isZero() {
		t.Fatalf("wide(-5) = %v", got)
	}
	neg.add(5)
	if !neg.isZero() {
		t.Fatalf("-5 + 5 = %+v, want zero", neg)
	}
}

// bigFloat converts b to float64 the way wide.toFloat does: the magnitude
// as high word × 2^64 + low word.
func bigFloat(b *big.Int) float64 {
	abs := new(big.Int).Abs(b)
	lo := new(big.Int).And(abs, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	hi := new(big.Int).Rsh(abs, 64).Uint64()
	f := float64(hi)*0x1p64 + float64(lo)
	if b.Sign() < 0 {
		return -f
	}
	return f
}
