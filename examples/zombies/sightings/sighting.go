package sightings

import (
	"fmt"
	"strings"
	"time"
)

// MaxCount is the largest Count a sighting may report. It keeps every sum a
// Predictor keeps far from overflow.
const MaxCount = 1_000_000

// Sighting is one report from the field: a herd of Count zombies seen at a
// position, walking along Heading. It is the event of the example: one
// sighting, one unit of work, identified by ID.
type Sighting struct {
	// ID identifies the sighting; it is the event ID of the job, so it must
	// be unique within a job.
	ID string `json:"id"`
	// Time is when the herd was seen, in UTC (RFC 3339 in JSON).
	Time time.Time `json:"time"`
	// Lat is the latitude in degrees, in [-90, 90].
	Lat float64 `json:"lat"`
	// Lon is the longitude in degrees, in [-180, 180].
	Lon float64 `json:"lon"`
	// Count is the number of zombies seen, in [1, MaxCount].
	Count int `json:"count"`
	// Heading is the direction the herd walks, in degrees clockwise from
	// north, in [0, 360).
	Heading float64 `json:"heading"`
}

// Validate reports every problem of s in one error wrapping
// ErrInvalidSighting, or nil when s is valid. NaN and infinite values are
// out of range.
func (s Sighting) Validate() error {
	var problems []string
	if s.ID == "" {
		problems = append(problems, "id is empty")
	}
	if s.Time.IsZero() {
		problems = append(problems, "time is zero, want the time of the sighting")
	}
	if !(s.Lat >= -90 && s.Lat <= 90) {
		problems = append(problems, fmt.Sprintf("lat %v is outside [-90, 90]", s.Lat))
	}
	if !(s.Lon >= -180 && s.Lon <= 180) {
		problems = append(problems, fmt.Sprintf("lon %v is outside [-180, 180]", s.Lon))
	}
	if s.Count < 1 || s.Count > MaxCount {
		problems = append(problems, fmt.Sprintf("count %d is outside [1, %d]", s.Count, MaxCount))
	}
	if !(s.Heading >= 0 && s.Heading < 360) {
		problems = append(problems, fmt.Sprintf("heading %v is outside [0, 360)", s.Heading))
	}
	if problems == nil {
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidSighting, s.ID, strings.Join(problems, "; "))
}

// normLon maps a valid longitude into [-180, 180): 180 and -180 are the same
// meridian.
func normLon(lon float64) float64 {
	if lon >= 180 {
		return lon - 360
	}
	return lon
}
