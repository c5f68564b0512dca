package redisnum

import (
	"math"
	"testing"
	"time"
)

func TestMillis(t *testing.T) {
	t.Parallel()
	top := int64(math.MaxInt64 / int64(time.Millisecond))
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{
		{-time.Second, 0},
		{0, 0},
		{1, 1},
		{time.Millisecond, 1},
		{1500 * time.Microsecond, 2},
		{time.Hour, 3_600_000},
		// At the top the result rounds down, to fit a time.Duration.
		{math.MaxInt64, top},
	} {
		got := Millis(tc.d)
		if got != tc.want {
			t.Errorf("Millis(%v) = %d; want %d", tc.d, got, tc.want)
		}
		if got > top {
			t.Errorf("Millis(%v) = %d ms does not fit a time.Duration", tc.d, got)
		}
	}
}
