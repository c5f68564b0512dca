// Package heapfloor sets the garbage collector of fanin's binaries: while
// the live heap is small, the collector waits until the heap reaches a
// floor (Floor, 16 MiB) instead of twice the live heap; past half the
// floor it behaves as Go's default (GOGC=100).
//
// A worker or a coordinator keeps little alive (a few MiB: the chunks in
// hand, the pages of a gather) but allocates fast: a 20,000-event zombies
// job allocated about 30 MB in the worker, which with Go's default ran the
// collector a dozen times per job on a heap of 2 to 3 MiB. With the floor
// it runs a few times per job (docs/BENCHMARKS.md, issue 17). A higher
// floor saves no time on a warm process (32 MiB measured the same) and
// costs the first job: every page of the heap is new memory then, and a
// page fault costs 11 µs on the VMs measured. The heap stays
// within about max(Floor, 2 × live): a handler that keeps much alive gets
// Go's default, never less, so a fixed GOGC of a few hundred, which
// multiplies a large live heap too, is not needed.
//
// Pretouch, which the daemons call once at start, touches the floor's
// pages before the first job needs them, so that the first job does not
// pay their page faults (a cold 20,000-event job took about 4,000 in the
// worker and as many in the coordinator; docs/BENCHMARKS.md, issue 17,
// tenth step). It costs those faults once, in the background, and leaves
// an idle daemon with about Floor more resident memory.
//
// A user's GOGC or GOMEMLIMIT in the environment wins: Start and Pretouch
// then do nothing.
package heapfloor
