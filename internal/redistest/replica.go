package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartReplica starts a dedicated redis-server (plain TCP, no password)
// replicating master, and returns once the replica has finished its initial
// sync. It is stopped with the test, like StartServer's.
func StartReplica(tb testing.TB, master *Server, opts ServerOptions) *Server {
	tb.Helper()
	if master.opts.TLS || master.opts.Password != "" || opts.TLS {
		tb.Fatalf("redistest: StartReplica supports plain TCP masters without a password")
	}
	opts.Args = append(append([]string{}, opts.Args...), fmt.Sprintf("replicaof 127.0.0.1 %d", master.Port()))
	r := StartServer(tb, opts)
	if err := r.waitReplication("master_link_status:up", 30*time.Second); err != nil {
		tb.Fatalf("redistest: replica %s never synced with %s: %v\n%s", r.Addr(), master.Addr(), err, r.logTail())
	}
	return r
}

// WaitPromoted waits until the server, a replica, reports itself a master
// (after its master died, a cluster promotes it), polling every 50 ms. The
// test fails when that takes longer than timeout.
func (s *Server) WaitPromoted(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	if err := s.waitReplication("role:master", timeout); err != nil {
		tb.Fatalf("redistest: %s was not promoted to master within %v: %v", s.Addr(), timeout, err)
	}
}

// waitReplication polls INFO replication until it contains want, for at
// most timeout.
func (s *Server) waitReplication(want string, timeout time.Duration) error {
	c := redis.NewClient(s.Options())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return waitFor(ctx, func() (bool, error) {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, want), err
	})
}
