package sightings

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

func TestAnalyze(t *testing.T) {
	t.Parallel()
	seen := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	at := func(lat, lon float64, count int, heading float64) Sighting {
		return Sighting{ID: "s1", Time: seen, Lat: lat, Lon: lon, Count: count, Heading: heading}
	}
	// Expected numbers were computed independently (haversine on a sphere
	// of radius 6371 km): one degree of latitude is 111.195 km.
	tests := []struct {
		name string
		in   Sighting
		want Analysis
	}{
		{
			name: "in the city centre, walking across it",
			in:   at(40.7128, -74.006, 5, 90),
			want: Analysis{Cell: "N40W075", City: "New York", Country: "US", DistanceKM: 0, BearingDeg: 0,
				Approaching: false, HoursToCity: ptr(0.0), Arrival: ptr(seen), Threat: 3},
		},
		{
			name: "one degree north, walking south toward the city",
			in:   at(41.7128, -74.006, 50, 180),
			want: Analysis{Cell: "N41W075", City: "New York", Country: "US", DistanceKM: 111.195, BearingDeg: 180,
				Approaching: true, HoursToCity: ptr(27.799), Arrival: ptr(seen.Add(27*time.Hour + 47*time.Minute + 56*time.Second)),
				Threat: 3},
		},
		{
			name: "one degree north, walking north away from the city",
			in:   at(41.7128, -74.006, 500, 0),
			want: Analysis{Cell: "N41W075", City: "New York", Country: "US", DistanceKM: 111.195, BearingDeg: 180,
				Approaching: false, Threat: 0},
		},
		{
			name: "45 degrees off the bearing still approaches",
			in:   at(41.7128, -74.006, 1, 225),
			want: Analysis{Cell: "N41W075", City: "New York", Country: "US", DistanceKM: 111.195, BearingDeg: 180,
				Approaching: true, HoursToCity: ptr(27.799), Arrival: ptr(seen.Add(27*time.Hour + 47*time.Minute + 56*time.Second)),
				Threat: 2},
		},
		{
			name: "45.5 degrees off the bearing does not",
			in:   at(41.7128, -74.006, 1, 134.5),
			want: Analysis{Cell: "N41W075", City: "New York", Country: "US", DistanceKM: 111.195, BearingDeg: 180,
				Approaching: false, Threat: 0},
		},
		{
			name: "20 km out, a large herd arriving within 12 hours",
			in:   at(40.8928, -74.006, 100, 180),
			want: Analysis{Cell: "N40W075", City: "New York", Country: "US", DistanceKM: 20.015, BearingDeg: 180,
				Approaching: true, HoursToCity: ptr(5.004), Arrival: ptr(seen.Add(5*time.Hour + 14*time.Second)),
				Threat: 5},
		},
		{
			name: "across the antimeridian from Suva",
			in:   at(-18.1248, -179.5, 1, 270),
			want: Analysis{Cell: "S19W180", City: "Suva", Country: "FJ", DistanceKM: 216.627, BearingDeg: 269.681,
				Approaching: true, HoursToCity: ptr(54.157), Arrival: ptr(seen.Add(54*time.Hour + 9*time.Minute + 25*time.Second)),
				Threat: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Analyze(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Sighting = tt.in
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tt.want)
				t.Fatalf("Analyze() =\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestAnalyzeNormalisesTimeToUTC(t *testing.T) {
	t.Parallel()
	s := valid()
	s.Time = time.Date(2026, 10, 31, 8, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	a, err := Analyze(s)
	if err != nil {
		t.Fatal(err)
	}
	if a.Sighting.Time.Location() != time.UTC || !a.Sighting.Time.Equal(s.Time) {
		t.Fatalf("analysed time = %v, want %v in UTC", a.Sighting.Time, s.Time)
	}
	b, err := json.Marshal(a.Sighting)
	if err != nil {
		t.Fatal(err)
	}
	var back Sighting
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, a.Sighting) {
		t.Fatalf("JSON round trip = %+v, want %+v", back, a.Sighting)
	}
}

// TestAnalysisJSONRoundTrip checks that an Analysis read back from JSON (as
// the coordinator reads it from Redis) is equal to the one written.
func TestAnalysisJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for s := range GenerateSeq(3, 200) {
		a, err := Analyze(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Analysis
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, a) {
			t.Fatalf("JSON round trip of %s =\n%+v\nwant\n%+v", b, back, a)
		}
	}
}

// TestNearestCity checks the chord-based search against a plain haversine
// minimum over the table, at positions all over the globe.
func TestNearestCity(t *testing.T) {
	t.Parallel()
	cities, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 5000 {
		s := Sighting{ID: "p", Time: time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), Count: 1,
			Lat: r.Float64()*180 - 90, Lon: r.Float64()*360 - 180}
		a, err := Analyze(s)
		if err != nil {
			t.Fatal(err)
		}
		lat := radians(s.Lat)
		var want City
		wantKM := math.Inf(1)
		for _, c := range cities {
			cLat := radians(c.Lat)
			if d := haversineKM(lat, radians(s.Lon), math.Cos(lat), cLat, radians(c.Lon), math.Cos(cLat)); d < wantKM {
				want, wantKM = c, d
			}
		}
		if a.City != want.Name || a.Country != want.Country || a.DistanceKM != round3(wantKM) {
			t.Fatalf("position %d (%v, %v): nearest %s, %s at %v km, want %s, %s at %v km",
				i, s.Lat, s.Lon, a.City, a.Country, a.DistanceKM, want.Name, want.Country, round3(wantKM))
		}
	}
}
