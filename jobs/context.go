package jobs

import "context"

// ctxKey is the type of the context keys of this package.
type ctxKey int

const (
	jobIDKey ctxKey = iota
	eventIDKey
)

// withEvent returns ctx carrying the job and event IDs.
func withEvent(ctx context.Context, jobID, eventID string) context.Context {
	return context.WithValue(context.WithValue(ctx, jobIDKey, jobID), eventIDKey, eventID)
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
