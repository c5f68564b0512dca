// Package test holds fanin's end-to-end and fault tests: they build and run
// the worker and coordinator binaries against real redis-server processes.
// Unit tests live beside the code they test.
package test
