package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// Redis outages.
//
// Every call of the store that changes a job is idempotent (a retry after a
// lost reply gets the first call's answer), so a call that fails because
// Redis is unavailable (down, paused, failing over, or a write its replicas
// did not acknowledge) is simply made again. The producer, the worker and
// the coordinator all ride out an outage this way, through untilAvailable;
// only an error that is not an outage is the caller's to handle.

// outageRide bounds how long the worker and the producer keep trying: about
// one Asynq lease, which the worker cannot extend without Redis anyway.
const outageRide = 30 * time.Second

// untilAvailable calls fn until it returns something other than an error
// wrapping cache.ErrUnavailable, ctx ends or ride has passed (ride <= 0:
// until ctx ends), pausing 50 ms doubling up to 1 s between calls.
//
// For the worker, ctx is the task's: Asynq cancels it when the worker's
// lease on the task runs out (30 s without Redis) or the server shuts down.
// A chunk thus rides out a short outage in its worker instead of failing:
// its handlers' work is kept, and Asynq is not asked to retry the task while
// Redis is unavailable (Asynq v0.26 cannot: a Retry or Done that fails is
// re-attempted with a cancelled context, so the task waits for Asynq's
// recoverer, 60 to 120 s).
func untilAvailable(ctx context.Context, ride time.Duration, fn func() error) error {
	pause := 50 * time.Millisecond
	var end time.Time
	if ride > 0 {
		end = time.Now().Add(ride)
	}
	for {
		err := fn()
		if err == nil || !isOutage(err) || ctx.Err() != nil || (!end.IsZero() && time.Now().After(end)) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// isOutage reports whether err says Redis was unavailable (the call may or
// may not have been applied; retrying it is safe).
func isOutage(err error) bool { return errors.Is(err, cache.ErrUnavailable) }
