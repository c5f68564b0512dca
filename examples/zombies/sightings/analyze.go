package sightings

import (
	"math"
	"time"
)

// The model's constants. They are part of the result: changing one changes
// every analysis.
const (
	// WalkingSpeedKMH is how fast a herd shambles, in km/h. Zombies do not
	// rest, so a herd covers 96 km a day.
	WalkingSpeedKMH = 4.0

	// ApproachToleranceDeg is how far, in degrees, a herd's heading may be
	// from the bearing to a city for the herd to count as approaching it.
	ApproachToleranceDeg = 45.0

	// InsideRadiusKM is the distance to a city centre within which a herd
	// is in the city, whatever its heading.
	InsideRadiusKM = 10.0

	// MaxThreat is the highest threat level.
	MaxThreat = 5
)

// Analysis is the handler's output for one sighting: where the herd is, the
// city it threatens and how soon. Every computed number is rounded to 3
// decimals so that its JSON is the same on every platform.
type Analysis struct {
	// Sighting is the analysed sighting, its time in UTC.
	Sighting Sighting `json:"sighting"`
	// Cell is the grid cell of the sighting (see CellID).
	Cell string `json:"cell"`
	// City and Country name the nearest city of the table (see Cities).
	City    string `json:"city"`
	Country string `json:"country"`
	// DistanceKM is the great-circle distance to the city centre.
	DistanceKM float64 `json:"distance_km"`
	// BearingDeg is the initial bearing from the herd to the city, in
	// degrees clockwise from north, in [0, 360).
	BearingDeg float64 `json:"bearing_deg"`
	// Approaching reports whether the heading is within
	// ApproachToleranceDeg of BearingDeg.
	Approaching bool `json:"approaching"`
	// HoursToCity is the time the herd needs to reach the city centre at
	// WalkingSpeedKMH: 0 inside the city (within InsideRadiusKM), the
	// distance over the speed when approaching, null when walking away.
	HoursToCity *float64 `json:"hours_to_city"`
	// Arrival is the sighting time plus HoursToCity, to the second; null
	// when HoursToCity is null.
	Arrival *time.Time `json:"arrival"`
	// Threat is the threat level the herd poses to the city, 0 to
	// MaxThreat; see Analyze for the formula.
	Threat int `json:"threat"`
}

// Analyze is the handler of the example: it validates s and analyses it. It
// is a pure function of s: the same sighting gives the same Analysis on
// every worker and every retry.
//
// The nearest city is the one at the smallest great-circle distance
// (haversine on a sphere of EarthRadiusKM; ties go to the first name in
// alphabetical order). The threat level is
//
//	proximity = 3 if the herd is in the city or arrives within 12 h,
//	            2 if it arrives within 48 h, 1 within 168 h (a week),
//	            0 otherwise (including walking away);
//	size      = 2 for 100 zombies or more, 1 for 10 to 99, 0 below;
//	threat    = 0 if proximity is 0, else proximity + size (1 to 5).
//
// A herd far away or walking away is no threat whatever its size.
func Analyze(s Sighting) (Analysis, error) {
	if err := s.Validate(); err != nil {
		return Analysis{}, err
	}
	t, err := cityTable()
	if err != nil {
		return Analysis{}, err
	}
	s.Time = s.Time.UTC()
	lat, lon := radians(s.Lat), radians(s.Lon)
	cosLat := math.Cos(lat)
	x, y, z := unitVector(lat, lon)
	best, bestChord := 0, math.Inf(1)
	for i := range t.places {
		p := &t.places[i]
		dx, dy, dz := p.x-x, p.y-y, p.z-z
		if c := dx*dx + dy*dy + dz*dz; c < bestChord {
			best, bestChord = i, c
		}
	}
	p := &t.places[best]
	a := Analysis{
		Sighting:   s,
		Cell:       CellID(s.Lat, s.Lon),
		City:       p.Name,
		Country:    p.Country,
		DistanceKM: round3(haversineKM(lat, lon, cosLat, p.latRad, p.lonRad, p.cosLat)),
	}
	if a.DistanceKM > 0 {
		a.BearingDeg = roundDeg(bearingDeg(lat, lon, cosLat, p.latRad, p.lonRad, p.cosLat))
	}
	a.Approaching = angleDiff(a.BearingDeg, s.Heading) <= ApproachToleranceDeg
	switch {
	case a.DistanceKM <= InsideRadiusKM:
		a.setHours(0)
	case a.Approaching:
		a.setHours(round3(a.DistanceKM / WalkingSpeedKMH))
	}
	a.Threat = threat(a.HoursToCity, s.Count)
	return a, nil
}

// setHours sets HoursToCity and the matching Arrival.
func (a *Analysis) setHours(h float64) {
	arrival := a.Sighting.Time.Add(time.Duration(math.Round(h*3600)) * time.Second)
	a.HoursToCity, a.Arrival = &h, &arrival
}

// threat is the threat level formula documented on Analyze.
func threat(hours *float64, count int) int {
	proximity := 0
	switch {
	case hours == nil:
	case *hours <= 12:
		proximity = 3
	case *hours <= 48:
		proximity = 2
	case *hours <= 168:
		proximity = 1
	}
	if proximity == 0 {
		return 0
	}
	switch {
	case count >= 100:
		return proximity + 2
	case count >= 10:
		return proximity + 1
	}
	return proximity
}
