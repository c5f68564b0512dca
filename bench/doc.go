// Package bench compares fanin's locks with github.com/bsm/redislock and
// github.com/go-redsync/redsync/v4 on one Redis, in one run. It is a module
// of its own so the peers never enter fanin's go.mod. See
// docs/BENCHMARKS.md for the command and the results.
package bench
