// Package sightings is the domain of the zombies example: zombie sightings
// reported from the field, analysed one by one, then reduced into herd
// movements and a list of cities to notify. It is pure logic (no Redis, no
// queue): the example program, the worker and the coordinator import it.
//
// # The pieces
//
//   - A Sighting is one event of a job: a herd of Count zombies seen at a
//     position at a time, walking along a heading. Validate checks it.
//   - Analyze is the handler. For one sighting it finds the grid cell
//     (CellID, 1°×1°), the nearest city of a small embedded table
//     (Cities), the distance and bearing to it, whether the herd walks
//     toward it, the hours it needs to get there at WalkingSpeedKMH, and a
//     threat level from 0 to MaxThreat. Its output, an Analysis, is what a
//     worker stores as the event's output.
//   - A Predictor is the reduce step, a fold over the analyses: Add one
//     analysis at a time, Merge Predictors built in parallel, then Result.
//     A Result lists the herd of each cell (its size, mean position, mean
//     heading and the cell it should reach within PredictionHours) and the
//     cities to notify, most threatened first. Summary prints it for people.
//   - Generate and GenerateSeq make N sightings from a seed, clustered
//     around a few outbreaks near cities, for tests, benchmarks and the
//     demo.
//
// # Determinism
//
// The same sightings give a byte-identical Result JSON whatever the number
// of workers, the retries, or the order in which the outputs are read:
//
//   - Analyze is a pure function of its sighting, and rounds what it
//     computes (3 decimals) so its JSON prints the same everywhere.
//   - Add and Merge only add integers: each position and heading vector is
//     converted to fixed point (millionths) and multiplied by the count
//     before it is summed in a 128-bit accumulator. Integer addition is
//     associative and commutative, where float64 addition is not: summing
//     floats in another order can change the last bits of the mean.
//   - Maxima and minima (threat, earliest arrival, first and last sighting)
//     do not depend on order either.
//   - Result sorts every list with every tie broken (down to the cell ID or
//     the city name) and holds no maps, so its JSON has a single form.
//
// The input of a Predictor is one Analysis per sighting ID, which fanin
// guarantees: it records each event's output once however often the event
// is delivered. Add does not deduplicate.
//
// Across platforms (GOARCH), Go's math functions may differ in the last
// bit and some architectures fuse multiply-adds; the rounding makes a
// different printed result very unlikely but not impossible. The reducer
// works only from the stored (rounded) analyses, so which worker analysed a
// sighting does not matter as long as the workers share an architecture.
// The generator uses only integer arithmetic on a PCG stream, so its
// output is the same everywhere.
package sightings
