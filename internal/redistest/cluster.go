package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterOptions configures StartCluster. The zero value is 3 masters and no
// replicas.
type ClusterOptions struct {
	// Masters is the number of masters; default 3.
	Masters int
	// ReplicasPerMaster is 0 (the default) or 1.
	ReplicasPerMaster int
	// Server applies to every node (password, TLS, AOF). Default: plain.
	Server ServerOptions
}

// Cluster is a Redis Cluster of redis-server processes on loopback, with all
// 16384 slots assigned.
type Cluster struct {
	masters  []*Server
	replicas []*Server
}

// StartCluster starts a Redis Cluster and waits until every node reports
// cluster_state:ok. The processes are stopped when the test ends.
func StartCluster(tb testing.TB, opts ClusterOptions) *Cluster {
	tb.Helper()
	c, err := startCluster(opts)
	if c != nil {
		tb.Cleanup(c.stop)
	}
	if err != nil {
		tb.Fatalf("redistest: cluster: %v", err)
	}
	return c
}

func startCluster(opts ClusterOptions) (*Cluster, error) {
	if opts.Masters == 0 {
		opts.Masters = 3
	}
	if opts.Masters < 1 || opts.ReplicasPerMaster < 0 || opts.ReplicasPerMaster > 1 {
		return nil, fmt.Errorf("ClusterOptions: want Masters >= 1 and ReplicasPerMaster 0 or 1, got %d and %d",
			opts.Masters, opts.ReplicasPerMaster)
	}
	nodeOpts := opts.Server
	nodeOpts.cluster = true
	c := &Cluster{}
	for i := 0; i < opts.Masters*(1+opts.ReplicasPerMaster); i++ {
		s, err := startServer(nodeOpts)
		if err != nil {
			return c, err
		}
		if i < opts.Masters {
			c.masters = append(c.masters, s)
		} else {
			c.replicas = append(c.replicas, s)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.form(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// form assigns slots, joins the nodes, attaches replicas and waits for ok.
func (c *Cluster) form(ctx context.Context) error {
	all := c.Nodes()
	clients := make([]*redis.Client, len(all))
	for i, s := range all {
		clients[i] = redis.NewClient(s.Options())
		defer clients[i].Close()
	}
	// Slots split evenly over the masters.
	n := len(c.masters)
	for i := range c.masters {
		lo, hi := i*16384/n, (i+1)*16384/n-1
		slots := make([]any, 0, hi-lo+3)
		slots = append(slots, "cluster", "addslots")
		for s := lo; s <= hi; s++ {
			slots = append(slots, s)
		}
		if err := clients[i].Do(ctx, slots...).Err(); err != nil {
			return fmt.Errorf("addslots on %s: %w", c.masters[i].Addr(), err)
		}
	}
	for i := 1; i < len(all); i++ {
		if err := clients[i].ClusterMeet(ctx, "127.0.0.1", fmt.Sprint(all[0].Port())).Err(); err != nil {
			return fmt.Errorf("cluster meet %s: %w", all[i].Addr(), err)
		}
	}
	if err := waitFor(ctx, func() (bool, error) {
		for _, cl := range clients {
			nodes, err := cl.ClusterNodes(ctx).Result()
			if err != nil {
				return false, err
			}
			if strings.Count(strings.TrimSpace(nodes), "\n")+1 != len(all) {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return fmt.Errorf("nodes did not all meet: %w", err)
	}
	for j, r := range c.replicas {
		masterID, err := clients[j%n].ClusterMyID(ctx).Result()
		if err != nil {
			return err
		}
		rc := clients[n+j]
		if err := rc.ClusterReplicate(ctx, masterID).Err(); err != nil {
			return fmt.Errorf("replicate %s to master %s: %w", r.Addr(), c.masters[j%n].Addr(), err)
		}
	}
	err := waitFor(ctx, func() (bool, error) {
		for _, cl := range clients {
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				return false, err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				return false, nil
			}
		}
		for j := range c.replicas {
			info, err := clients[n+j].Info(ctx, "replication").Result()
			if err != nil {
				return false, err
			}
			if !strings.Contains(info, "master_link_status:up") {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("cluster_state did not become ok: %w", err)
	}
	return nil
}

// waitFor polls cond every 50 ms until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() (bool, error)) error {
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
			}
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Masters returns the master nodes, in slot order.
func (c *Cluster) Masters() []*Server { return c.masters }

// Replicas returns the replica nodes; replica i follows master i.
func (c *Cluster) Replicas() []*Server { return c.replicas }

// Nodes returns masters then replicas.
func (c *Cluster) Nodes() []*Server { return append(append([]*Server{}, c.masters...), c.replicas...) }

// Addrs returns the addresses of all nodes.
func (c *Cluster) Addrs() []string {
	var out []string
	for _, s := range c.Nodes() {
		out = append(out, s.Addr())
	}
	return out
}

// URL returns a redis:// URL naming every node (go-redis ParseClusterURL form).
func (c *Cluster) URL() string {
	nodes := c.Nodes()
	u := nodes[0].URL()
	u = strings.TrimSuffix(u, "/0")
	sep := "?"
	for _, s := range nodes[1:] {
		u += sep + "addr=" + s.Addr()
		sep = "&"
	}
	return u
}

// ClusterOptions returns go-redis cluster options for the cluster, with
// context deadlines honoured.
func (c *Cluster) ClusterOptions() *redis.ClusterOptions {
	o := c.masters[0].Options()
	return &redis.ClusterOptions{
		Addrs:                 c.Addrs(),
		Password:              o.Password,
		TLSConfig:             o.TLSConfig,
		DialTimeout:           o.DialTimeout,
		ContextTimeoutEnabled: true,
	}
}

// Client returns a cluster client, closed when the test ends.
func (c *Cluster) Client(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	cl := redis.NewClusterClient(c.ClusterOptions())
	tb.Cleanup(func() { cl.Close() })
	return cl
}

func (c *Cluster) stop() {
	for _, s := range c.Nodes() {
		s.stop()
	}
}

// MasterOf returns the master that serves key's slot, as StartCluster
// assigned the slots (split evenly over the masters, in order). Only the
// hash tag matters: MasterOf(tb, "{"+jobID+"}") names the master of every
// key of that job.
func (c *Cluster) MasterOf(tb testing.TB, key string) *Server {
	tb.Helper()
	cl := redis.NewClient(c.masters[0].Options())
	defer cl.Close()
	slot, err := cl.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		tb.Fatalf("redistest: CLUSTER KEYSLOT %q: %v", key, err)
	}
	n := len(c.masters)
	for i := range n {
		if int(slot) <= (i+1)*16384/n-1 { // the bounds of form's split
			return c.masters[i]
		}
	}
	tb.Fatalf("redistest: no master holds slot %d", slot)
	return nil
}

// ReplicasOf returns the replicas StartCluster attached to master (none after
// a failover has changed the roles).
func (c *Cluster) ReplicasOf(master *Server) []*Server {
	var out []*Server
	for j, r := range c.replicas {
		if c.masters[j%len(c.masters)] == master {
			out = append(out, r)
		}
	}
	return out
}
