package workoutput_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// replicaEnv is a master with one replica, a Store on the master with
// ReplicaAcks 1, and a client reading the replica.
type replicaEnv struct {
	master, replica *redistest.Server
	store           *workoutput.Store
	onReplica       *redis.Client
}

func newReplicaEnv(t *testing.T, timeout time.Duration) replicaEnv {
	t.Helper()
	master := redistest.StartServer(t, redistest.ServerOptions{})
	replica := redistest.StartReplica(t, master, redistest.ServerOptions{})
	client := redis.NewClient(master.Options())
	t.Cleanup(func() { client.Close() })
	store, err := workoutput.New(client, workoutput.Config{Namespace: "rep:", ReplicaAcks: 1, ReplicaTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	onReplica := redis.NewClient(replica.Options())
	t.Cleanup(func() { onReplica.Close() })
	return replicaEnv{master, replica, store, onReplica}
}

// TestReplicaAcksWriteIsOnReplica: with ReplicaAcks 1, every write the Store
// reports done is already on the replica, read right after it returns.
func TestReplicaAcksWriteIsOnReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newReplicaEnv(t, time.Second)
	const n = 200
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("e", i)
	}
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: ids}, true)
	if err != nil {
		t.Fatal(err)
	}
	meta := "rep:job:{" + job.ID + "}:meta"
	outputs := "rep:job:{" + job.ID + "}:outputs"
	if state, err := e.onReplica.HGet(ctx, meta, "state").Result(); err != nil || state != "running" {
		t.Fatalf("replica's state after Open = %q, %v; want running", state, err)
	}
	if _, err := e.onReplica.ZScore(ctx, "rep:jobs", job.ID).Result(); err != nil {
		t.Fatalf("replica's job index after Open: %v; want the job indexed", err)
	}
	for i, id := range ids {
		res, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: id, Value: []byte(fmt.Sprint(i))}}})
		if err != nil {
			t.Fatalf("Write %s: %v", id, err)
		}
		if res.Completed != (i == n-1) {
			t.Fatalf("Write %s: Completed = %v", id, res.Completed)
		}
		if got, err := e.onReplica.HGet(ctx, outputs, id).Result(); err != nil || got != fmt.Sprint(i) {
			t.Fatalf("replica's output of %s right after Write = %q, %v; want %d", id, got, err, i)
		}
	}
	if state, _ := e.onReplica.HGet(ctx, meta, "state").Result(); state != "complete" {
		t.Fatalf("replica's state after the last Write = %q; want complete", state)
	}
	if err := e.store.Cancel(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if state, _ := e.onReplica.HGet(ctx, meta, "state").Result(); state != "cancelled" {
		t.Fatalf("replica's state after Cancel = %q; want cancelled", state)
	}

	// An Open of more IDs than go inline, staged on other connections
	// than the script's: every ID is on the replica when Open returns.
	many := idsOf("m", 2500)
	staged, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: many}, true)
	if err != nil {
		t.Fatal(err)
	}
	base := "rep:job:{" + staged.ID + "}:"
	if n, err := e.onReplica.SCard(ctx, base+"events").Result(); err != nil || n != int64(len(many)) {
		t.Fatalf("replica's events set right after a staged Open: %d IDs, %v; want %d", n, err, len(many))
	}
	if n, err := e.onReplica.LLen(ctx, base+"ids").Result(); err != nil || n != int64(len(many)) {
		t.Fatalf("replica's ids list right after a staged Open: %d IDs, %v; want %d", n, err, len(many))
	}
	if left, err := e.onReplica.Keys(ctx, base+"staged:*").Result(); err != nil || len(left) > 0 {
		t.Fatalf("staged keys on the replica after Open: %v, %v; want none", left, err)
	}
}

// TestReplicaAcksPausedReplica: while the replica is stopped, a write is
// applied on the master but not acknowledged (ErrNotReplicated, which is
// also cache.ErrUnavailable), and so is its retry, though the retry changes
// nothing on the master; once the replica is back, the retry succeeds and
// the output counts once.
func TestReplicaAcksPausedReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newReplicaEnv(t, 200*time.Millisecond)
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	e.replica.Pause(t)
	paused := true
	defer func() {
		if paused {
			e.replica.Resume(t)
		}
	}()
	out := []workoutput.Output{{EventID: "a", Value: []byte(`1`)}}
	res, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: out})
	if !errors.Is(err, workoutput.ErrNotReplicated) || !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Write with the replica stopped: %v; want ErrNotReplicated and cache.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "0 of 1 replicas") {
		t.Errorf("error %q does not say how many replicas acknowledged", err)
	}
	if !res.Completed {
		t.Errorf("Write applied on the master reports %+v; want Completed (it completed the job)", res)
	}
	// The master has it; a retry from another worker (another client, so
	// another connection) changes nothing there and is still not
	// acknowledged: its WAIT covers the first write, not only its own.
	other := redis.NewClient(e.master.Options())
	t.Cleanup(func() { other.Close() })
	otherStore, err := workoutput.New(other, e.store.Config())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherStore.Write(ctx, job.ID, workoutput.Record{Outputs: out}); !errors.Is(err, workoutput.ErrNotReplicated) {
		t.Fatalf("retried Write with the replica stopped: %v; want ErrNotReplicated", err)
	}
	if err := e.store.SyncReplicas(ctx, "any-key"); !errors.Is(err, workoutput.ErrNotReplicated) {
		t.Fatalf("SyncReplicas with the replica stopped: %v; want ErrNotReplicated", err)
	}
	e.replica.Resume(t)
	paused = false
	var res2 workoutput.WriteResult
	deadline := time.Now().Add(30 * time.Second)
	for {
		if res2, err = e.store.Write(ctx, job.ID, workoutput.Record{Outputs: out}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retried Write after the replica resumed still fails: %v", err)
		}
	}
	if !res2.Completed {
		t.Errorf("the retry of the completing write = %+v; want the first answer, Completed", res2)
	}
	st, err := e.store.Status(ctx, job.ID)
	if err != nil || st.Done != 1 || st.State != workoutput.StateComplete {
		t.Fatalf("Status = %+v, %v; want complete with 1 output", st, err)
	}
	if got, err := e.onReplica.HGet(ctx, "rep:job:{"+job.ID+"}:outputs", "a").Result(); err != nil || got != "1" {
		t.Fatalf("replica's output = %q, %v; want 1", got, err)
	}
	if err := e.store.SyncReplicas(ctx, "any-key"); err != nil {
		t.Fatalf("SyncReplicas with the replica back: %v", err)
	}
}

// TestReplicaAcksWithoutReplica: a master without replicas acknowledges
// nothing; the error names the settings.
func TestReplicaAcksWithoutReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client := redis.NewClient(srv.Options())
	t.Cleanup(func() { client.Close() })
	store, err := workoutput.New(client, workoutput.Config{ReplicaAcks: 1, ReplicaTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a"}}, true)
	if !errors.Is(err, workoutput.ErrNotReplicated) || !strings.Contains(err.Error(), "Config.ReplicaAcks") {
		t.Fatalf("Open without a replica: %v; want ErrNotReplicated naming Config.ReplicaAcks", err)
	}
}

// TestReplicaAcksWithoutMaster: with ReplicaAcks, a write whose slot has no
// reachable master (a cluster whose nodes are all down) fails with
// cache.ErrUnavailable, for a job's write and for a sweep alike.
func TestReplicaAcksWithoutMaster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, MaxRedirects: -1})
	t.Cleanup(func() { client.Close() })
	store, err := workoutput.New(client, workoutput.Config{ReplicaAcks: 1, ReplicaTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Write(ctx, workoutput.NewJobID(), workoutput.Record{Outputs: []workoutput.Output{{EventID: "#0", Value: []byte("1")}}})
	if !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Write without a master: %v; want cache.ErrUnavailable", err)
	}
	if _, err := store.Sweep(ctx, time.Now(), time.Second); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Sweep without a master: %v; want cache.ErrUnavailable", err)
	}
}

// TestReplicaAcksConfig: settings that cannot work are rejected by New.
func TestReplicaAcksConfig(t *testing.T) {
	t.Parallel()
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { plain.Close() })
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	t.Cleanup(func() { ring.Close() })
	for _, c := range []struct {
		name   string
		client redis.UniversalClient
		cfg    workoutput.Config
		want   string
	}{
		{"negative acks", plain, workoutput.Config{ReplicaAcks: -1}, "Config.ReplicaAcks is -1"},
		{"negative timeout", plain, workoutput.Config{ReplicaAcks: 1, ReplicaTimeout: -time.Second}, "Config.ReplicaTimeout is -1s"},
		{"timeout past read timeout", plain, workoutput.Config{ReplicaAcks: 1, ReplicaTimeout: 5 * time.Second}, "ReadTimeout 5s"},
		{"ring client", ring, workoutput.Config{ReplicaAcks: 1}, "*redis.Ring"},
		{"brace in namespace", plain, workoutput.Config{Namespace: "a{b}:"}, "contains '{' or '}'"},
	} {
		_, err := workoutput.New(c.client, c.cfg)
		if !errors.Is(err, workoutput.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v; want ErrInvalid mentioning %q", c.name, err, c.want)
		}
	}
}

// TestReplicaAcksCluster: on a cluster with one replica per master, each
// write is on the replica of its slot's master when the Store returns, and
// SyncReplicas makes another client's write durable on its slot's master.
func TestReplicaAcksCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ReplicasPerMaster: 1})
	client := redis.NewClusterClient(cl.ClusterOptions())
	t.Cleanup(func() { client.Close() })
	store, err := workoutput.New(client, workoutput.Config{Namespace: "rc:", ReplicaAcks: 1})
	if err != nil {
		t.Fatal(err)
	}
	replicaClient := func(master *redistest.Server) *redis.Client {
		rs := cl.ReplicasOf(master)
		if len(rs) != 1 {
			t.Fatalf("master %s has %d replicas; want 1", master.Addr(), len(rs))
		}
		opts := rs[0].Options()
		opts.OnConnect = func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }
		c := redis.NewClient(opts)
		t.Cleanup(func() { c.Close() })
		return c
	}
	seen := map[*redistest.Server]bool{}
	for i := 0; len(seen) < len(cl.Masters()); i++ {
		if i == 100 {
			t.Fatalf("100 jobs reached only %d of %d masters", len(seen), len(cl.Masters()))
		}
		job, err := store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		master := cl.MasterOf(t, "{"+job.ID+"}")
		if seen[master] {
			continue
		}
		seen[master] = true
		r := replicaClient(master)
		for _, id := range []string{"a", "b"} {
			if _, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: id, Value: []byte(`"` + id + `"`)}}}); err != nil {
				t.Fatalf("Write on master %s: %v", master.Addr(), err)
			}
			if got, err := r.HGet(ctx, "rc:job:{"+job.ID+"}:outputs", id).Result(); err != nil || got != `"`+id+`"` {
				t.Fatalf("replica of %s: output %s = %q, %v right after Write", master.Addr(), id, got, err)
			}
		}
	}
	// Another client's write, made durable by SyncReplicas on its slot.
	key := "asynq:{rc-queue}:pending"
	if err := client.LPush(ctx, key, "task").Err(); err != nil {
		t.Fatal(err)
	}
	if err := store.SyncReplicas(ctx, key); err != nil {
		t.Fatalf("SyncReplicas(%q): %v", key, err)
	}
	r := replicaClient(cl.MasterOf(t, key))
	if got, err := r.LRange(ctx, key, 0, -1).Result(); err != nil || len(got) != 1 || got[0] != "task" {
		t.Fatalf("replica's %s after SyncReplicas = %v, %v; want [task]", key, got, err)
	}
}

// BenchmarkWriteReplicaAcks writes chunks of 100 outputs of 100 bytes to a
// master with one replica: acks=0 is the plain Write (the master's
// acknowledgement), acks=1 waits for the replica in the same round trip.
// Both run in the same invocation on the same servers (docs/BENCHMARKS.md).
func BenchmarkWriteReplicaAcks(b *testing.B) {
	ctx := context.Background()
	master := redistest.StartServer(b, redistest.ServerOptions{})
	redistest.StartReplica(b, master, redistest.ServerOptions{})
	client := redis.NewClient(master.Options())
	b.Cleanup(func() { client.Close() })
	value := []byte(strings.Repeat("x", 100))
	for _, acks := range []int{0, 1} {
		b.Run(fmt.Sprint("acks=", acks), func(b *testing.B) {
			store, err := workoutput.New(client, workoutput.Config{Namespace: fmt.Sprint("bench", acks, ":"), ReplicaAcks: acks})
			if err != nil {
				b.Fatal(err)
			}
			job, err := store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: workoutput.DefaultMaxEvents}, true)
			if err != nil {
				b.Fatal(err)
			}
			outputs := make([]workoutput.Output, 100)
			seq := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range outputs {
					outputs[i] = workoutput.Output{EventID: workoutput.GeneratedID(int64(seq)), Value: value}
					seq++
				}
				if _, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: outputs}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(seq), "ns/output")
		})
	}
}
