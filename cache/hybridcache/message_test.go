package hybridcache

import (
	"math"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// A message carries each key's TTL in L2 in whole milliseconds, counted as
// rediscache counts it. It rounded up by adding 999999 ns first, which
// overflowed for a TTL near math.MaxInt64 (a TTL the cache allows, about
// 292 years) and sent a negative TTL, read as none.
func TestMessageTTLs(t *testing.T) {
	t.Parallel()
	exps := []cache.Expiration{
		{},
		cache.ExpiresIn(1500 * time.Microsecond),
		cache.ExpiresIn(math.MaxInt64),
	}
	ch := change{}
	for i, exp := range exps {
		ch.vals = append(ch.vals, known(string(rune('a'+i)), []byte("1"), exp))
	}
	m := newMessage("id", ch)
	want := []int64{0, 2, math.MaxInt64 / int64(time.Millisecond)}
	if len(m.TTLs) != len(want) {
		t.Fatalf("TTLs = %v; want %v", m.TTLs, want)
	}
	for i, ms := range m.TTLs {
		if ms != want[i] {
			t.Errorf("TTL of %v = %d ms; want %d", exps[i], ms, want[i])
		}
	}
}
