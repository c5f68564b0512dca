package sightings

import "math"

// EarthRadiusKM is the mean radius of the Earth used for every distance: the
// Earth is taken as a sphere.
const EarthRadiusKM = 6371.0

// CellID names the 1°×1° grid cell holding a position: the latitude of its
// south-west corner (N or S, two digits) then the longitude (E or W, three
// digits). "N40W075" is the cell with latitudes in [40, 41) and longitudes in
// [-75, -74); "S34E018" has latitudes in [-34, -33) and longitudes in
// [18, 19). Latitude 90 belongs to the N89 row, longitude 180 to the W180
// column (the same meridian as -180). It returns "" for a position outside
// those ranges (or NaN).
func CellID(lat, lon float64) string {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return ""
	}
	b := cellBytes(lat, lon)
	return string(b[:])
}

// cellBytes is CellID without the allocation, for a valid position.
func cellBytes(lat, lon float64) [7]byte {
	la := int(math.Floor(lat))
	if la > 89 {
		la = 89
	}
	lo := int(math.Floor(normLon(lon)))
	var b [7]byte
	b[0], b[3] = 'N', 'E'
	if la < 0 {
		b[0], la = 'S', -la
	}
	if lo < 0 {
		b[3], lo = 'W', -lo
	}
	b[1], b[2] = byte('0'+la/10), byte('0'+la%10)
	b[4], b[5], b[6] = byte('0'+lo/100), byte('0'+lo/10%10), byte('0'+lo%10)
	return b
}

// radians converts degrees to radians.
func radians(deg float64) float64 { return deg * math.Pi / 180 }

// degrees converts radians to degrees.
func degrees(rad float64) float64 { return rad * 180 / math.Pi }

// haversineKM is the great-circle distance between two points given in
// radians, with the cosines of their latitudes.
func haversineKM(lat1, lon1, cos1, lat2, lon2, cos2 float64) float64 {
	sLat := math.Sin((lat2 - lat1) / 2)
	sLon := math.Sin((lon2 - lon1) / 2)
	h := sLat*sLat + cos1*cos2*sLon*sLon
	return 2 * EarthRadiusKM * math.Asin(math.Sqrt(math.Min(1, h)))
}

// unitVector is the point at (lat, lon) (radians) on the unit sphere. The
// straight-line (chord) distance between two such points grows with their
// great-circle distance, so comparing chords finds the nearest point without
// a trigonometric call per candidate.
func unitVector(lat, lon float64) (x, y, z float64) {
	cosLat := math.Cos(lat)
	return cosLat * math.Cos(lon), cosLat * math.Sin(lon), math.Sin(lat)
}

// bearingDeg is the initial great-circle bearing from point 1 to point 2
// (radians in), in degrees clockwise from north, in [-180, 180].
func bearingDeg(lat1, lon1, cos1, lat2, lon2, cos2 float64) float64 {
	dLon := lon2 - lon1
	y := math.Sin(dLon) * cos2
	x := cos1*math.Sin(lat2) - math.Sin(lat1)*cos2*math.Cos(dLon)
	return degrees(math.Atan2(y, x))
}

// destination is the point reached from (lat, lon) (degrees) after distKM
// along the great circle with initial bearing headingDeg. The longitude is
// in [-180, 180).
func destination(lat, lon, headingDeg, distKM float64) (float64, float64) {
	lat1, lon1, theta := radians(lat), radians(lon), radians(headingDeg)
	delta := distKM / EarthRadiusKM
	sinLat2 := math.Sin(lat1)*math.Cos(delta) + math.Cos(lat1)*math.Sin(delta)*math.Cos(theta)
	lat2 := math.Asin(math.Max(-1, math.Min(1, sinLat2)))
	lon2 := lon1 + math.Atan2(math.Sin(theta)*math.Sin(delta)*math.Cos(lat1), math.Cos(delta)-math.Sin(lat1)*sinLat2)
	return degrees(lat2), wrapLon(degrees(lon2))
}

// normDeg maps an angle in degrees into [0, 360).
func normDeg(d float64) float64 {
	d = math.Mod(d, 360)
	if d < 0 {
		d += 360
	}
	if d >= 360 || d == 0 {
		return 0 // also turns -0 into 0
	}
	return d
}

// wrapLon maps a longitude in degrees into [-180, 180).
func wrapLon(lon float64) float64 { return normDeg(lon+180) - 180 }

// roundDeg rounds a direction to 3 decimals in [0, 360).
func roundDeg(d float64) float64 {
	r := round3(normDeg(d))
	if r >= 360 {
		return 0
	}
	return r
}

// roundLon rounds a longitude to 5 decimals in [-180, 180).
func roundLon(lon float64) float64 {
	r := round5(wrapLon(lon))
	if r >= 180 {
		return -180
	}
	return r
}

// angleDiff is the absolute difference between two directions in degrees,
// in [0, 180].
func angleDiff(a, b float64) float64 {
	d := math.Abs(math.Mod(a-b, 360))
	if d > 180 {
		d = 360 - d
	}
	return d
}

// round3 rounds x to 3 decimals, so that results print the same everywhere.
func round3(x float64) float64 { return roundTo(x, 1e3) }

// round5 rounds x to 5 decimals (about a metre for coordinates).
func round5(x float64) float64 { return roundTo(x, 1e5) }

// roundTo rounds x to a multiple of 1/scale, never returning -0 (which
// would print as "-0").
func roundTo(x, scale float64) float64 {
	r := math.Round(x*scale) / scale
	if r == 0 {
		return 0
	}
	return r
}
