package sightings

import (
	"fmt"
	"maps"
	"math"
	"time"
)

// PredictionHours is how far ahead, in hours, a herd's movement is
// predicted.
const PredictionHours = 24.0

// fixed is the scale of the Predictor's fixed-point terms: positions in
// micro-degrees, unit vectors in millionths.
const fixed = 1e6

// Predictor is the reduce step of the example, a fold over the analyses of
// one job. Add and Merge only add integers, so the Result is the same,
// byte for byte, whatever the order of the analyses and however they are
// split between Predictors merged at the end.
//
// The input is one Analysis per sighting ID, as fanin guarantees: adding the
// same analysis twice counts it twice.
//
// The zero Predictor is empty and ready to use. A Predictor is not safe for
// concurrent use.
type Predictor struct {
	sightings, zombies int64
	first, last        time.Time
	cells              map[string]*cellAcc
	cities             map[cityKey]*cityAcc
}

// cellAcc accumulates the sightings of one grid cell.
type cellAcc struct {
	sightings, zombies int64
	// Sums of count × position in micro-degrees (longitudes in
	// [-180, 180), which cannot wrap inside a 1° cell).
	lat, lon wide
	// Sums of count × the unit vector of the heading, in millionths.
	north, east wide
}

// cityAcc accumulates the threats to one city.
type cityAcc struct {
	population         int64
	threat             int
	arrival            time.Time
	sightings, zombies int64
}

// NewPredictor returns an empty Predictor.
func NewPredictor() *Predictor { return &Predictor{} }

// Add folds one analysis into p. It returns an error wrapping
// ErrInvalidAnalysis, and leaves p unchanged, when a is not something
// Analyze can produce.
func (p *Predictor) Add(a Analysis) error {
	population, err := check(&a)
	if err != nil {
		return err
	}
	s := a.Sighting
	count := int64(s.Count)
	p.sightings++
	p.zombies += count
	t := s.Time.UTC()
	if p.first.IsZero() || t.Before(p.first) {
		p.first = t
	}
	if t.After(p.last) {
		p.last = t
	}

	if p.cells == nil {
		p.cells = make(map[string]*cellAcc)
	}
	c := p.cells[a.Cell]
	if c == nil {
		c = &cellAcc{}
		p.cells[a.Cell] = c
	}
	c.sightings++
	c.zombies += count
	c.lat.add(count * int64(math.Round(s.Lat*fixed)))
	c.lon.add(count * int64(math.Round(normLon(s.Lon)*fixed)))
	h := radians(s.Heading)
	c.north.add(count * int64(math.Round(math.Cos(h)*fixed)))
	c.east.add(count * int64(math.Round(math.Sin(h)*fixed)))

	if a.Threat == 0 {
		return nil
	}
	if p.cities == nil {
		p.cities = make(map[cityKey]*cityAcc)
	}
	k := cityKey{a.City, a.Country}
	ca := p.cities[k]
	if ca == nil {
		ca = &cityAcc{population: population}
		p.cities[k] = ca
	}
	ca.merge(&cityAcc{threat: a.Threat, arrival: a.Arrival.UTC(), sightings: 1, zombies: count})
	return nil
}

// Merge folds everything added to other into p; other is not changed. Merge
// is associative and commutative: any tree of Merges over any split of the
// analyses gives the same Result. A nil other is empty.
func (p *Predictor) Merge(other *Predictor) {
	if other == nil || other.sightings == 0 {
		return
	}
	if other == p { // merging with itself: work on a copy
		other = other.clone()
	}
	p.sightings += other.sightings
	p.zombies += other.zombies
	if p.first.IsZero() || other.first.Before(p.first) {
		p.first = other.first
	}
	if other.last.After(p.last) {
		p.last = other.last
	}
	if p.cells == nil {
		p.cells = make(map[string]*cellAcc, len(other.cells))
	}
	for k, o := range other.cells {
		c := p.cells[k]
		if c == nil {
			c = &cellAcc{}
			p.cells[k] = c
		}
		c.sightings += o.sightings
		c.zombies += o.zombies
		c.lat.addWide(o.lat)
		c.lon.addWide(o.lon)
		c.north.addWide(o.north)
		c.east.addWide(o.east)
	}
	if len(other.cities) > 0 && p.cities == nil {
		p.cities = make(map[cityKey]*cityAcc, len(other.cities))
	}
	for k, o := range other.cities {
		c := p.cities[k]
		if c == nil {
			c = &cityAcc{population: o.population}
			p.cities[k] = c
		}
		c.merge(o)
	}
}

// clone returns a deep copy of p.
func (p *Predictor) clone() *Predictor {
	q := *p
	q.cells = maps.Clone(p.cells)
	for k, c := range q.cells {
		cc := *c
		q.cells[k] = &cc
	}
	q.cities = maps.Clone(p.cities)
	for k, c := range q.cities {
		cc := *c
		q.cities[k] = &cc
	}
	return &q
}

// merge folds o into c: the highest threat, the earliest arrival, the sums.
func (c *cityAcc) merge(o *cityAcc) {
	c.threat = max(c.threat, o.threat)
	if c.arrival.IsZero() || o.arrival.Before(c.arrival) {
		c.arrival = o.arrival
	}
	c.sightings += o.sightings
	c.zombies += o.zombies
}

// check reports why a cannot come from Analyze, and returns the population
// of its city.
func check(a *Analysis) (int64, error) {
	if err := a.Sighting.Validate(); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidAnalysis, err)
	}
	id := a.Sighting.ID
	if b := cellBytes(a.Sighting.Lat, a.Sighting.Lon); string(b[:]) != a.Cell {
		return 0, fmt.Errorf("%w %q: cell %q does not match the position, want %q", ErrInvalidAnalysis, id, a.Cell, string(b[:]))
	}
	t, err := cityTable()
	if err != nil {
		return 0, err
	}
	city, ok := t.lookup(a.City, a.Country)
	if !ok {
		return 0, fmt.Errorf("%w %q: city %q, %q is not in the city table", ErrInvalidAnalysis, id, a.City, a.Country)
	}
	if a.Threat < 0 || a.Threat > MaxThreat {
		return 0, fmt.Errorf("%w %q: threat %d is outside [0, %d]", ErrInvalidAnalysis, id, a.Threat, MaxThreat)
	}
	if (a.HoursToCity == nil) != (a.Arrival == nil) {
		return 0, fmt.Errorf("%w %q: hours_to_city and arrival must be both set or both null", ErrInvalidAnalysis, id)
	}
	if h := a.HoursToCity; h != nil && !(*h >= 0 && *h <= math.MaxFloat64) {
		return 0, fmt.Errorf("%w %q: hours_to_city %v is not a finite number >= 0", ErrInvalidAnalysis, id, *h)
	}
	if a.Threat > 0 && a.Arrival == nil {
		return 0, fmt.Errorf("%w %q: threat %d with no arrival, want an arrival for a threat above 0", ErrInvalidAnalysis, id, a.Threat)
	}
	return city.Population, nil
}
