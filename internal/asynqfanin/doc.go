// Package asynqfanin is the baseline that issue 17's benchmarks measure
// fanin against, in the same invocation: the fan-in an Asynq user writes
// without fanin, one task per event. Only benchmarks use it.
package asynqfanin
