package zombiejob

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/fanin-dev/fanin/examples/zombies/sightings"
	"github.com/fanin-dev/fanin/jobs"
)

// Kind is the kind of zombies jobs: their events are sightings.Sighting as
// JSON, their outputs sightings.Analysis as JSON, their result a
// sightings.Result as JSON.
const Kind = "zombies.sighting"

// RegisterHandler registers the zombies handler on mux for Kind: each event
// is decoded into a sightings.Sighting and analysed with sightings.Analyze.
// An invalid sighting fails its event at once (jobs.ErrBadInput): retrying
// cannot fix it.
func RegisterHandler(mux *jobs.Mux) error {
	return jobs.Handle(mux, Kind, Handle)
}

// Handle is the zombies handler: it analyses one sighting. An invalid
// sighting is an error wrapping jobs.ErrBadInput.
func Handle(ctx context.Context, s sightings.Sighting) (sightings.Analysis, error) {
	a, err := sightings.Analyze(s)
	if err != nil {
		return a, fmt.Errorf("%w: %w", jobs.ErrBadInput, err)
	}
	return a, nil
}

// Reducer returns the zombies reducer: it folds every analysis of the job
// into a sightings.Predictor and returns its Result as JSON. An output that
// is not a valid analysis fails the reduction, naming the event.
func Reducer() jobs.Reducer {
	return jobs.Fold(
		func(jobs.JobInfo) *sightings.Predictor { return sightings.NewPredictor() },
		func(p *sightings.Predictor, eventID string, a sightings.Analysis) (*sightings.Predictor, error) {
			if err := p.Add(a); err != nil {
				return p, fmt.Errorf("zombiejob: output of event %q: %w", eventID, err)
			}
			return p, nil
		},
		func(p *sightings.Predictor) ([]byte, error) { return json.Marshal(p.Result()) },
	)
}

// Events returns the sightings of seq as fanin events: the event ID is the
// sighting ID and the payload its JSON.
func Events(seq iter.Seq[sightings.Sighting]) ([]jobs.Event, error) {
	var events []jobs.Event
	for s := range seq {
		e, err := jobs.JSONEvent(s.ID, s)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// Summary decodes a zombies result and returns its text summary
// (sightings.Result.Summary).
func Summary(result []byte) (string, error) {
	var r sightings.Result
	if err := json.Unmarshal(result, &r); err != nil {
		return "", fmt.Errorf("zombiejob: result is not a zombies result: %w", err)
	}
	return r.Summary(), nil
}
