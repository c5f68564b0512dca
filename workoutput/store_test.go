package workoutput_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// env is a Store on an isolated view of a test Redis.
type env struct {
	r     *redistest.Redis
	store *workoutput.Store
}

func newEnv(t *testing.T, cluster bool, cfg workoutput.Config) env {
	t.Helper()
	var r *redistest.Redis
	if cluster {
		r = redistest.NewCluster(t)
	} else {
		r = redistest.New(t)
	}
	cfg.Namespace = r.Prefix
	s, err := workoutput.New(r.Client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return env{r: r, store: s}
}

// modes runs f on a single server and on the 3-master cluster.
func modes(t *testing.T, f func(t *testing.T, cluster bool)) {
	for _, cluster := range []bool{false, true} {
		name := "single"
		if cluster {
			name = "cluster"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, cluster)
		})
	}
}

func outs(ids ...string) []workoutput.Output {
	o := make([]workoutput.Output, len(ids))
	for i, id := range ids {
		o[i] = workoutput.Output{EventID: id, Value: []byte(`"out-` + id + `"`)}
	}
	return o
}

func TestSealAfterLastOutputCompletes(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a", "b"}}, false)
		if err != nil {
			t.Fatal(err)
		}
		first, err := e.store.Add(ctx, job.ID, workoutput.Batch{Generated: 2})
		if err != nil || first != 0 {
			t.Fatalf("Add = %d, %v; want 0, nil", first, err)
		}
		res, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("a", "b", workoutput.GeneratedID(0)), Failures: []workoutput.Failure{{EventID: workoutput.GeneratedID(1), Reason: "boom", Attempts: 3, Time: time.Now()}}})
		if err != nil || res.Completed {
			t.Fatalf("Write before seal = %+v, %v; want not completed", res, err)
		}
		completed, err := e.store.Seal(ctx, job.ID)
		if err != nil || !completed {
			t.Fatalf("Seal after last output = %v, %v; want completed", completed, err)
		}
		// A second Seal (a retry after a lost reply) gets the first answer.
		again, err := e.store.Seal(ctx, job.ID)
		if err != nil || !again {
			t.Fatalf("second Seal = %v, %v; want true, nil (the first seal's answer)", again, err)
		}
		st, err := e.store.Status(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != workoutput.StateComplete || st.Total != 4 || st.Done != 3 || st.Failed != 1 || st.Pending != 0 || !st.Sealed {
			t.Fatalf("Status = %+v", st)
		}
		var failures []workoutput.Failure
		for f, err := range e.store.Failures(ctx, job.ID) {
			if err != nil {
				t.Fatal(err)
			}
			failures = append(failures, f)
		}
		if len(failures) != 1 || failures[0].EventID != "#1" || failures[0].Reason != "boom" || failures[0].Attempts != 3 {
			t.Fatalf("Failures = %+v", failures)
		}
		_, err = e.store.Add(ctx, job.ID, workoutput.Batch{IDs: []string{"c"}})
		if !errors.Is(err, workoutput.ErrSealed) {
			t.Fatalf("Add after seal: %v, want ErrSealed", err)
		}
	})
}

func TestSealBeforeLastOutputCompletesOnce(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 3}, true)
		if err != nil || job.Completed {
			t.Fatalf("Open = %+v, %v", job, err)
		}
		ids := []string{"#0", "#1", "#2"}
		completions := 0
		// Every event delivered three times, in overlapping chunks; each
		// delivery's write has an ID of its own, as the worker's do.
		var completer workoutput.Record
		for round := range 3 {
			for i, chunk := range [][]string{ids[:2], ids[1:]} {
				rec := workoutput.Record{Outputs: outs(chunk...), ID: fmt.Sprint("delivery-", round, "-", i)}
				res, err := e.store.Write(ctx, job.ID, rec)
				if err != nil {
					t.Fatal(err)
				}
				if res.Completed {
					completions++
					completer = rec
				}
			}
		}
		if completions != 1 {
			t.Fatalf("completion reported %d times, want 1", completions)
		}
		// A retry of the completing write (a lost reply) gets its answer.
		if res, err := e.store.Write(ctx, job.ID, completer); err != nil || !res.Completed {
			t.Fatalf("retry of the completing write = %+v, %v; want Completed again", res, err)
		}
		chunk, err := e.store.Pending(ctx, job.ID, []string{"#0", "#9"})
		if err != nil || chunk.State != workoutput.StateComplete || !slices.Equal(chunk.Done, []bool{true, false}) {
			t.Fatalf("Pending = %+v %v", chunk, err)
		}
		item, err := e.store.Output(ctx, job.ID, "#1")
		var got string
		if err != nil || item.Decode(&got) != nil || got != "out-#1" {
			t.Fatalf("Output = %q, %v", got, err)
		}
		n := 0
		for f, err := range e.store.Outputs(ctx, job.ID) {
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(ids, f.Field) {
				t.Fatalf("unexpected output field %q", f.Field)
			}
			n++
		}
		if n != 3 {
			t.Fatalf("Outputs yielded %d fields, want 3", n)
		}
	})
}

func TestZeroEventJobCompletesAtOnce(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{}, true)
		if err != nil || !job.Completed {
			t.Fatalf("Open sealed with 0 events = %+v, %v; want Completed", job, err)
		}
		streamed, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{}, false)
		if err != nil || streamed.Completed {
			t.Fatalf("Open = %+v, %v", streamed, err)
		}
		if c, err := e.store.Seal(ctx, streamed.ID); err != nil || !c {
			t.Fatalf("Seal of empty job = %v, %v; want completed", c, err)
		}
	})
}

func TestFailureReplacedByLaterOutput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{})
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"x", "y"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Failures: []workoutput.Failure{{EventID: "x", Reason: "first try"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("x")}); err != nil {
		t.Fatal(err)
	}
	// A late failure of an event that has an output is ignored.
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Failures: []workoutput.Failure{{EventID: "x", Reason: "late"}}}); err != nil {
		t.Fatal(err)
	}
	st, err := e.store.Status(ctx, job.ID)
	if err != nil || st.Done != 1 || st.Failed != 0 || st.Pending != 1 || st.State != workoutput.StateRunning {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	var missing []string
	for id, err := range e.store.Missing(ctx, job.ID) {
		if err != nil {
			t.Fatal(err)
		}
		missing = append(missing, id)
	}
	if !slices.Equal(missing, []string{"y"}) {
		t.Fatalf("Missing = %v, want [y]", missing)
	}
}

func TestMissingPagesThroughGeneratedAndGivenIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{ScanPage: 7})
	ids := make([]string, 30)
	for i := range ids {
		ids[i] = fmt.Sprintf("ev-%02d", i)
	}
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: ids, Generated: 25}, false)
	if err != nil {
		t.Fatal(err)
	}
	var done []string
	for i := 0; i < 30; i += 2 {
		done = append(done, ids[i])
	}
	for i := int64(0); i < 25; i += 5 {
		done = append(done, workoutput.GeneratedID(i))
	}
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs(done...)}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 1; i < 30; i += 2 {
		want = append(want, ids[i])
	}
	for i := int64(0); i < 25; i++ {
		if i%5 != 0 {
			want = append(want, workoutput.GeneratedID(i))
		}
	}
	var got []string
	for id, err := range e.store.Missing(ctx, job.ID) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Missing = %v\nwant %v", got, want)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{})
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Cancel(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Cancel(ctx, job.ID); err != nil {
		t.Fatalf("second Cancel: %v, want nil", err)
	}
	res, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("#0", "#1")})
	if err != nil || !res.Skipped || res.Completed {
		t.Fatalf("Write to cancelled job = %+v, %v; want Skipped", res, err)
	}
	chunk, err := e.store.Pending(ctx, job.ID, []string{"#0"})
	if err != nil || chunk.State != workoutput.StateCancelled {
		t.Fatalf("Pending state = %v, %v", chunk.State, err)
	}
	if _, err := e.store.Seal(ctx, job.ID); !errors.Is(err, workoutput.ErrState) {
		t.Fatalf("Seal of cancelled job: %v, want ErrState", err)
	}
}

func TestKeysHaveSafetyTTLAndShareSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, true, workoutput.Config{SafetyMargin: time.Minute})
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: time.Minute, Retention: time.Minute}, workoutput.Batch{IDs: []string{"a", "b"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("a"), Failures: []workoutput.Failure{{EventID: "b", Reason: "x"}}}); err != nil {
		t.Fatal(err)
	}
	cc := e.r.Client.(*redis.ClusterClient)
	var (
		mu   sync.Mutex
		keys []string
	)
	err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		ks, err := c.Keys(ctx, e.r.Prefix+"job:{"+job.ID+"}:*").Result()
		mu.Lock()
		keys = append(keys, ks...)
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 {
		t.Fatalf("job keys = %v, want meta, events, ids, outputs, failures", keys)
	}
	slot := -1
	for _, k := range keys {
		s, err := cc.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if slot >= 0 && int(s) != slot {
			t.Fatalf("key %s in slot %d, others in %d", k, s, slot)
		}
		slot = int(s)
		ttl, err := cc.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 2*time.Minute || ttl > 3*time.Minute {
			t.Fatalf("TTL of %s = %v, want deadline+retention+margin (about 3m)", k, ttl)
		}
	}
}

func TestJobsSpreadOverMasters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, true, workoutput.Config{})
	cc := e.r.Client.(*redis.ClusterClient)
	nodes := map[string]bool{}
	for range 30 {
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 1}, true)
		if err != nil {
			t.Fatal(err)
		}
		c, err := cc.MasterForKey(ctx, e.r.Prefix+"job:{"+job.ID+"}:meta")
		if err != nil {
			t.Fatal(err)
		}
		nodes[c.Options().Addr] = true
	}
	if len(nodes) != 3 {
		t.Fatalf("30 jobs landed on %d masters, want 3", len(nodes))
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		idx := e.r.Prefix + "jobs"
		open := func(deadline time.Duration, n int) string {
			job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: deadline}, workoutput.Batch{Generated: n}, true)
			if err != nil {
				t.Fatal(err)
			}
			return job.ID
		}
		complete := open(time.Hour, 0)
		if err := e.store.Notify(ctx, complete); err != nil {
			t.Fatal(err)
		}
		// Past its deadline at the sweep's time, not when it is opened: a
		// deadline of 1 ms could pass between Open's clock reading and its
		// script on a loaded machine (TOOLATE).
		overdue := open(time.Minute, 1)
		running := open(time.Hour, 1)
		early := open(time.Hour, 1) // marked due, but not complete
		if err := e.store.MarkDue(ctx, early); err != nil {
			t.Fatal(err)
		}
		cancelled := open(time.Hour, 1)
		if err := e.store.Cancel(ctx, cancelled); err != nil {
			t.Fatal(err)
		}
		if _, err := e.r.Client.ZScore(ctx, idx, cancelled).Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("index entry of a cancelled job: %v; want none", err)
		}
		at := time.Now().Add(time.Minute + workoutput.DefaultSweepDelay + time.Second)
		res, err := e.store.Sweep(ctx, at, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Complete, []string{complete}) || !slices.Equal(res.Overdue, []string{overdue}) || len(res.Collecting) != 0 {
			t.Fatalf("Sweep = %+v; want complete %s, overdue %s (running %s, early %s)", res, complete, overdue, running, early)
		}
		// The job marked due early is back at its deadline.
		st, err := e.store.Status(ctx, early)
		if err != nil {
			t.Fatal(err)
		}
		if score, err := e.r.Client.ZScore(ctx, idx, early).Result(); err != nil || int64(score) != st.Deadline.Add(workoutput.DefaultSweepDelay).UnixMilli() {
			t.Fatalf("index score of the job marked due early = %v, %v; want its deadline + SweepDelay", score, err)
		}
		if res, err = e.store.Sweep(ctx, at, time.Minute); err != nil || len(res.Complete)+len(res.Overdue) != 0 {
			t.Fatalf("second Sweep within the lease = %+v, %v; want nothing", res, err)
		}
		// An index entry whose job does not exist (yet): Open writes the
		// entry first, due SweepDelay after the job's deadline, and refuses
		// to create the job past its deadline; so a sweep before the entry
		// is due keeps it, and one after drops it.
		creating := workoutput.NewJobID()
		due := time.Now().Add(time.Hour)
		if err := e.r.Client.ZAdd(ctx, idx, redis.Z{Score: float64(due.UnixMilli()), Member: creating}).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err = e.store.Sweep(ctx, time.Now(), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := e.r.Client.ZScore(ctx, idx, creating).Result(); err != nil {
			t.Fatalf("index entry of the job being created: %v; want it kept", err)
		}
		if res, err = e.store.Sweep(ctx, due.Add(time.Second), time.Minute); err != nil || res.Removed != 1 || !slices.Equal(res.Gone, []string{creating}) {
			t.Fatalf("Sweep once the entry is due = %+v, %v; want the entry of the missing job dropped, and reported gone", res, err)
		}
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{MaxEvents: 5, MaxOutputSize: 8})
	s := e.store
	open, err := s.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{}, true)
	if err != nil {
		t.Fatal(err)
	}
	unknown := workoutput.NewJobID()
	cases := []struct {
		name    string
		call    func() error
		is      error
		message string
	}{
		{"job ID not a UUID", func() error { _, err := s.Add(ctx, "job-1", workoutput.Batch{Generated: 1}); return err },
			workoutput.ErrInvalid, `workoutput: invalid input: job ID "job-1" is not a UUID (want the canonical lower-case 36-character form, like "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")`},
		{"spec ID not canonical", func() error {
			_, err := s.Open(ctx, workoutput.Spec{ID: strings.ToUpper(open.ID), Kind: "k"}, workoutput.Batch{}, true)
			return err
		}, workoutput.ErrInvalid, `workoutput: invalid input: job ID "` + strings.ToUpper(open.ID) + `" is not a UUID (want the canonical lower-case 36-character form, like "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")`},
		{"empty kind", func() error { _, err := s.Open(ctx, workoutput.Spec{}, workoutput.Batch{}, true); return err },
			workoutput.ErrInvalid, "workoutput: invalid input: Spec.Kind is empty (want the name of the handler of the job's events)"},
		{"bad policy", func() error {
			_, err := s.Open(ctx, workoutput.Spec{Kind: "k", FailurePolicy: "retry"}, workoutput.Batch{}, true)
			return err
		}, workoutput.ErrInvalid, `workoutput: invalid input: Spec.FailurePolicy is "retry" (want "fail" or "continue")`},
		{"deadline under a millisecond", func() error {
			_, err := s.Open(ctx, workoutput.Spec{Kind: "k", Deadline: time.Nanosecond}, workoutput.Batch{Generated: 1}, true)
			return err
		}, workoutput.ErrInvalid, "workoutput: invalid input: Spec.Deadline is 1ns (want at least 1ms, a job's times are kept to the millisecond; 0 means the default)"},
		{"job ID taken", func() error {
			_, err := s.Open(ctx, workoutput.Spec{ID: open.ID, Kind: "k"}, workoutput.Batch{}, true)
			return err
		},
			workoutput.ErrJobExists, "workoutput: job already exists: job " + open.ID + " (want a new job ID)"},
		{"duplicate in one call", func() error { _, err := s.Add(ctx, open.ID, workoutput.Batch{IDs: []string{"b", "b"}}); return err },
			workoutput.ErrDuplicateEvent, `workoutput: duplicate event ID: event ID "b" is given twice in one call (want IDs unique within the job)`},
		{"duplicate across calls", func() error { _, err := s.Add(ctx, open.ID, workoutput.Batch{IDs: []string{"c", "a"}}); return err },
			workoutput.ErrDuplicateEvent, `workoutput: duplicate event ID: event ID "a" already exists in job ` + open.ID + ` (want IDs unique within the job)`},
		{"empty event ID", func() error { _, err := s.Add(ctx, open.ID, workoutput.Batch{IDs: []string{""}}); return err },
			workoutput.ErrInvalid, "workoutput: invalid input: event ID is empty (want a non-empty ID, or leave IDs out to have them generated)"},
		{"reserved event ID", func() error { _, err := s.Add(ctx, open.ID, workoutput.Batch{IDs: []string{"#1"}}); return err },
			workoutput.ErrInvalid, `workoutput: invalid input: event ID "#1" starts with "#", which is reserved for generated IDs`},
		{"add after seal", func() error { _, err := s.Add(ctx, sealed.ID, workoutput.Batch{Generated: 1}); return err },
			workoutput.ErrSealed, "workoutput: job is sealed: job " + sealed.ID + " is sealed, no event can be added (want Add before Seal)"},
		{"too many events in one call", func() error { _, err := s.Add(ctx, open.ID, workoutput.Batch{Generated: 6}); return err },
			workoutput.ErrTooLarge, "workoutput: too large: 6 events (want at most 5 per job, Config.MaxEvents)"},
		{"too many events across calls", func() error { _, err := s.Add(ctx, open.ID, workoutput.Batch{Generated: 5}); return err },
			workoutput.ErrTooLarge, "workoutput: too large: job " + open.ID + " has 1 events, adding 5 would exceed 5 (Config.MaxEvents)"},
		{"oversize output", func() error {
			_, err := s.Write(ctx, open.ID, workoutput.Record{Outputs: []workoutput.Output{{EventID: "a", Value: []byte("123456789")}}})
			return err
		}, workoutput.ErrTooLarge, `workoutput: too large: output of event "a" is 9 bytes (want at most 8, Config.MaxOutputSize)`},
		{"unknown job", func() error { _, err := s.Seal(ctx, unknown); return err },
			workoutput.ErrJobNotFound, "workoutput: job not found: " + unknown + " (never opened, expired or deleted)"},
		{"unknown job status", func() error { _, err := s.Status(ctx, unknown); return err },
			workoutput.ErrJobNotFound, "workoutput: job not found: " + unknown + " (never opened, expired or deleted)"},
		{"unknown job write", func() error { _, err := s.Write(ctx, unknown, workoutput.Record{Outputs: outs("a")}); return err },
			workoutput.ErrJobNotFound, "workoutput: job not found: " + unknown + " (never opened, expired or deleted)"},
		{"negative config", func() error { _, err := workoutput.New(e.r.Client, workoutput.Config{MaxEvents: -1}); return err },
			workoutput.ErrInvalid, "workoutput: invalid input: Config.MaxEvents is -1, want >= 0 (0 means the default)"},
	}
	for _, c := range cases {
		err := c.call()
		if !errors.Is(err, c.is) || err.Error() != c.message {
			t.Errorf("%s:\n got %v\nwant %s", c.name, err, c.message)
		}
	}
	// A rejected call changed nothing.
	st, err := s.Status(ctx, open.ID)
	if err != nil || st.Total != 1 {
		t.Fatalf("Status after rejected calls = %+v, %v; want Total 1", st, err)
	}
}

// TestOpenNoRetry: Open takes Spec.MaxRetry NoRetry and records it as 0,
// as jobs.Producer does; a retry of that Open gets its answer; another
// negative MaxRetry is invalid.
func TestOpenNoRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{})
	spec := workoutput.Spec{ID: workoutput.NewJobID(), Kind: "k", MaxRetry: workoutput.NoRetry}
	for range 2 { // the second: a retry after a lost reply
		job, err := e.store.Open(ctx, spec, workoutput.Batch{Generated: 1}, true)
		if err != nil || job.ID != spec.ID {
			t.Fatalf("Open with MaxRetry NoRetry = %+v, %v; want job %s", job, err, spec.ID)
		}
	}
	st, err := e.store.Status(ctx, spec.ID)
	if err != nil || st.MaxRetry != 0 {
		t.Fatalf("Status.MaxRetry = %d, %v; want 0", st.MaxRetry, err)
	}
	bad := workoutput.Spec{Kind: "k", MaxRetry: workoutput.NoRetry - 1}
	if _, err := e.store.Open(ctx, bad, workoutput.Batch{Generated: 1}, true); !errors.Is(err, workoutput.ErrInvalid) {
		t.Fatalf("Open with MaxRetry %d = %v; want ErrInvalid", bad.MaxRetry, err)
	}
}
