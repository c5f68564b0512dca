package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// TestSubmitWaitsForQueueReplicas: with ReplicaAcks 1 on a cluster, Submit
// returns only once the replica of the master holding the Asynq queue has
// the chunks. With that replica stopped, Submit fails naming the
// replication and cancels the job (whose own master and replica, and those
// of the job index, are fine);
// once it is back, a Submit succeeds.
func TestSubmitWaitsForQueueReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ReplicasPerMaster: 1})
	client := cl.Client(t)
	store := newStore(t, client, workoutput.Config{Namespace: "qr:", ReplicaAcks: 1, ReplicaTimeout: 200 * time.Millisecond})
	// A queue whose master holds neither the job index nor the job.
	indexMaster := cl.MasterOf(t, "qr:jobs")
	queue := ""
	for i := 0; queue == "" || cl.MasterOf(t, asynqQueueKey(queue)) == indexMaster; i++ {
		queue = fmt.Sprint("qr-events-", i)
	}
	p, err := NewProducer(client, store, ProducerConfig{Queue: queue, CollectQueue: "qr-collect"})
	if err != nil {
		t.Fatal(err)
	}
	queueMaster := cl.MasterOf(t, asynqQueueKey(queue))
	// A job ID whose slot lives on another master.
	var id string
	for id == "" || cl.MasterOf(t, "{"+id+"}") == queueMaster {
		id = workoutput.NewJobID()
	}
	events := []Event{{Payload: []byte(`1`)}, {Payload: []byte(`2`)}}

	replica := cl.ReplicasOf(queueMaster)[0]
	replica.Pause(t)
	paused := true
	defer func() {
		if paused {
			replica.Resume(t)
		}
	}()
	_, err = p.Submit(ctx, workoutput.Spec{ID: id, Kind: "k"}, events)
	if !errors.Is(err, workoutput.ErrNotReplicated) || !strings.Contains(err.Error(), "enqueued, but not replicated") {
		t.Fatalf("Submit with the queue's replica stopped: %v; want ErrNotReplicated", err)
	}
	if st, err := store.Status(ctx, id); err != nil || st.State != workoutput.StateCancelled {
		t.Fatalf("job after the failed Submit: %+v, %v; want cancelled", st, err)
	}
	replica.Resume(t)
	paused = false

	var got string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, err = p.Submit(ctx, workoutput.Spec{Kind: "k"}, events); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Submit after the replica resumed still fails: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, err := store.Status(ctx, got); err != nil || st.State != workoutput.StateRunning || st.Total != 2 {
		t.Fatalf("job submitted after the resume: %+v, %v; want running with 2 events", st, err)
	}
}
