package workoutput_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// registered returns a job's events set, sorted, and its ids list.
func registered(t *testing.T, c redis.UniversalClient, ns, jobID string) (set, list []string) {
	t.Helper()
	ctx := context.Background()
	base := ns + "job:{" + jobID + "}:"
	set, err := c.SMembers(ctx, base+"events").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(set)
	if list, err = c.LRange(ctx, base+"ids", 0, -1).Result(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"events", "ids"} {
		if ttl, err := c.PTTL(ctx, base+key).Result(); err != nil || ttl <= 0 {
			t.Errorf("%s of job %s: TTL %v, %v; want the job's expiry", key, jobID, ttl, err)
		}
	}
	return set, list
}

func idsOf(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return ids
}

// TestOpenRegistersExactlyItsIDs opens jobs with caller-given IDs on a
// server of the test's own and checks that the
// events set and the ids list hold exactly the job's IDs, each once, in the
// order given: over the keys of a gone job of the same ID (meta expired
// first, or deleted), after the server lost its script cache, on a retry of
// the same request, and against another request for the same job ID, which
// is refused and changes nothing.
func TestOpenRegistersExactlyItsIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	c := srv.Client(t)
	store, err := workoutput.New(c, workoutput.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ns := store.Config().Namespace
	check := func(what, jobID string, ids []string) {
		t.Helper()
		set, list := registered(t, c, ns, jobID)
		if want := slices.Sorted(slices.Values(ids)); !slices.Equal(set, want) {
			t.Errorf("%s: events set has %d IDs, want exactly the job's %d", what, len(set), len(want))
		}
		if !slices.Equal(list, ids) {
			t.Errorf("%s: ids list has %d IDs, want the job's %d, each once, in order", what, len(list), len(ids))
		}
		st, err := store.Status(ctx, jobID)
		if err != nil || st.Total != int64(len(ids)) || st.State != workoutput.StateRunning {
			t.Errorf("%s: status %+v, %v; want running with %d events", what, st, err, len(ids))
		}
	}
	ids := idsOf("e", 1500)

	// Keys of a gone job with the same ID.
	gone := workoutput.NewJobID()
	base := ns + "job:{" + gone + "}:"
	if err := c.SAdd(ctx, base+"events", "stale1", "stale2").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.RPush(ctx, base+"ids", "stale1", "stale2").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, workoutput.Spec{ID: gone, Kind: "k"}, workoutput.Batch{IDs: ids}, true); err != nil {
		t.Fatal(err)
	}
	check("over a gone job's keys", gone, ids)
	// The same for a job of generated IDs only.
	goneGen := workoutput.NewJobID()
	baseGen := ns + "job:{" + goneGen + "}:"
	if err := c.SAdd(ctx, baseGen+"events", "stale1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.RPush(ctx, baseGen+"ids", "stale1").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, workoutput.Spec{ID: goneGen, Kind: "k"}, workoutput.Batch{Generated: 3}, true); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, baseGen+"events", baseGen+"ids").Result(); err != nil || n != 0 {
		t.Errorf("a job of generated IDs over a gone job's keys: %d of its events set and ids list exist (%v), want none", n, err)
	}

	// A server that lost its script cache, twice.
	for i := range 2 {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		id := workoutput.NewJobID()
		if _, err := store.Open(ctx, workoutput.Spec{ID: id, Kind: "k"}, workoutput.Batch{IDs: ids}, true); err != nil {
			t.Fatalf("Open after SCRIPT FLUSH %d: %v", i, err)
		}
		check(fmt.Sprintf("after SCRIPT FLUSH %d", i), id, ids)
	}

	// A retry of the same request, and another request for the same ID.
	id := workoutput.NewJobID()
	spec := workoutput.Spec{ID: id, Kind: "k"}
	first, err := store.Open(ctx, spec, workoutput.Batch{IDs: ids}, true)
	if err != nil {
		t.Fatal(err)
	}
	again, err := store.Open(ctx, spec, workoutput.Batch{IDs: ids}, true)
	if err != nil || again.ID != first.ID || again.Completed != first.Completed {
		t.Fatalf("the same Open again: %+v, %v; want job %s, not completed", again, err, first.ID)
	}
	check("after a retry", id, ids)
	if _, err := store.Open(ctx, spec, workoutput.Batch{IDs: idsOf("x", 10)}, true); !errors.Is(err, workoutput.ErrJobExists) {
		t.Fatalf("another Open of job %s: %v, want ErrJobExists", id, err)
	}
	check("after another request for its ID", id, ids)
}

// TestOpenConcurrently opens one job ID from several goroutines at once,
// with the same request and with different ones: one job is created with
// one request's IDs, each once; every caller of that request gets the
// job, every other ErrJobExists.
func TestOpenConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	c := srv.Client(t)
	store, err := workoutput.New(c, workoutput.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		id := workoutput.NewJobID()
		requests := [][]string{idsOf("a", 800), idsOf("b", 800)}
		errs := make([]error, 6)
		done := make(chan int)
		for g := range errs {
			go func() {
				_, errs[g] = store.Open(ctx, workoutput.Spec{ID: id, Kind: "k"}, workoutput.Batch{IDs: requests[g%2]}, true)
				done <- g
			}()
		}
		for range errs {
			<-done
		}
		set, list := registered(t, c, store.Config().Namespace, id)
		won := -1
		for r, ids := range requests {
			if slices.Equal(list, ids) && slices.Equal(set, slices.Sorted(slices.Values(ids))) {
				won = r
			}
		}
		if won < 0 {
			t.Fatalf("round %d: the job registered %d IDs in its set and %d in its list, not one request's IDs each once", round, len(set), len(list))
		}
		for g, err := range errs {
			if g%2 == won && err != nil {
				t.Errorf("round %d: caller %d of the winning request: %v", round, g, err)
			}
			if g%2 != won && !errors.Is(err, workoutput.ErrJobExists) {
				t.Errorf("round %d: caller %d of the other request: %v, want ErrJobExists", round, g, err)
			}
		}
	}
}

// TestOpenStagedOnCluster opens a job of more caller-given IDs than Open
// sends as arguments on the 3-master cluster: the staged pieces and the
// rename into the job's keys stay in the job's slot, the job has every ID
// once and in order, its outputs are gathered by ID, and no staged key is
// left on any master.
func TestOpenStagedOnCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, true, workoutput.Config{})
	ids := idsOf("c", 2500)
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: ids}, true)
	if err != nil {
		t.Fatal(err)
	}
	set, list := registered(t, e.r.Client, e.store.Config().Namespace, job.ID)
	if !slices.Equal(list, ids) || !slices.Equal(set, slices.Sorted(slices.Values(ids))) {
		t.Fatalf("the job registered %d IDs in its list and %d in its set, want its %d each once, in order", len(list), len(set), len(ids))
	}
	res, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs(ids...)})
	if err != nil || !res.Completed {
		t.Fatalf("the write of every output: %+v, %v; want the job completed", res, err)
	}
	got := 0
	for _, err := range e.store.Gather(ctx, job.ID, int64(len(ids))) {
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != len(ids) {
		t.Errorf("gathered %d outputs, want %d", got, len(ids))
	}
	err = e.r.Client.(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		staged, err := c.Keys(ctx, e.r.Prefix+"*:staged:*").Result()
		if err == nil && len(staged) > 0 {
			err = fmt.Errorf("staged keys left: %v", staged)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
