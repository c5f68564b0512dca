// Package asynqtest holds the test-only tools that reach into Asynq's own
// Redis keys. Nothing outside tests uses it: fanin itself talks to Asynq
// through its public API only.
package asynqtest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// leaseKey is Asynq's (v0.26, base.LeaseKey) sorted set of the leases of a
// queue's active tasks, scored in Unix seconds.
func leaseKey(queue string) string { return "asynq:{" + queue + "}:lease" }

// BackdateLeases moves the lease of every active task of queue 2 minutes
// into the past and returns how many there were, so that the recoverer of
// the next Asynq server to start hands them back at once instead of 60-120 s
// later. Fault tests use it to keep their run time small after a worker is
// killed or Redis drops a reply; they say in their log when they do. It
// retries for about 10 s while Redis is coming back.
func BackdateLeases(tb testing.TB, client redis.UniversalClient, queue string) int {
	tb.Helper()
	ctx := context.Background()
	key := leaseKey(queue)
	for range 100 {
		ids, err := client.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		past := float64(time.Now().Add(-2 * time.Minute).Unix())
		for _, id := range ids {
			if err := client.ZAddXX(ctx, key, redis.Z{Score: past, Member: id}).Err(); err != nil {
				tb.Fatalf("asynqtest: backdate lease of %s in %s: %v", id, key, err)
			}
		}
		return len(ids)
	}
	tb.Fatalf("asynqtest: could not read %s", key)
	return 0
}
