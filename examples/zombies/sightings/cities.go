package sightings

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// City is a city of the embedded table: where herds may be heading and who
// to notify.
type City struct {
	// Name is the English name of the city, unique in the table.
	Name string `json:"name"`
	// Country is the ISO 3166-1 alpha-2 code of its country.
	Country string `json:"country"`
	// Lat and Lon are the coordinates of the city centre in degrees.
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// Population is an approximate, rounded population of the city proper.
	Population int64 `json:"population"`
}

// citiesCSV is the embedded table: a header line
// "name,country,lat,lon,population", then one city a line.
//
//go:embed cities.csv
var citiesCSV string

// cityKey identifies a city in the table.
type cityKey struct{ name, country string }

// place is a city with what the nearest-city search needs precomputed: its
// coordinates in radians and its unit vector (x toward 0°N 0°E, z toward the
// north pole).
type place struct {
	City
	latRad, lonRad, cosLat float64
	x, y, z                float64
}

// table is the parsed city table, read-only once built.
type table struct {
	places []place
	index  map[cityKey]int
}

// cityTable parses the embedded table once, on first use. It holds no
// mutable state: the result is never modified after parsing.
var cityTable = sync.OnceValues(func() (*table, error) { return parseCities(citiesCSV) })

// Cities returns a copy of the embedded city table, in table order (by
// name).
func Cities() ([]City, error) {
	t, err := cityTable()
	if err != nil {
		return nil, err
	}
	out := make([]City, len(t.places))
	for i, p := range t.places {
		out[i] = p.City
	}
	return out, nil
}

// lookup returns the city named name in country.
func (t *table) lookup(name, country string) (City, bool) {
	i, ok := t.index[cityKey{name, country}]
	if !ok {
		return City{}, false
	}
	return t.places[i].City, true
}

// parseCities parses a city table in the format of cities.csv.
func parseCities(text string) (*table, error) {
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCityTable, err)
	}
	const header = "name,country,lat,lon,population"
	if len(rows) < 2 || strings.Join(rows[0], ",") != header {
		return nil, fmt.Errorf("%w: want the header %q and at least one city", ErrCityTable, header)
	}
	t := &table{index: make(map[cityKey]int, len(rows)-1)}
	for n, row := range rows[1:] {
		c, err := parseCity(row)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrCityTable, n+2, err)
		}
		k := cityKey{c.Name, c.Country}
		if _, dup := t.index[k]; dup {
			return nil, fmt.Errorf("%w: line %d: city %s, %s listed twice", ErrCityTable, n+2, c.Name, c.Country)
		}
		t.index[k] = len(t.places)
		lat, lon := radians(c.Lat), radians(c.Lon)
		x, y, z := unitVector(lat, lon)
		t.places = append(t.places, place{City: c, latRad: lat, lonRad: lon, cosLat: math.Cos(lat), x: x, y: y, z: z})
	}
	return t, nil
}

// parseCity parses one row of the table.
func parseCity(row []string) (City, error) {
	c := City{Name: row[0], Country: row[1]}
	if c.Name == "" || len(c.Country) != 2 {
		return c, fmt.Errorf("want a name and a two-letter country code, got %q, %q", row[0], row[1])
	}
	var err error
	if c.Lat, err = strconv.ParseFloat(row[2], 64); err != nil || !(c.Lat >= -90 && c.Lat <= 90) {
		return c, fmt.Errorf("lat %q is not a number in [-90, 90]", row[2])
	}
	if c.Lon, err = strconv.ParseFloat(row[3], 64); err != nil || !(c.Lon >= -180 && c.Lon <= 180) {
		return c, fmt.Errorf("lon %q is not a number in [-180, 180]", row[3])
	}
	if c.Population, err = strconv.ParseInt(row[4], 10, 64); err != nil || c.Population < 1 {
		return c, fmt.Errorf("population %q is not a positive integer", row[4])
	}
	return c, nil
}
