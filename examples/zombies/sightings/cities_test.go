package sightings

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCities(t *testing.T) {
	t.Parallel()
	cities, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	if len(cities) < 40 || len(cities) > 60 {
		t.Fatalf("Cities() has %d cities, want 40 to 60", len(cities))
	}
	// Sorted by name: the nearest-city search breaks ties by table order.
	if !slices.IsSortedFunc(cities, func(a, b City) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("the city table is not sorted by name")
	}
	for i := 1; i < len(cities); i++ {
		if cities[i].Name == cities[i-1].Name {
			t.Errorf("city %q listed twice", cities[i].Name)
		}
	}
	want := City{Name: "New York", Country: "US", Lat: 40.7128, Lon: -74.006, Population: 8336817}
	if !slices.Contains(cities, want) {
		t.Errorf("Cities() lacks %+v", want)
	}
	cities[0].Name = "Changed"
	again, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Name == "Changed" {
		t.Error("Cities() returned the table itself, want a copy")
	}
}

func TestParseCitiesErrors(t *testing.T) {
	t.Parallel()
	const header = "name,country,lat,lon,population\n"
	tests := []struct{ name, text, want string }{
		{"no header", "Paris,FR,48.8566,2.3522,2102650\n",
			`sightings: bad embedded city table: want the header "name,country,lat,lon,population" and at least one city`},
		{"no city", header,
			`sightings: bad embedded city table: want the header "name,country,lat,lon,population" and at least one city`},
		{"missing field", header + "Paris,FR,48.8566,2.3522\n",
			"sightings: bad embedded city table: record on line 2: wrong number of fields"},
		{"bad country", header + "Paris,FRA,48.8566,2.3522,2102650\n",
			`sightings: bad embedded city table: line 2: want a name and a two-letter country code, got "Paris", "FRA"`},
		{"bad lat", header + "Paris,FR,98.8566,2.3522,2102650\n",
			`sightings: bad embedded city table: line 2: lat "98.8566" is not a number in [-90, 90]`},
		{"bad lon", header + "Paris,FR,48.8566,east,2102650\n",
			`sightings: bad embedded city table: line 2: lon "east" is not a number in [-180, 180]`},
		{"bad population", header + "Paris,FR,48.8566,2.3522,0\n",
			`sightings: bad embedded city table: line 2: population "0" is not a positive integer`},
		{"duplicate", header + "Paris,FR,48.8566,2.3522,2102650\nParis,FR,48.8566,2.3522,2102650\n",
			"sightings: bad embedded city table: line 3: city Paris, FR listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseCities(tt.text)
			if !errors.Is(err, ErrCityTable) || err.Error() != tt.want {
				t.Fatalf("parseCities() error =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}
