package jobs

import (
	"context"
	"time"
)

// ctxKey is the type of the context keys of this package.
type ctxKey int

const (
	jobIDKey ctxKey = iota
	eventIDKey
)

// eventContext is the context a handler gets for one event: that of the
// goroutine running the chunk's events (see runner.go), which is cancelled
// with the cause ErrEventTimeout when the event runs past its timeout,
// carrying the job and event IDs and reporting the event's deadline. One
// value per event, where context.WithTimeout and two WithValue would cost
// more than a trivial handler (docs/BENCHMARKS.md).
type eventContext struct {
	context.Context
	jobID, eventID string
	deadline       time.Time
}

// Deadline returns the event's deadline, or the chunk's when earlier.
func (c *eventContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Err returns context.DeadlineExceeded once the event timed out, as a
// context.WithTimeout would.
func (c *eventContext) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == ErrEventTimeout {
		return context.DeadlineExceeded
	}
	return err
}

// Value returns the job and event IDs for their keys.
func (c *eventContext) Value(key any) any {
	switch key {
	case jobIDKey:
		return c.jobID
	case eventIDKey:
		return c.eventID
	}
	return c.Context.Value(key)
}

// JobID returns the ID of the job whose event a handler is processing, or ""
// outside a handler.
func JobID(ctx context.Context) string {
	s, _ := ctx.Value(jobIDKey).(string)
	return s
}

// EventID returns the ID of the event a handler is processing, or ""
// outside a handler.
func EventID(ctx context.Context) string {
	s, _ := ctx.Value(eventIDKey).(string)
	return s
}
