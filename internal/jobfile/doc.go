// Package jobfile submits a job whose events are JSON lines (see package
// eventfile), in bounded memory whatever the number of events: the input is
// read twice, checked whole first (every line parsed, the event sizes, their
// number and the caller-given IDs checked as Producer.Submit would, keeping 8
// bytes per caller-given ID), then submitted in batches with
// Producer.Open, Job.Add and Job.Seal. A malformed line or a bad event
// therefore submits nothing.
//
// An input that cannot be read twice (stdin, a pipe, an HTTP request body) is
// copied to a temporary file during the first pass. `coordinator submit` and
// the HTTP API's POST /jobs both submit through this package.
package jobfile
