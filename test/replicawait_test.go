package test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
)

// TestSubmitWaitsForSyncingReplicas runs `coordinator submit --replica-acks
// 1` on a fresh 3-master cluster with one replica each while no replica
// acknowledges anything yet (the replicas are stopped, which WAIT cannot
// tell from a replica still in its first sync): submit says on stderr that
// it waits, and succeeds once the replicas answer. Then, with the replicas
// stopped for good, a submit with a short --replica-wait fails (exit 4)
// naming the replication, and leaves nothing that `list` does not show or a
// sweep would not remove.
func TestSubmitWaitsForSyncingReplicas(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{ReplicasPerMaster: 1})
	// The binaries are given the masters only: a stopped replica would
	// not answer the client's discovery of the cluster, where a syncing one
	// does; a stopped replica acknowledges nothing, like a syncing one.
	masters := cl.Masters()
	url := strings.TrimSuffix(masters[0].URL(), "/0")
	for i, m := range masters[1:] {
		url += map[bool]string{true: "?", false: "&"}[i == 0] + "addr=" + m.Addr()
	}
	f := newFanin(t, url, cl.Client(t), "", "FANIN_REPLICA_ACKS=1", "FANIN_REPLICA_TIMEOUT=200ms")
	path, _ := sightings(t, 200, 18)
	pauseReplicas := func() {
		for _, m := range cl.Masters() {
			for _, r := range cl.ReplicasOf(m) {
				r.Pause(t)
			}
		}
	}
	resumeReplicas := func() {
		for _, m := range cl.Masters() {
			for _, r := range cl.ReplicasOf(m) {
				r.Resume(t)
			}
		}
	}

	// The replicas answer 2 s after submit starts: it waits, then succeeds.
	pauseReplicas()
	sub := start(t, f.env, "coordinator", "submit", "--kind", "zombies.sighting", "--events", path, "--replica-wait", "1m")
	time.Sleep(2 * time.Second)
	resumeReplicas()
	if code := sub.wait(t); code != 0 {
		t.Fatalf("submit while the replicas were not answering: exit %d\n%s", code, sub.logText())
	}
	if out := sub.logText(); !strings.Contains(out, "submit: waiting to") {
		t.Errorf("submit said nothing while it waited for the replicas:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(sub.logText()), "\n")
	job := lines[len(lines)-1]
	if st := status(t, f.env, job); st.State != "running" || st.Total != 200 || !st.Sealed {
		t.Errorf("job submitted while the replicas synced: %+v; want running, sealed, 200 events", st)
	}

	// The replicas never answer: submit gives up after --replica-wait.
	pauseReplicas()
	defer resumeReplicas()
	r := runBin(t, f.env, "coordinator", "submit", "--kind", "zombies.sighting", "--events", path, "--replica-wait", "2s")
	if r.code != 4 || !strings.Contains(r.stderr, "replicas acknowledged") {
		t.Fatalf("submit with replicas that never answer: exit %d, stderr %q; want exit 4 naming the replication", r.code, r.stderr)
	}
	resumeReplicas()
	checkNothingHidden(t, f, cl.Client(t))
}

// checkNothingHidden checks that every key of the deployment is a key of a
// job `coordinator list` shows, a replicated write's marker (it expires
// within a minute), or the index, whose entries are jobs list shows or IDs
// with no job behind them (a sweep drops those once due).
func checkNothingHidden(t *testing.T, f *fanin, client redis.UniversalClient) {
	t.Helper()
	var listed []progress.JSON
	if err := json.Unmarshal([]byte(mustRun(t, f.env, "coordinator", "list", "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, st := range listed {
		shown[st.ID] = true
	}
	ctx := context.Background()
	ns := jobs.Deployment{}.Namespace()
	cc := client.(*redis.ClusterClient)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		it := m.Scan(ctx, 0, ns+"*", 1000).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			switch {
			case k == ns+"jobs":
				for _, id := range m.ZRange(ctx, k, 0, -1).Val() {
					if _, err := f.store.Status(ctx, id); !shown[id] && err == nil {
						t.Errorf("index entry %s: a job that list does not show", id)
					}
				}
			case strings.HasPrefix(k, ns+"replsync:"):
				if ttl := m.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Minute {
					t.Errorf("marker %s has TTL %v; want at most a minute", k, ttl)
				}
			default:
				open, end := strings.Index(k, "{"), strings.Index(k, "}")
				if open < 0 || end < open || !shown[k[open+1:end]] {
					t.Errorf("key %s belongs to no job that list shows", k)
				}
			}
		}
		return it.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
