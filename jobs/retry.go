package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/fanin-dev/fanin/workoutput"
)

// Retry puts the failed and missing events of a failed or partial job back
// to work and enqueues them again on the producer's queue, from the
// payloads the workers kept with the failures (workoutput.Store.Retry):
// the job keeps its outputs, runs again with a fresh count of attempts per
// event and a new deadline, and is collected and committed again, under a
// new fencing token. It returns what Store.Retry did.
//
// It is refused, and nothing changes, for a job that is not failed or
// partial (workoutput.ErrState), whose data is no longer retained
// (workoutput.ErrNotRetained), or whose failed or missing events cannot all
// run again (workoutput.ErrNotRetriable: never sealed, none, or some
// without a kept payload, such as events that never ran).
//
// The retry rides out a short outage (its key makes a repeated call
// harmless). A retry that the master applied but its replicas did not
// acknowledge within ReplicaWait (workoutput.ErrNotReplicated) runs: its
// events are enqueued, and the error says the replicas lag; a later call
// would find the job running and be refused. If enqueuing fails part way,
// the job runs again with some
// events not enqueued: it is collected at its new deadline with them
// missing, their payloads still kept, and can be retried again then; the
// error says so.
func (p *Producer) Retry(ctx context.Context, jobID string) (workoutput.Retried, error) {
	st, err := p.store.Status(ctx, jobID)
	if err != nil {
		return workoutput.Retried{}, err
	}
	key := uuid.NewString()
	var res workoutput.Retried
	lagging := p.ride(ctx, "retry job "+jobID, func() (err error) {
		res, err = p.store.Retry(ctx, jobID, key)
		return err
	})
	if lagging != nil && !errors.Is(lagging, workoutput.ErrNotReplicated) {
		return res, lagging
	}
	// Applied: with ErrNotReplicated, on the master (Store.Retry's answer
	// is the master's), not yet on its replicas. The key is this call's
	// own: an Again can only be the answer to its own earlier attempt.
	res.Again = false
	if err := p.enqueueRetryable(ctx, jobID, st.Kind, st.MaxRetry); err != nil {
		return res, fmt.Errorf("jobs: job %s runs again, but enqueuing its events failed: %w (the events not enqueued are collected missing at its deadline, %s, with their payloads kept: retry the job again then)",
			jobID, err, res.Deadline.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if lagging != nil {
		return res, fmt.Errorf("jobs: job %s runs again and its events are enqueued, but %w", jobID, lagging)
	}
	return res, nil
}

// enqueueRetryable enqueues the events of jobID that have a kept payload
// and neither output nor failure (workoutput.Store.Retryable), a batch of
// Concurrency chunks at a time: generated IDs in runs of consecutive
// sequence numbers, caller-given IDs in chunks of ChunkSize.
func (p *Producer) enqueueRetryable(ctx context.Context, jobID, kind string, maxRetry int) error {
	var (
		seqs  []int64
		given []string
	)
	for id, err := range p.store.Retryable(ctx, jobID) {
		if err != nil {
			return err
		}
		if n, ok := workoutput.ParseGeneratedID(id); ok {
			seqs = append(seqs, n)
		} else {
			given = append(given, id)
		}
	}
	slices.Sort(seqs)
	slices.Sort(given)
	ids := make([]string, 0, len(seqs)+len(given))
	for _, n := range seqs {
		ids = append(ids, workoutput.GeneratedID(n))
	}
	ids = append(ids, given...)
	batch := p.cfg.ChunkSize * p.cfg.Concurrency
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		payloads, err := p.store.Payloads(ctx, jobID, part)
		if err != nil {
			return err
		}
		var spans []span
		for i := 0; i < len(part); {
			n, generated := workoutput.ParseGeneratedID(part[i])
			j := i + 1
			for j < len(part) {
				m, ok := workoutput.ParseGeneratedID(part[j])
				if ok != generated || (generated && m != n+int64(j-i)) {
					break
				}
				j++
			}
			events := make([]Event, j-i)
			for k := range events {
				events[k] = Event{Payload: payloads[i+k]}
				if !generated {
					events[k].ID = part[i+k]
				}
			}
			spans = p.plan(spans, events, generated, n)
			i = j
		}
		if err := p.send(ctx, jobID, kind, maxRetry, spans); err != nil {
			return err
		}
	}
	return nil
}
