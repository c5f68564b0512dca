package heapfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// Floor is the heap size the collector waits for while the live heap is
// below half of it.
const Floor = 16 << 20

// heapMinimum is the Go runtime's smallest heap goal at GOGC=100: it
// scales with GOGC, so a GOGC above floor/heapMinimum would put the goal of
// a nearly empty heap above the floor.
const heapMinimum = 4 << 20

// liveMetric is the runtime metric of the heap the last collection
// found alive.
const liveMetric = "/gc/heap/live:bytes"

// Percent returns the GOGC that puts the heap goal of a live heap of live
// bytes at floor: floor/live - 1 in percent, at least Go's default 100 and
// at most the GOGC whose smallest heap goal (the runtime's 4 MiB at
// GOGC=100, scaled) is the floor.
func Percent(live, floor uint64) int {
	most := max(floor*100/heapMinimum, 100)
	if live == 0 {
		return int(most)
	}
	if live >= floor/2 {
		return 100
	}
	return int(min(floor*100/live-100, most))
}

// Start applies the floor to this process's collector until stop is
// called, and reports whether it did: when the environment sets GOGC or
// GOMEMLIMIT, the user's setting wins and Start does nothing. After each
// collection it sets GOGC from the live heap that collection found
// (Percent): the collector's own rule, with the floor added.
func Start(floor uint64) (stop func(), applied bool) {
	if userSetting() {
		return func() {}, false
	}
	t := &tuner{floor: floor, sample: []metrics.Sample{{Name: liveMetric}}}
	t.tune()
	t.arm()
	return func() {
		t.stopped.Store(true)
		t.mu.Lock()
		defer t.mu.Unlock()
		debug.SetGCPercent(100)
	}, true
}

// userSetting reports whether the environment sets the collector (GOGC
// or GOMEMLIMIT): then the user's setting wins over the floor.
func userSetting() bool {
	return os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != ""
}

// Pretouch touches floor bytes of heap once and frees them, and reports
// whether it did. A daemon calls it at start (in its own goroutine) so
// that its first job finds the pages of the heap the floor lets it grow
// to already in the process: a page the process has never touched costs a
// page fault on first use, 11.5 µs on the VMs of docs/BENCHMARKS.md, and a
// first 20,000-event job took 4,000 of them in the worker and as many in
// the coordinator. The runtime keeps freed pages for its next allocations
// and returns them to the system only above the heap goal, which the floor
// keeps at floor while little is alive. Like Start, it does nothing when
// GOGC or GOMEMLIMIT is set, and a short-lived command has no use for it.
func Pretouch(floor uint64) bool {
	if userSetting() {
		return false
	}
	const page = 4096
	b := make([]byte, floor)
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	runtime.GC() // frees b: its pages go back to the runtime's free heap
	return true
}

// tuner sets GOGC after each collection.
type tuner struct {
	floor   uint64
	stopped atomic.Bool

	mu      sync.Mutex // tune and stop
	sample  []metrics.Sample
	percent int
}

// sentinel is an object whose finalizer runs once a collection has found
// it unreachable. It holds a pointer so that it is never one of the tiny
// allocations several objects share, whose finalizers may never run.
type sentinel struct{ _ *byte }

// arm allocates a sentinel whose finalizer tunes and arms the next one:
// one tuning per collection, for as long as the tuner runs.
func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if t.stopped.Load() {
			return
		}
		t.tune()
		t.arm()
	})
}

// tune sets GOGC from the live heap of the last collection.
func (t *tuner) tune() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped.Load() {
		return
	}
	metrics.Read(t.sample)
	var live uint64
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	if p := Percent(live, t.floor); p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
}
