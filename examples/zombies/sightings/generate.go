package sightings

import (
	"fmt"
	"iter"
	"math/bits"
	"math/rand/v2"
	"time"
)

// GenerateWindow is the time window of generated sightings: they happen in
// the GenerateWindow after GenerateStart().
const GenerateWindow = 72 * time.Hour

// GenerateStart returns the start of the window of generated sightings:
// Halloween 2026, midnight UTC.
func GenerateStart() time.Time { return time.Date(2026, time.October, 31, 0, 0, 0, 0, time.UTC) }

// outbreak is a centre of generated sightings: a position (micro-degrees)
// and the heading (degrees) most of its herds walk along.
type outbreak struct {
	lat, lon, heading int64
}

// outbreaks returns the centres of generated sightings: near New York,
// London, Lagos, Delhi, Tokyo, Suva (across the antimeridian) and
// Sao Paulo, each with herds mostly walking toward the city.
func outbreaks() [7]outbreak {
	return [7]outbreak{
		{41_600_000, -74_200_000, 175},
		{51_300_000, 800_000, 280},
		{7_100_000, 3_700_000, 210},
		{29_400_000, 77_800_000, 220},
		{36_400_000, 139_300_000, 160},
		{-17_700_000, 179_800_000, 235},
		{-22_900_000, -47_300_000, 130},
	}
}

// Generate returns n sightings made from seed (none when n <= 0); see
// GenerateSeq.
func Generate(seed int64, n int) []Sighting {
	out := make([]Sighting, 0, min(max(n, 0), 1<<16))
	for s := range GenerateSeq(seed, n) {
		out = append(out, s)
	}
	return out
}

// GenerateSeq yields n sightings made from seed (none when n <= 0), with IDs
// "s000001", "s000002", … and times in the GenerateWindow after
// GenerateStart() (not in order). Herds cluster around a handful of
// outbreaks near cities (up to 1.2° away), most walking toward the city
// (±45°), one in five in any direction; most count 1 to 20 zombies, one in
// fifty 50 to 500. Each iteration starts over: the same seed and n yield
// the same sightings, on every run and platform (the generator uses only
// integer arithmetic on a PCG stream).
func GenerateSeq(seed int64, n int) iter.Seq[Sighting] {
	return func(yield func(Sighting) bool) {
		g := gen{pcg: rand.NewPCG(uint64(seed), 0x5a0b1e5)}
		centres := outbreaks()
		start := GenerateStart()
		for i := 1; i <= n; i++ {
			o := centres[g.below(uint64(len(centres)))]
			lat := min(max(o.lat+g.spread(), -90_000_000), 90_000_000)
			lon := o.lon + g.spread()
			if lon >= 180_000_000 {
				lon -= 360_000_000
			}
			if lon < -180_000_000 {
				lon += 360_000_000
			}
			heading := g.below(3600) // tenths of a degree
			if g.below(5) != 0 {
				heading = (o.heading*10 + 3600 - 450 + g.below(901)) % 3600
			}
			count := 1 + g.below(20)
			if g.below(50) == 0 {
				count = 50 + g.below(451)
			}
			s := Sighting{
				ID:      fmt.Sprintf("s%06d", i),
				Time:    start.Add(time.Duration(g.below(uint64(GenerateWindow/time.Second))) * time.Second),
				Lat:     float64(lat) / 1e6,
				Lon:     float64(lon) / 1e6,
				Count:   int(count),
				Heading: float64(heading) / 10,
			}
			if !yield(s) {
				return
			}
		}
	}
}

// gen draws integers from a PCG stream with a fixed algorithm (not
// rand.Rand's, which a Go release may change).
type gen struct{ pcg *rand.PCG }

// below returns an integer in [0, n), n > 0 (multiply-shift: the bias is
// below n/2^64).
func (g gen) below(n uint64) int64 {
	hi, _ := bits.Mul64(g.pcg.Uint64(), n)
	return int64(hi)
}

// spread returns a triangular offset in [-1_200_000, 1_200_000]
// micro-degrees (±1.2°), most of it near 0.
func (g gen) spread() int64 {
	const half = 600_000
	return g.below(2*half+1) + g.below(2*half+1) - 2*half
}
