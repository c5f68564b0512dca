// Command zombies is fanin's demo: it generates zombie sightings, submits
// them as one job, analyses them with a worker pool, reduces the analyses
// with a coordinator, and prints where the herds go and which cities to
// warn, all in one process:
//
//	go run ./examples/zombies
//
// With no Redis configured it starts an embedded in-process Redis
// (miniredis); --redis URL (or FANIN_REDIS_URL) runs the same program
// against a real Redis. `zombies generate` writes sightings as JSON lines,
// for the separate-process walk-through (coordinator submit, worker,
// coordinator run, coordinator collect).
//
// The result is deterministic: the same --seed and --sightings give a
// byte-identical result JSON (--out) whatever --workers, and the same as the
// separate processes give.
package main
