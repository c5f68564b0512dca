package workoutput_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// TestStoreFollowsFailover kills the master holding a job on a cluster with
// one replica per master. The cluster client's periodic slot-map reload is
// set to an hour, so only the Store's hook (a reload on network errors) can
// lead it to the promoted replica: the job is read and written again once
// the replica has taken over, and nothing acknowledged before the kill is
// lost (the test waits for replication before the kill).
func TestStoreFollowsFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ReplicasPerMaster: 1})
	opts := cl.ClusterOptions()
	opts.ClusterStateReloadInterval = time.Hour
	client := redis.NewClusterClient(opts)
	t.Cleanup(func() { client.Close() })
	store, err := workoutput.New(client, workoutput.Config{Namespace: "fo:"})
	if err != nil {
		t.Fatal(err)
	}
	job, err := store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: "a", Value: []byte(`1`)}}}); err != nil {
		t.Fatal(err)
	}
	// The master of the job's slot, and its replica.
	master := cl.MasterOf(t, "{"+job.ID+"}")
	replica := cl.ReplicasOf(master)[0]
	rc := redis.NewClient(replica.Options())
	defer rc.Close()
	// Wait for the replica to have everything: a WAIT after a write of its
	// own connection (SyncReplicas), as a fresh connection's WAIT covers
	// nothing.
	syncer, err := workoutput.New(client, workoutput.Config{Namespace: "fo:", ReplicaAcks: 1, ReplicaTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := syncer.SyncReplicas(ctx, "fo:job:{"+job.ID+"}:meta"); err != nil {
		t.Fatalf("SyncReplicas: %v; want the replica in sync", err)
	}
	killed := time.Now()
	master.Kill(t)
	// The replica takes over (cluster-node-timeout 2 s).
	for !strings.Contains(rc.Info(ctx, "replication").Val(), "role:master") {
		if time.Since(killed) > time.Minute {
			t.Fatal("the replica was never promoted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	promoted := time.Since(killed)
	// The store fails on the dead master, then follows the failover.
	var st workoutput.Status
	for attempt := 0; ; attempt++ {
		if st, err = store.Status(ctx, job.ID); err == nil {
			break
		}
		if time.Since(killed) > time.Minute { // a hang guard: without the hook this is an hour
			t.Fatalf("Status still fails %v after the kill: %v", time.Since(killed), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("observation: replica promoted %v after the kill, the store followed %v after it",
		promoted.Round(time.Millisecond), (time.Since(killed) - promoted).Round(time.Millisecond))
	if st.Done != 1 || st.Total != 2 || st.State != workoutput.StateRunning {
		t.Fatalf("Status after the failover = %+v; want running with 1 of 2 done", st)
	}
	res, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: "b", Value: []byte(`2`)}}})
	if err != nil || !res.Completed {
		t.Fatalf("Write after the failover = %+v, %v; want it to complete the job", res, err)
	}
}
