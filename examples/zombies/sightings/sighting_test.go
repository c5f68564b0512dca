package sightings

import (
	"errors"
	"math"
	"testing"
	"time"
)

// valid returns a valid sighting to break in tests.
func valid() Sighting {
	return Sighting{
		ID:      "s1",
		Time:    time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC),
		Lat:     40.8,
		Lon:     -73.9,
		Count:   12,
		Heading: 180,
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid sighting: %v", err)
	}
	edges := valid()
	edges.Lat, edges.Lon, edges.Count, edges.Heading = -90, 180, MaxCount, 0
	if err := edges.Validate(); err != nil {
		t.Fatalf("sighting on the edges of the ranges: %v", err)
	}

	tests := []struct {
		name   string
		change func(*Sighting)
		want   string
	}{
		{"empty id", func(s *Sighting) { s.ID = "" },
			`sightings: invalid sighting "": id is empty`},
		{"zero time", func(s *Sighting) { s.Time = time.Time{} },
			`sightings: invalid sighting "s1": time is zero, want the time of the sighting`},
		{"lat above 90", func(s *Sighting) { s.Lat = 90.5 },
			`sightings: invalid sighting "s1": lat 90.5 is outside [-90, 90]`},
		{"lat NaN", func(s *Sighting) { s.Lat = math.NaN() },
			`sightings: invalid sighting "s1": lat NaN is outside [-90, 90]`},
		{"lon below -180", func(s *Sighting) { s.Lon = -180.25 },
			`sightings: invalid sighting "s1": lon -180.25 is outside [-180, 180]`},
		{"lon infinite", func(s *Sighting) { s.Lon = math.Inf(1) },
			`sightings: invalid sighting "s1": lon +Inf is outside [-180, 180]`},
		{"count zero", func(s *Sighting) { s.Count = 0 },
			`sightings: invalid sighting "s1": count 0 is outside [1, 1000000]`},
		{"count too large", func(s *Sighting) { s.Count = MaxCount + 1 },
			`sightings: invalid sighting "s1": count 1000001 is outside [1, 1000000]`},
		{"heading 360", func(s *Sighting) { s.Heading = 360 },
			`sightings: invalid sighting "s1": heading 360 is outside [0, 360)`},
		{"heading negative", func(s *Sighting) { s.Heading = -1 },
			`sightings: invalid sighting "s1": heading -1 is outside [0, 360)`},
		{"everything wrong", func(s *Sighting) { *s = Sighting{Lat: -91, Lon: 200, Count: -3, Heading: 400} },
			`sightings: invalid sighting "": id is empty; time is zero, want the time of the sighting; ` +
				`lat -91 is outside [-90, 90]; lon 200 is outside [-180, 180]; count -3 is outside [1, 1000000]; ` +
				`heading 400 is outside [0, 360)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tt.change(&s)
			err := s.Validate()
			if !errors.Is(err, ErrInvalidSighting) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidSighting", err)
			}
			if err.Error() != tt.want {
				t.Fatalf("Validate() =\n%s\nwant\n%s", err, tt.want)
			}
			if _, aerr := Analyze(s); !errors.Is(aerr, ErrInvalidSighting) || aerr.Error() != tt.want {
				t.Fatalf("Analyze() error = %v, want the Validate error", aerr)
			}
		})
	}
}
