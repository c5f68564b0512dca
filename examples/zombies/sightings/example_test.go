package sightings_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/fanin-dev/fanin/examples/zombies/sightings"
)

// A herd seen 20 km north of New York, walking south: it reaches the city
// in about 5 hours.
func ExampleAnalyze() {
	a, err := sightings.Analyze(sightings.Sighting{
		ID:      "s000001",
		Time:    time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC),
		Lat:     40.8928,
		Lon:     -74.006,
		Count:   120,
		Heading: 185,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.MarshalIndent(a, "", "  ")
	fmt.Println(string(b))
	// Output:
	// {
	//   "sighting": {
	//     "id": "s000001",
	//     "time": "2026-10-31T06:00:00Z",
	//     "lat": 40.8928,
	//     "lon": -74.006,
	//     "count": 120,
	//     "heading": 185
	//   },
	//   "cell": "N40W075",
	//   "city": "New York",
	//   "country": "US",
	//   "distance_km": 20.015,
	//   "bearing_deg": 180,
	//   "approaching": true,
	//   "hours_to_city": 5.004,
	//   "arrival": "2026-10-31T11:00:14Z",
	//   "threat": 5
	// }
}

// The reduce step: two workers' analyses folded into two Predictors, merged
// in any order, then summarised.
func ExamplePredictor() {
	seen := time.Date(2026, 10, 31, 6, 0, 0, 0, time.UTC)
	reports := []sightings.Sighting{
		{ID: "s1", Time: seen, Lat: 40.8928, Lon: -74.006, Count: 120, Heading: 185},
		{ID: "s2", Time: seen, Lat: 41.7128, Lon: -74.006, Count: 30, Heading: 170},
		{ID: "s3", Time: seen.Add(time.Hour), Lat: 51.5074, Lon: -0.1278, Count: 8, Heading: 90},
		{ID: "s4", Time: seen, Lat: 30.5, Lon: -40.5, Count: 40, Heading: 0},
	}
	workers := []*sightings.Predictor{sightings.NewPredictor(), sightings.NewPredictor()}
	for i, s := range reports {
		a, err := sightings.Analyze(s)
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := workers[i%2].Add(a); err != nil {
			fmt.Println(err)
			return
		}
	}
	total := sightings.NewPredictor()
	total.Merge(workers[1])
	total.Merge(workers[0])
	fmt.Print(total.Result().Summary())
	// Output:
	// 4 sightings, 198 zombies in 4 cells, seen 2026-10-31T06:00:00Z to 2026-10-31T07:00:00Z
	// Largest herds:
	//   1. N40W075: 120 zombies in 1 sighting, heading 185 deg, cohesion 1.00 -> N40W075 in 24 h
	//   2. N30W041: 40 zombies in 1 sighting, heading 0 deg, cohesion 1.00 -> N31W041 in 24 h
	//   3. N41W075: 30 zombies in 1 sighting, heading 170 deg, cohesion 1.00 -> N40W074 in 24 h
	//   4. N51W001: 8 zombies in 1 sighting, heading 90 deg, cohesion 1.00 -> N51E001 in 24 h
	// Cities to notify (2), most threatened first:
	//   1. New York, US (pop. 8336817): threat 5, earliest arrival 2026-10-31T11:00:14Z, 150 zombies in 2 sightings
	//   2. London, GB (pop. 8799800): threat 3, earliest arrival 2026-10-31T07:00:00Z, 8 zombies in 1 sighting
}
