package workoutput

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
)

// Replicated writes (Config.ReplicaAcks).
//
// Redis replicates asynchronously: a master acknowledges a write before
// any replica has it, and a failover that promotes a replica loses what the
// replica had not received. With ReplicaAcks set, every write of the Store
// runs on the master that serves its keys, in one pipeline on one
// connection:
//
//	EVALSHA <script> ...                      the write itself
//	SET <ns>replsync:{<tag>} 1 PX 60000        a marker in the same slot
//	WAIT <ReplicaAcks> <ReplicaTimeout ms>
//
// WAIT blocks until the replicas have acknowledged the replication offset
// of this connection's last write. A script that changes nothing (a
// redelivered chunk) propagates nothing, so that offset could be older than
// the write being retried; the marker SET always propagates, so the WAIT
// covers every write the master accepted before it, whichever connection
// made it.

// replicaSyncTTL is the lifetime of the marker key.
const replicaSyncTTL = time.Minute

// checkReplicaConfig reports whether client can serve Config.ReplicaAcks.
func checkReplicaConfig(client redis.UniversalClient, c Config) error {
	if c.ReplicaAcks == 0 {
		return nil
	}
	var read time.Duration
	switch cl := client.(type) {
	case *redis.Client:
		read = cl.Options().ReadTimeout
	case *redis.ClusterClient:
		read = cl.Options().ReadTimeout
	default:
		return fmt.Errorf("%w: Config.ReplicaAcks is %d on a %T (want a *redis.Client or *redis.ClusterClient, whose master can be addressed)", ErrInvalid, c.ReplicaAcks, client)
	}
	if read > 0 && c.ReplicaTimeout >= read {
		return fmt.Errorf("%w: Config.ReplicaTimeout is %v, the client's ReadTimeout %v (want ReplicaTimeout shorter: the read timeout bounds the wait)", ErrInvalid, c.ReplicaTimeout, read)
	}
	return nil
}

// runWrite runs script, a write to the keys of one slot (keys[0] names it),
// and with Config.ReplicaAcks waits for the replicas in the same round trip.
// The script's reply or error is on the returned command; the error, when
// the command has none, is the replication's (ErrNotReplicated, or a failed
// round trip).
func (s *Store) runWrite(ctx context.Context, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	if s.cfg.ReplicaAcks == 0 {
		return script.Run(ctx, s.client, keys, args...), nil
	}
	var cmd *redis.Cmd
	run := func(p redis.Pipeliner) { cmd = p.EvalSha(ctx, script.Hash(), keys, args...) }
	err := s.replicated(ctx, keys[0], run)
	if cmd == nil { // no master to send it to: the command carries the error
		cmd = redis.NewCmd(ctx)
		cmd.SetErr(err)
		return cmd, err
	}
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") { // a new master: load it there
		node, merr := s.master(ctx, keys[0])
		if merr == nil {
			merr = script.Load(ctx, node).Err()
		}
		if merr != nil {
			cmd.SetErr(unavailable("load script on the master of "+keys[0], merr))
			return cmd, nil
		}
		err = s.replicated(ctx, keys[0], run)
	}
	return cmd, err
}

// replicated queues the commands of write, all on the slot of key, then the
// marker and WAIT, and runs them on the master of that slot. It returns an
// error for a failed round trip (cache.ErrUnavailable) or too few
// acknowledgements (ErrNotReplicated); the commands' own errors stay on
// them. Without Config.ReplicaAcks it runs write in a plain pipeline.
func (s *Store) replicated(ctx context.Context, key string, write func(redis.Pipeliner)) error {
	if s.cfg.ReplicaAcks == 0 {
		if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error { write(p); return nil }); err != nil {
			return redisErr("write to "+key, err)
		}
		return nil
	}
	marker, ok := replicaSyncKey(s.cfg.Namespace, key)
	if !ok {
		return fmt.Errorf("%w: key %q has no usable hash tag for a replicated write", ErrInvalid, key)
	}
	node, err := s.master(ctx, key)
	if err != nil {
		return unavailable("master of "+key, err)
	}
	p := node.Pipeline()
	write(p)
	p.Set(ctx, marker, 1, replicaSyncTTL)
	wait := p.Do(ctx, "WAIT", s.cfg.ReplicaAcks, s.cfg.ReplicaTimeout.Milliseconds())
	cmds, _ := p.Exec(ctx)
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			s.followFailure(ctx, err) // a MOVED script or a dead node: follow the cluster
			if err := redisErr("replicated write to "+key, err); !errors.Is(err, cache.ErrUnavailable) {
				return err // a refusal (NOPERM) is not an outage
			}
			break
		}
	}
	if err := wait.Err(); err != nil {
		return unavailable("replicated write to "+key, err)
	}
	if got, _ := wait.Int(); got < s.cfg.ReplicaAcks {
		return fmt.Errorf("%w: %w: write to %s: %d of %d replicas acknowledged within %v (Config.ReplicaAcks, Config.ReplicaTimeout)",
			ErrNotReplicated, cache.ErrUnavailable, key, got, s.cfg.ReplicaAcks, s.cfg.ReplicaTimeout)
	}
	return nil
}

// master returns a client for the master serving key's slot: the Store's
// client itself, or on a cluster the node's client.
func (s *Store) master(ctx context.Context, key string) (*redis.Client, error) {
	switch cl := s.client.(type) {
	case *redis.Client:
		return cl, nil
	case *redis.ClusterClient:
		return cl.MasterForKey(ctx, key)
	}
	return nil, fmt.Errorf("%w: replicated writes need a *redis.Client or *redis.ClusterClient, not %T", ErrInvalid, s.client)
}

// followFailure lets a cluster client reload its slot map after a node
// client failed (MOVED, a dead master): node clients bypass the hook of
// followFailover.
func (s *Store) followFailure(ctx context.Context, err error) {
	cc, ok := s.client.(*redis.ClusterClient)
	if !ok {
		return
	}
	if strings.HasPrefix(err.Error(), "MOVED ") || strings.HasPrefix(err.Error(), "ASK ") {
		cc.ReloadState(ctx)
		return
	}
	failoverHook{cc}.check(ctx, err)
}

// SyncReplicas waits until Config.ReplicaAcks replicas of the master that
// serves key have every write that master accepted so far, whoever made
// it: a caller that wrote through another client (Asynq enqueuing tasks,
// say) makes those writes as durable as the Store's own. It does nothing
// when ReplicaAcks is 0. key only names the slot; it is not written.
//
// Errors: ErrNotReplicated (with cache.ErrUnavailable) when too few replicas
// acknowledge within Config.ReplicaTimeout; cache.ErrUnavailable when Redis
// cannot be reached.
func (s *Store) SyncReplicas(ctx context.Context, key string) error {
	if s.cfg.ReplicaAcks == 0 {
		return nil
	}
	return s.replicated(ctx, key, func(redis.Pipeliner) {})
}
