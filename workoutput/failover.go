package workoutput

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// followFailover makes a Redis Cluster client reload its slot map as soon
// as a command fails with a network error or CLUSTERDOWN, so that it finds
// the replica promoted after a master died.
//
// Without it, go-redis reloads the slot map on a MOVED reply or every
// ClusterOptions.ClusterStateReloadInterval (60 s by default), but a dead
// master answers nothing: every command for its slots fails (connection
// refused) until the periodic reload, for up to a minute after the
// failover has finished. The client is shared with Asynq (workers,
// coordinator), so the hook serves Asynq's commands too. ReloadState only
// schedules a reload in the background, and go-redis runs at most one at
// a time, so a burst of failures costs one CLUSTER SLOTS every 200 ms.
//
// Other clients are left alone.
func followFailover(client redis.UniversalClient) {
	if cc, ok := client.(*redis.ClusterClient); ok {
		cc.AddHook(failoverHook{cc})
	}
}

// failoverHook is the hook followFailover installs.
type failoverHook struct{ c *redis.ClusterClient }

func (h failoverHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h failoverHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

func (h failoverHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(ctx, err)
		return err
	}
}

// check schedules a reload of the slot map when err says a node is gone or
// the cluster is reconfiguring.
func (h failoverHook) check(ctx context.Context, err error) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return // the caller's context, not the cluster
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.HasPrefix(err.Error(), "CLUSTERDOWN") {
		h.c.ReloadState(ctx)
	}
}
