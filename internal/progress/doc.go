// Package progress follows a fanin job, or any counted task, and shows its
// progress for people or scripts.
//
// A Meter measures a count's rate over a sliding window (DefaultWindow) and
// the time left at that rate: no rate before the samples span MinSpan (no
// absurd first value), and an idle count is "idle for 40s", never "0
// events/hr". It takes the caller's clock with each sample, so it serves a
// terminal, a dashboard or a test alike.
//
// A Display shows one task: a line redrawn in place on a terminal (Bar),
// one frame per update, or plain periodic lines without '\r' for logs and
// pipes (Lines); the text fits the width (at least MinWidth columns) and
// comes first: a bar follows it only when it leaves the bar room. What the
// task waits for is never cut: it gets lines of its own (Bar), or follows
// the text in parentheses (Lines). Follow polls a job until it
// ends and shows its phase (open, running, waiting for a coordinator,
// reducing, its final state), counts, rate and ETA, or one JSON line per
// poll (JSONLines).
package progress
