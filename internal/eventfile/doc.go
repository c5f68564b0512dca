// Package eventfile reads the events of a job from JSON lines: one event
// per line, its payload the line itself. Blank lines are skipped. The event
// ID is the line's top-level string field named by IDField ("id" by
// default); a line without one gets a generated ID.
//
// A malformed line is an error naming the input and the line number.
package eventfile
