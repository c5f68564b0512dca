// Package zombiejob wires the zombies domain (package sightings) into fanin:
// the kind of its jobs, the worker handler (sightings.Analyze) and the
// coordinator's reducer (a sightings.Predictor fold whose result is the
// sightings.Result JSON).
//
// The worker binary calls RegisterHandler on its jobs.Mux, the coordinator
// binary registers Reducer under Kind, and the embedded demo does both in
// one process. Events converts sightings to fanin events whose ID is the
// sighting ID.
//
// The reducer's result is byte-identical for the same sightings whatever
// the number of workers, the retries, or the order in which the outputs are
// read: see package sightings for why.
package zombiejob
