package heapfloor

import (
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, tc := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 32 * mib, 800},        // no collection yet: the most
		{1 * mib, 32 * mib, 800},  // 3100 capped: the goal is the floor
		{4 * mib, 32 * mib, 700},  // 4 MiB × 8 = 32 MiB
		{8 * mib, 32 * mib, 300},  // 8 × 4
		{15 * mib, 32 * mib, 113}, // just under half the floor
		{16 * mib, 32 * mib, 100}, // half the floor: Go's default
		{1 << 30, 32 * mib, 100},  // a large live heap: the default
		{1 * mib, 2 * mib, 100},   // a floor under the runtime's minimum
		{1 * mib, 0, 100},         // no floor
		{1 * mib, 1 << 30, 25600}, // 1 GiB floor: 1023 × 100 capped at 25600
	} {
		if got := Percent(tc.live, tc.floor); got != tc.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", tc.live, tc.floor, got, tc.want)
		}
	}
}

// TestPercentBounds checks Percent's promises on generated heaps: never
// below Go's default, a goal never above max(floor, twice the live heap),
// and a goal at the floor whenever the cap allows it.
func TestPercentBounds(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		floor := r.Uint64N(4<<30) + 1
		live := r.Uint64N(8 << 30)
		p := Percent(live, floor)
		if p < 100 {
			t.Fatalf("Percent(%d, %d) = %d, below Go's default", live, floor, p)
		}
		goal := live + live*uint64(p)/100
		if min := uint64(heapMinimum) * uint64(p) / 100; goal < min {
			goal = min
		}
		if goal > max(floor, 2*live) {
			t.Fatalf("Percent(%d, %d) = %d: heap goal %d above max(floor, 2 × live)", live, floor, p, goal)
		}
	}
}

// TestStartSetsGOGCAfterEachCollection runs collections with the floor and
// reads the runtime's GOGC, which must be the one Percent gives for the
// live heap, and Go's default again after stop.
func TestStartSetsGOGCAfterEachCollection(t *testing.T) {
	// Not parallel: it sets this process's collector.
	const floor = 64 << 20
	stop, applied := Start(floor)
	if !applied {
		t.Fatal("Start did not apply the floor, though neither GOGC nor GOMEMLIMIT is set (unset them to run this test)")
	}
	read := func() (live uint64, percent int) {
		s := []metrics.Sample{{Name: liveMetric}, {Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return s[0].Value.Uint64(), int(s[1].Value.Uint64())
	}
	var live uint64
	var got int
	for deadline := time.Now().Add(10 * time.Second); ; {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer runs on its own goroutine
		live, got = read()
		if got == Percent(live, floor) && got > 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after collections: GOGC %d for a live heap of %d bytes, want %d", got, live, Percent(live, floor))
		}
	}
	stop()
	if _, got = read(); got != 100 {
		t.Errorf("after stop: GOGC %d, want 100", got)
	}
}

func TestStartLeavesTheUsersSetting(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}[env])
			stop, applied := Start(Floor)
			defer stop()
			if applied {
				t.Fatalf("Start applied the floor though %s is set", env)
			}
		})
	}
}

// TestPretouchLeavesTouchedPagesInTheHeap checks that the pages Pretouch
// touched stay with the runtime, free for the next allocations, instead of
// going back to the system: the runtime's count of free heap memory not
// yet returned grows by about what was touched.
func TestPretouchLeavesTouchedPagesInTheHeap(t *testing.T) {
	// Not parallel: it runs collections and reads this process's heap.
	const size = 16 << 20
	free := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	debug.FreeOSMemory() // what is free now goes back to the system
	before := free()
	if !Pretouch(size) {
		t.Fatal("Pretouch did nothing, though neither GOGC nor GOMEMLIMIT is set (unset them to run this test)")
	}
	if after := free(); after < before+size/2 {
		t.Fatalf("free heap not returned to the system: %d bytes before Pretouch(%d), %d after; want at least %d more", before, size, after, size/2)
	}
}

func TestPretouchLeavesTheUsersSetting(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, map[string]string{"GOGC": "150", "GOMEMLIMIT": "1GiB"}[env])
			if Pretouch(Floor) {
				t.Fatalf("Pretouch touched the heap though %s is set", env)
			}
		})
	}
}
