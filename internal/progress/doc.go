// Package progress follows a fanin job until it ends, showing its progress:
// a live bar for people (done, failed, pending, rate, ETA) or one JSON line
// per poll for scripts.
package progress
