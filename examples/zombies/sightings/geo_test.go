package sightings

import (
	"math"
	"testing"
)

func TestCellID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lat, lon float64
		want     string
	}{
		{40.7128, -74.0060, "N40W075"},
		{-33.9249, 18.4241, "S34E018"},
		{0, 0, "N00E000"},
		{-0.5, -0.5, "S01W001"},
		{0.999, 179.999, "N00E179"},
		{90, 0, "N89E000"},
		{-90, 0, "S90E000"},
		{10, 180, "N10W180"},
		{10, -180, "N10W180"},
		{51.5074, -0.1278, "N51W001"},
	}
	for _, bad := range [][2]float64{{90.1, 0}, {0, -180.1}, {math.NaN(), 0}, {0, math.Inf(1)}} {
		tests = append(tests, struct {
			lat, lon float64
			want     string
		}{bad[0], bad[1], ""})
	}
	for _, tt := range tests {
		if got := CellID(tt.lat, tt.lon); got != tt.want {
			t.Errorf("CellID(%v, %v) = %q, want %q", tt.lat, tt.lon, got, tt.want)
		}
	}
}

func TestGeometry(t *testing.T) {
	t.Parallel()
	// One degree of latitude along a meridian is R·π/180.
	oneDeg := EarthRadiusKM * math.Pi / 180
	lat1, lat2 := radians(40), radians(41)
	if d := haversineKM(lat1, 0, math.Cos(lat1), lat2, 0, math.Cos(lat2)); math.Abs(d-oneDeg) > 1e-9 {
		t.Errorf("distance over 1 degree of latitude = %v km, want %v", d, oneDeg)
	}
	if b := bearingDeg(lat1, 0, math.Cos(lat1), lat2, 0, math.Cos(lat2)); math.Abs(b) > 1e-9 {
		t.Errorf("bearing due north = %v, want 0", b)
	}
	// Along the equator, east across the antimeridian.
	lonA, lonB := radians(179.5), radians(-179.5)
	if d := haversineKM(0, lonA, 1, 0, lonB, 1); math.Abs(d-oneDeg) > 1e-9 {
		t.Errorf("distance across the antimeridian = %v km, want %v", d, oneDeg)
	}
	if b := bearingDeg(0, lonA, 1, 0, lonB, 1); math.Abs(b-90) > 1e-9 {
		t.Errorf("bearing east across the antimeridian = %v, want 90", b)
	}
	// destination inverts the distance.
	lat, lon := destination(0, 179.5, 90, oneDeg)
	if math.Abs(lat) > 1e-9 || math.Abs(lon+179.5) > 1e-9 {
		t.Errorf("destination(0, 179.5, east, 1 degree) = %v, %v, want 0, -179.5", lat, lon)
	}
	if got := roundDeg(359.9999); got != 0 {
		t.Errorf("roundDeg(359.9999) = %v, want 0", got)
	}
	if got := roundLon(179.999999); got != -180 {
		t.Errorf("roundLon(179.999999) = %v, want -180", got)
	}
	if got := round3(-0.0001); math.Signbit(got) {
		t.Errorf("round3(-0.0001) = %v, want +0", got)
	}
	for _, tt := range []struct{ a, b, want float64 }{{10, 350, 20}, {0, 180, 180}, {90, 45, 45}, {359, 1, 2}} {
		if got := angleDiff(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("angleDiff(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
