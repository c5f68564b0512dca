package jobs

import (
	"context"
	"github.com/redis/go-redis/v9"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/workoutput"
)

// TestFaultFailoverThenDeadline: a job missing an output when its master
// dies is still collected at its deadline by the coordinator's sweep, once
// the replica is promoted.
func TestFaultFailoverThenDeadline(t *testing.T) {
	t.Parallel()
	cl := redistestCluster(t)
	d := startDeployment(t, func() redis.UniversalClient { return cl.Client(t) }, deploymentOptions{name: "fodl", noWorkers: true})
	ctx := context.Background()
	job, err := d.store.Open(ctx, workoutput.Spec{Kind: faultKind, Deadline: 8 * time.Second}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.Write(ctx, job.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: "a", Value: []byte(`1`)}}}); err != nil {
		t.Fatal(err)
	}
	// Everything written so far is on the replicas (the job's and the
	// index's masters), so the failover loses nothing.
	syncer := newStore(t, d.observer, workoutput.Config{Namespace: d.ns, ReplicaAcks: 1, ReplicaTimeout: 3 * time.Second})
	for _, key := range []string{"{" + job.ID + "}", d.ns + "jobs"} {
		if err := syncer.SyncReplicas(ctx, key); err != nil {
			t.Fatalf("SyncReplicas(%s): %v", key, err)
		}
	}
	master := cl.MasterOf(t, "{"+job.ID+"}")
	replica := cl.ReplicasOf(master)[0]
	master.Kill(t)
	killed := time.Now()
	replica.WaitPromoted(t, 2*time.Minute)
	st := d.waitEnd(t, job.ID, 2*time.Minute)
	t.Logf("observation: job %s %v after the kill: %+v", st.State, time.Since(killed).Round(time.Millisecond), st)
	if st.State != workoutput.StateFailed || st.Pending != 1 {
		t.Fatalf("job = %+v; want failed at its deadline with 1 event missing", st)
	}
}
