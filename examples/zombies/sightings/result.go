package sightings

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Result is the outcome of a job: the herd movements per cell and the
// cities to notify. Its slices are sorted with every tie broken, so its JSON
// depends only on the set of analyses folded.
type Result struct {
	// Sightings and Zombies count the analyses folded and their zombies.
	Sightings int64 `json:"sightings"`
	Zombies   int64 `json:"zombies"`
	// FirstSeen and LastSeen bound the sighting times; omitted when empty.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Herds has one entry per cell with sightings: most zombies first,
	// then most sightings, then by cell ID.
	Herds []Herd `json:"herds"`
	// Notify lists the cities with a threat above 0: highest threat first,
	// then earliest arrival, then by name and country.
	Notify []Notice `json:"notify"`
}

// Herd is the predicted movement of the zombies seen in one cell, taken as
// one herd: every sighting weighs its count.
type Herd struct {
	// Cell is the grid cell (see CellID).
	Cell string `json:"cell"`
	// Sightings and Zombies count the sightings in the cell and their
	// zombies.
	Sightings int64 `json:"sightings"`
	Zombies   int64 `json:"zombies"`
	// Lat and Lon are the mean position of the zombies (5 decimals).
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// HeadingDeg is the mean heading of the zombies (the direction of the
	// sum of their unit heading vectors), null when the headings cancel
	// out exactly.
	HeadingDeg *float64 `json:"heading_deg"`
	// Cohesion is the length of that sum over the number of zombies, in
	// [0, 1]: 1 when all walk the same way, near 0 when they mill about.
	Cohesion float64 `json:"cohesion"`
	// NextLat, NextLon and NextCell are where the herd is predicted to be
	// after PredictionHours: it walks from its mean position along its
	// mean heading at WalkingSpeedKMH × Cohesion.
	NextLat  float64 `json:"next_lat"`
	NextLon  float64 `json:"next_lon"`
	NextCell string  `json:"next_cell"`
}

// Notice is a city to notify.
type Notice struct {
	// City and Country name the city; Population is from the table.
	City       string `json:"city"`
	Country    string `json:"country"`
	Population int64  `json:"population"`
	// Threat is the highest threat level of the herds nearest to the city.
	Threat int `json:"threat"`
	// EarliestArrival is the earliest predicted arrival of a threatening
	// herd.
	EarliestArrival time.Time `json:"earliest_arrival"`
	// Sightings and Zombies count the threatening herds (threat above 0)
	// and their zombies.
	Sightings int64 `json:"sightings"`
	Zombies   int64 `json:"zombies"`
}

// Result computes the result of everything folded into p so far. It does
// not change p.
func (p *Predictor) Result() Result {
	r := Result{
		Sightings: p.sightings,
		Zombies:   p.zombies,
		FirstSeen: p.first,
		LastSeen:  p.last,
		Herds:     make([]Herd, 0, len(p.cells)),
		Notify:    make([]Notice, 0, len(p.cities)),
	}
	for cell, c := range p.cells {
		r.Herds = append(r.Herds, c.herd(cell))
	}
	slices.SortFunc(r.Herds, func(a, b Herd) int {
		return cmp.Or(
			cmp.Compare(b.Zombies, a.Zombies),
			cmp.Compare(b.Sightings, a.Sightings),
			strings.Compare(a.Cell, b.Cell))
	})
	for k, c := range p.cities {
		r.Notify = append(r.Notify, Notice{
			City: k.name, Country: k.country, Population: c.population,
			Threat: c.threat, EarliestArrival: c.arrival,
			Sightings: c.sightings, Zombies: c.zombies,
		})
	}
	slices.SortFunc(r.Notify, func(a, b Notice) int {
		return cmp.Or(
			cmp.Compare(b.Threat, a.Threat),
			a.EarliestArrival.Compare(b.EarliestArrival),
			strings.Compare(a.City, b.City),
			strings.Compare(a.Country, b.Country))
	})
	return r
}

// herd computes the Herd of one cell.
func (c *cellAcc) herd(cell string) Herd {
	z := float64(c.zombies)
	h := Herd{
		Cell:      cell,
		Sightings: c.sightings,
		Zombies:   c.zombies,
		Lat:       round5(c.lat.toFloat() / z / fixed),
		Lon:       roundLon(c.lon.toFloat() / z / fixed),
	}
	nextLat, nextLon := h.Lat, h.Lon
	if !c.north.isZero() || !c.east.isZero() {
		n, e := c.north.toFloat(), c.east.toFloat()
		heading := roundDeg(degrees(math.Atan2(e, n)))
		h.HeadingDeg = &heading
		h.Cohesion = round3(math.Min(1, math.Hypot(n, e)/(z*fixed)))
		nextLat, nextLon = destination(h.Lat, h.Lon, heading, WalkingSpeedKMH*PredictionHours*h.Cohesion)
	}
	h.NextLat, h.NextLon = round5(nextLat), roundLon(nextLon)
	h.NextCell = CellID(h.NextLat, h.NextLon)
	return h
}

// MarshalJSON encodes r with empty lists as [] (never null), so that an
// empty result has one encoding.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // without the method, to avoid recursion
	if r.Herds == nil {
		r.Herds = []Herd{}
	}
	if r.Notify == nil {
		r.Notify = []Notice{}
	}
	return json.Marshal(plain(r))
}

// summaryTop is how many herds and cities Summary lists.
const summaryTop = 5

// Summary is a short text summary of r for people: the totals, the largest
// herds and the cities to notify (the first five of each), one per line.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s in %s", plural(r.Sightings, "sighting"), plural(r.Zombies, "zombie"), plural(int64(len(r.Herds)), "cell"))
	if r.Sightings > 0 {
		fmt.Fprintf(&b, ", seen %s to %s", r.FirstSeen.Format(time.RFC3339), r.LastSeen.Format(time.RFC3339))
	}
	b.WriteString("\n")
	if len(r.Herds) > 0 {
		b.WriteString("Largest herds:\n")
	}
	for i, h := range r.Herds[:min(summaryTop, len(r.Herds))] {
		move := "milling about"
		if h.HeadingDeg != nil {
			move = fmt.Sprintf("heading %.0f deg, cohesion %.2f", *h.HeadingDeg, h.Cohesion)
		}
		fmt.Fprintf(&b, "  %d. %s: %s in %s, %s -> %s in %.0f h\n",
			i+1, h.Cell, plural(h.Zombies, "zombie"), plural(h.Sightings, "sighting"), move, h.NextCell, PredictionHours)
	}
	more(&b, len(r.Herds))
	if len(r.Notify) == 0 {
		b.WriteString("No city to notify.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Cities to notify (%d), most threatened first:\n", len(r.Notify))
	for i, n := range r.Notify[:min(summaryTop, len(r.Notify))] {
		fmt.Fprintf(&b, "  %d. %s, %s (pop. %d): threat %d, earliest arrival %s, %s in %s\n",
			i+1, n.City, n.Country, n.Population, n.Threat, n.EarliestArrival.Format(time.RFC3339),
			plural(n.Zombies, "zombie"), plural(n.Sightings, "sighting"))
	}
	more(&b, len(r.Notify))
	return b.String()
}

// plural formats n and a noun, with an s unless n is 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// more writes how many of n entries Summary left out, if any.
func more(b *strings.Builder, n int) {
	if n > summaryTop {
		fmt.Fprintf(b, "  ... and %d more\n", n-summaryTop)
	}
}
