package sightings

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// analyses analyses the sightings generated from seed.
func analyses(t testing.TB, seed int64, n int) []Analysis {
	t.Helper()
	out := make([]Analysis, 0, n)
	for s := range GenerateSeq(seed, n) {
		a, err := Analyze(s)
		if err != nil {
			t.Fatalf("Analyze(%+v): %v", s, err)
		}
		out = append(out, a)
	}
	return out
}

// fold adds as to a new Predictor.
func fold(t testing.TB, as []Analysis) *Predictor {
	t.Helper()
	p := NewPredictor()
	for _, a := range as {
		if err := p.Add(a); err != nil {
			t.Fatalf("Add(%+v): %v", a, err)
		}
	}
	return p
}

// resultJSON encodes the Result of p.
func resultJSON(t testing.TB, p *Predictor) []byte {
	t.Helper()
	b, err := json.Marshal(p.Result())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResultDeterministic folds the same analyses in several orders and
// splits: the JSON of the result must not change by a byte.
func TestResultDeterministic(t *testing.T) {
	t.Parallel()
	as := analyses(t, 42, 20000)
	want := resultJSON(t, fold(t, as))

	reversed := slices.Clone(as)
	slices.Reverse(reversed)
	shuffled := slices.Clone(as)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	// Analyses read back from JSON, as the coordinator reads them.
	decoded := make([]Analysis, len(as))
	for i, a := range as {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &decoded[i]); err != nil {
			t.Fatal(err)
		}
	}
	orders := map[string][]Analysis{"reversed": reversed, "shuffled": shuffled, "decoded": decoded}
	for name, order := range orders {
		if got := resultJSON(t, fold(t, order)); !bytes.Equal(got, want) {
			t.Errorf("%s order: result differs:\n%s\nwant\n%s", name, got, want)
		}
	}

	// Three workers: shuffled analyses dealt into three Predictors, merged
	// in different trees.
	var parts [3][]Analysis
	for i, a := range shuffled {
		parts[i%3] = append(parts[i%3], a)
	}
	merges := map[string]func() *Predictor{
		"(a+b)+c": func() *Predictor {
			p := fold(t, parts[0])
			p.Merge(fold(t, parts[1]))
			p.Merge(fold(t, parts[2]))
			return p
		},
		"c+(b+a)": func() *Predictor {
			ba := fold(t, parts[1])
			ba.Merge(fold(t, parts[0]))
			p := fold(t, parts[2])
			p.Merge(ba)
			return p
		},
		"empty+(b+(c+a))": func() *Predictor {
			ca := fold(t, parts[2])
			ca.Merge(fold(t, parts[0]))
			bca := fold(t, parts[1])
			bca.Merge(ca)
			p := &Predictor{}
			p.Merge(bca)
			p.Merge(NewPredictor())
			p.Merge(nil)
			return p
		},
	}
	for name, merge := range merges {
		if got := resultJSON(t, merge()); !bytes.Equal(got, want) {
			t.Errorf("merge %s: result differs:\n%s\nwant\n%s", name, got, want)
		}
	}
}

// TestMergeLeavesOtherUnchanged checks that Merge copies and does not alias.
func TestMergeLeavesOtherUnchanged(t *testing.T) {
	t.Parallel()
	as := analyses(t, 5, 300)
	a, b := fold(t, as[:150]), fold(t, as[150:])
	before := resultJSON(t, b)
	a.Merge(b)
	if err := a.Add(as[0]); err != nil {
		t.Fatal(err)
	}
	a.Merge(a) // doubles a, through a copy
	if got := resultJSON(t, b); !bytes.Equal(got, before) {
		t.Fatalf("Merge changed its argument:\n%s\nwant\n%s", got, before)
	}
	twice := fold(t, slices.Concat(as, as[:1], as, as[:1]))
	if got, want := resultJSON(t, a), resultJSON(t, twice); !bytes.Equal(got, want) {
		t.Fatalf("Merge with itself:\n%s\nwant the fold of every analysis twice:\n%s", got, want)
	}
}

// TestResultGolden compares the result of a small generated job with
// testdata/result_seed42_n1000.json; go test -update rewrites the file.
func TestResultGolden(t *testing.T) {
	t.Parallel()
	got, err := json.MarshalIndent(fold(t, analyses(t, 42, 1000)).Result(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "result_seed42_n1000.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("result differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestResultOrdering(t *testing.T) {
	t.Parallel()
	seen := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	// Each sighting sits on a city centre: threat 3 plus the size score,
	// arrival at the sighting time.
	sightings := []Sighting{
		{ID: "paris", Time: seen, Lat: 48.8566, Lon: 2.3522, Count: 5},
		{ID: "london", Time: seen, Lat: 51.5074, Lon: -0.1278, Count: 5},
		{ID: "berlin", Time: seen, Lat: 52.52, Lon: 13.405, Count: 5},
		{ID: "rome", Time: seen.Add(-time.Hour), Lat: 41.9028, Lon: 12.4964, Count: 5},
		{ID: "tokyo", Time: seen, Lat: 35.6762, Lon: 139.6503, Count: 150},
		// Two sightings of 2 and 3 zombies in Madrid's cell: 5 zombies, like
		// the cells above, but more sightings.
		{ID: "madrid1", Time: seen, Lat: 40.4168, Lon: -3.7038, Count: 2},
		{ID: "madrid2", Time: seen, Lat: 40.4168, Lon: -3.7038, Count: 3},
		// Far from any city and walking away: a herd, no city to notify.
		{ID: "atlantic", Time: seen, Lat: 30.5, Lon: -40.5, Count: 7, Heading: 90},
	}
	p := NewPredictor()
	for _, s := range sightings {
		a, err := Analyze(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	r := p.Result()

	var cells []string
	for _, h := range r.Herds {
		cells = append(cells, h.Cell)
	}
	// Most zombies first, then most sightings, then cell ID.
	wantCells := []string{"N35E139", "N30W041", "N40W004", "N41E012", "N48E002", "N51W001", "N52E013"}
	if !slices.Equal(cells, wantCells) {
		t.Errorf("herd cells = %v, want %v", cells, wantCells)
	}
	var cities []string
	for _, n := range r.Notify {
		cities = append(cities, n.City)
	}
	// Highest threat first, then earliest arrival, then name.
	wantCities := []string{"Tokyo", "Rome", "Berlin", "London", "Madrid", "Paris"}
	if !slices.Equal(cities, wantCities) {
		t.Errorf("cities to notify = %v, want %v", cities, wantCities)
	}
	if r.Notify[0].Threat != 5 || r.Notify[1].Threat != 3 {
		t.Errorf("threats = %d, %d, want 5, 3", r.Notify[0].Threat, r.Notify[1].Threat)
	}
	if r.Sightings != 8 || r.Zombies != 182 || !r.FirstSeen.Equal(seen.Add(-time.Hour)) || !r.LastSeen.Equal(seen) {
		t.Errorf("totals = %d sightings, %d zombies, %v to %v; want 8, 182, %v to %v",
			r.Sightings, r.Zombies, r.FirstSeen, r.LastSeen, seen.Add(-time.Hour), seen)
	}
	madrid := r.Notify[4]
	if madrid.Sightings != 2 || madrid.Zombies != 5 || madrid.Population != 3332035 {
		t.Errorf("Madrid notice = %+v, want 2 sightings, 5 zombies, population 3332035", madrid)
	}
}

func TestHerdPrediction(t *testing.T) {
	t.Parallel()
	seen := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	add := func(p *Predictor, id string, lat, lon float64, count int, heading float64) {
		t.Helper()
		a, err := Analyze(Sighting{ID: id, Time: seen, Lat: lat, Lon: lon, Count: count, Heading: heading})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	// One herd on the equator walking east: 96 km in 24 h, 0.86335 degrees
	// of longitude.
	p := NewPredictor()
	add(p, "a", 0, 10.5, 10, 90)
	h := p.Result().Herds[0]
	if h.HeadingDeg == nil || *h.HeadingDeg != 90 || h.Cohesion != 1 || h.NextLat != 0 || h.NextLon != 11.36335 || h.NextCell != "N00E011" {
		t.Errorf("eastward herd = %+v, want heading 90, cohesion 1, next (0, 11.36335) in N00E011", h)
	}
	// Two equal herds walking north and south cancel out: no heading, no
	// movement.
	p = NewPredictor()
	add(p, "n", 0.25, 10.25, 4, 0)
	add(p, "s", 0.75, 10.75, 4, 180)
	h = p.Result().Herds[0]
	if h.HeadingDeg != nil || h.Cohesion != 0 || h.Lat != 0.5 || h.Lon != 10.5 || h.NextLat != 0.5 || h.NextLon != 10.5 || h.NextCell != "N00E010" {
		t.Errorf("cancelling herds = %+v, want no heading, cohesion 0, staying at (0.5, 10.5)", h)
	}
	// Three walking north and one east, near the antimeridian: the mean
	// heading is atan2(1, 3) = 18.435 degrees, cohesion sqrt(10)/4.
	p = NewPredictor()
	add(p, "n", 10.5, 179.9, 3, 0)
	add(p, "e", 10.5, 179.9, 1, 90)
	h = p.Result().Herds[0]
	if h.HeadingDeg == nil || *h.HeadingDeg != 18.435 || h.Cohesion != 0.791 ||
		h.NextLat != 11.14779 || h.NextLon != -179.8799 || h.NextCell != "N11W180" {
		t.Errorf("mixed herd = %+v, want heading 18.435, cohesion 0.791, next (11.14779, -179.8799) in N11W180", h)
	}
}

func TestEmptyResult(t *testing.T) {
	t.Parallel()
	var zero Predictor
	for _, r := range []Result{zero.Result(), NewPredictor().Result(), {}} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"sightings":0,"zombies":0,"herds":[],"notify":[]}`; string(b) != want {
			t.Errorf("empty result JSON = %s, want %s", b, want)
		}
		if got, want := r.Summary(), "0 sightings, 0 zombies in 0 cells\nNo city to notify.\n"; got != want {
			t.Errorf("empty Summary() = %q, want %q", got, want)
		}
	}
}

func TestAddRejectsBadAnalyses(t *testing.T) {
	t.Parallel()
	good, err := Analyze(Sighting{ID: "s1", Time: time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC),
		Lat: 40.8928, Lon: -74.006, Count: 100, Heading: 180})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(*Analysis)
		want   string
	}{
		{"invalid sighting", func(a *Analysis) { a.Sighting.Count = 0 },
			`sightings: invalid analysis: sightings: invalid sighting "s1": count 0 is outside [1, 1000000]`},
		{"zero analysis", func(a *Analysis) { *a = Analysis{} },
			`sightings: invalid analysis: sightings: invalid sighting "": id is empty; time is zero, want the time of the sighting; ` +
				`count 0 is outside [1, 1000000]`},
		{"wrong cell", func(a *Analysis) { a.Cell = "N41W075" },
			`sightings: invalid analysis "s1": cell "N41W075" does not match the position, want "N40W075"`},
		{"unknown city", func(a *Analysis) { a.City = "Gotham" },
			`sightings: invalid analysis "s1": city "Gotham", "US" is not in the city table`},
		{"threat too high", func(a *Analysis) { a.Threat = 6 },
			`sightings: invalid analysis "s1": threat 6 is outside [0, 5]`},
		{"hours without arrival", func(a *Analysis) { a.Arrival = nil },
			`sightings: invalid analysis "s1": hours_to_city and arrival must be both set or both null`},
		{"negative hours", func(a *Analysis) { a.HoursToCity = ptr(-1.0) },
			`sightings: invalid analysis "s1": hours_to_city -1 is not a finite number >= 0`},
		{"threat without arrival", func(a *Analysis) { a.HoursToCity, a.Arrival = nil, nil },
			`sightings: invalid analysis "s1": threat 5 with no arrival, want an arrival for a threat above 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := good
			tt.change(&a)
			p := NewPredictor()
			err := p.Add(a)
			if !errors.Is(err, ErrInvalidAnalysis) || err.Error() != tt.want {
				t.Fatalf("Add() error =\n%v\nwant\n%s", err, tt.want)
			}
			if b := resultJSON(t, p); !strings.Contains(string(b), `"sightings":0,`) {
				t.Fatalf("a rejected analysis changed the predictor: %s", b)
			}
		})
	}
}

// BenchmarkAnalyzeAdd measures the work per event: Analyze on the worker,
// Add on the coordinator.
func BenchmarkAnalyzeAdd(b *testing.B) {
	ss := Generate(42, 4096)
	p := NewPredictor()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a, err := Analyze(ss[i%len(ss)])
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Add(a); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
