package sightings

import "errors"

// Sentinel errors. Returned errors wrap one of them with what was wrong and
// what was expected; check them with errors.Is.
var (
	// ErrInvalidSighting is returned by Sighting.Validate and Analyze for a
	// sighting with a missing ID or time, or a position, count or heading
	// out of range.
	ErrInvalidSighting = errors.New("sightings: invalid sighting")

	// ErrInvalidAnalysis is returned by Predictor.Add for an Analysis that
	// Analyze cannot have produced: an invalid sighting, a cell that does
	// not match the position, an unknown city, a threat out of range or an
	// inconsistent arrival.
	ErrInvalidAnalysis = errors.New("sightings: invalid analysis")

	// ErrCityTable is returned when the embedded city table cannot be
	// parsed (a build defect, caught by the package tests).
	ErrCityTable = errors.New("sightings: bad embedded city table")
)
