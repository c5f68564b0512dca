package workoutput_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// attempt is a failed attempt of event id, to note.
func attempt(id, reason string) workoutput.Failure {
	return workoutput.Failure{EventID: id, Reason: reason, Attempts: 1, Time: time.UnixMilli(1_700_000_000_000).UTC()}
}

// noted returns the events of the job with a failed attempt noted.
func noted(t *testing.T, e env, jobID string, ids ...string) []string {
	t.Helper()
	got, err := e.store.Attempts(context.Background(), jobID, ids)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, id := range ids {
		if _, ok := got[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// TestNoteSkipsFinishedEvents: the failed attempt of an event that already
// has an output or a failure for good (another delivery finished it) is
// not recorded, and does not change Status.Retrying or Status.LastError;
// LastError is the last attempt recorded, not the last one given.
func TestNoteSkipsFinishedEvents(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a", "b", "c"}, Generated: 2}, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("a", "#1"),
			Failures: []workoutput.Failure{{EventID: "#0", Reason: "for good", Attempts: 3, Time: time.Now()}}}); err != nil {
			t.Fatal(err)
		}
		errorsKey := e.r.Prefix + "job:{" + job.ID + "}:errors"

		// Only finished events: nothing recorded, no key created.
		if err := e.store.Note(ctx, job.ID, []workoutput.Failure{attempt("a", "late"), attempt("#0", "late"), attempt("#1", "late")}); err != nil {
			t.Fatal(err)
		}
		st, err := e.store.Status(ctx, job.ID)
		if err != nil || st.Retrying != 0 || !reflect.DeepEqual(st.LastError, workoutput.Failure{}) {
			t.Fatalf("Status after notes of finished events = %+v, %v; want Retrying 0, no LastError", st, err)
		}
		if n := e.r.Client.Exists(ctx, errorsKey).Val(); n != 0 {
			t.Fatalf("the errors hash exists after notes of finished events only")
		}

		// Mixed: b and c are recorded; LastError is c's, the last recorded,
		// not that of the finished event given after it.
		if err := e.store.Note(ctx, job.ID, []workoutput.Failure{attempt("b", "flaky b"), attempt("#0", "late"), attempt("c", "flaky c"), attempt("a", "late")}); err != nil {
			t.Fatal(err)
		}
		if got := noted(t, e, job.ID, "a", "b", "c", "#0", "#1"); !reflect.DeepEqual(got, []string{"b", "c"}) {
			t.Fatalf("events noted = %q; want b and c only", got)
		}
		want := attempt("c", "flaky c")
		st, err = e.store.Status(ctx, job.ID)
		if last := st.LastError; err != nil || st.Retrying != 2 || last.EventID != want.EventID || last.Reason != want.Reason ||
			last.Attempts != want.Attempts || !last.Time.Equal(want.Time) {
			t.Fatalf("Status = Retrying %d, LastError %+v, %v; want 2, %+v", st.Retrying, st.LastError, err, want)
		}
		if ttl := e.r.Client.PTTL(ctx, errorsKey).Val(); ttl <= 0 {
			t.Fatalf("PTTL(errors) = %v; want the safety TTL", ttl)
		}

		// A later note of a finished event leaves the status as it was.
		if err := e.store.Note(ctx, job.ID, []workoutput.Failure{attempt("#1", "late again")}); err != nil {
			t.Fatal(err)
		}
		after, err := e.store.Status(ctx, job.ID)
		if err != nil || !reflect.DeepEqual(after, st) {
			t.Fatalf("Status after a note of a finished event = %+v, %v; want it unchanged: %+v", after, err, st)
		}
	})
}

// TestNoteRejectsUnknownEvents: a failed attempt of an event never
// registered with the job rejects the whole call, as a Write does (an
// error wrapping ErrUnknownEvent naming the ID), and records nothing; a
// job that is not accepting events is left alone, unknown IDs and all.
func TestNoteRejectsUnknownEvents(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, cluster bool) {
		ctx := context.Background()
		e := newEnv(t, cluster, workoutput.Config{})
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a"}, Generated: 2}, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, unknown := range []string{"zz", "#2", "#01"} {
			err := e.store.Note(ctx, job.ID, []workoutput.Failure{attempt("a", "flaky"), attempt("#1", "flaky"), attempt(unknown, "flaky")})
			if !errors.Is(err, workoutput.ErrUnknownEvent) || !strings.Contains(err.Error(), `"`+unknown+`"`) {
				t.Fatalf("Note with the unknown event %q = %v; want ErrUnknownEvent naming it", unknown, err)
			}
			// Write answers the same.
			_, werr := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs(unknown)})
			if !errors.Is(werr, workoutput.ErrUnknownEvent) {
				t.Fatalf("Write of the unknown event %q = %v; want ErrUnknownEvent", unknown, werr)
			}
		}
		st, err := e.store.Status(ctx, job.ID)
		if err != nil || st.Retrying != 0 || !reflect.DeepEqual(st.LastError, workoutput.Failure{}) {
			t.Fatalf("Status after rejected notes = %+v, %v; want nothing recorded", st, err)
		}
		if got := noted(t, e, job.ID, "a", "#1"); len(got) != 0 {
			t.Fatalf("events noted by rejected calls: %q", got)
		}
		// Once registered, its attempt is recorded.
		if _, err := e.store.Add(ctx, job.ID, workoutput.Batch{Generated: 1}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.Note(ctx, job.ID, []workoutput.Failure{attempt("#2", "flaky")}); err != nil {
			t.Fatal(err)
		}
		if got := noted(t, e, job.ID, "#2"); len(got) != 1 {
			t.Fatalf("the attempt of #2, registered since, was not recorded")
		}
		// A cancelled job, or one that does not exist, is left alone.
		if err := e.store.Cancel(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.store.Note(ctx, job.ID, []workoutput.Failure{attempt("zz", "flaky")}); err != nil {
			t.Fatalf("Note on a cancelled job = %v; want nil (left alone)", err)
		}
		if err := e.store.Note(ctx, "00000000-0000-4000-8000-000000000000", []workoutput.Failure{attempt("a", "flaky")}); err != nil {
			t.Fatalf("Note on a job that does not exist = %v; want nil (left alone)", err)
		}
	})
}

// testClock is a Store's clock that moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// TestRetryRemembersEveryKey: a retry repeated after a lost reply gets its
// first answer, changing nothing, even after later retries of the job: the
// job remembers every retry's key, not only the last one's.
func TestRetryRemembersEveryKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{now: time.Now().Truncate(time.Millisecond)}
	e := newEnv(t, false, workoutput.Config{Now: clock.Now})
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: time.Minute, Retention: time.Hour}, workoutput.Batch{Generated: 2}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("#0")}); err != nil {
		t.Fatal(err)
	}
	token := int64(0)
	// fail fails event #1 for good, with its payload, and commits the job
	// failed under a new token.
	fail := func() {
		t.Helper()
		res, err := e.store.Write(ctx, job.ID, workoutput.Record{Failures: []workoutput.Failure{{EventID: "#1", Reason: "boom", Attempts: 1, Time: clock.Now(), Payload: []byte(`{"n":1}`)}}})
		if err != nil || !res.Completed {
			t.Fatalf("Write of the failure = %+v, %v; want the job completed", res, err)
		}
		token++
		if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: job.ID, Token: token}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: job.ID, Token: token, State: workoutput.StateFailed, Retention: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	retry := func(key string) workoutput.Retried {
		t.Helper()
		r, err := e.store.Retry(ctx, job.ID, key)
		if err != nil {
			t.Fatalf("Retry %s: %v", key, err)
		}
		return r
	}
	meta := e.r.Prefix + "job:{" + job.ID + "}:meta"
	// snapshot is everything a repeated retry must leave alone.
	snapshot := func() (map[string]string, workoutput.Status, float64) {
		t.Helper()
		st, err := e.store.Status(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		return e.r.Client.HGetAll(ctx, meta).Val(), st, e.r.Client.ZScore(ctx, e.r.Prefix+"jobs", job.ID).Val()
	}

	fail()
	first := retry("K1")
	if first.Again || first.Events != 1 {
		t.Fatalf("Retry K1 = %+v; want 1 event put back", first)
	}
	clock.advance(time.Second)
	fail()
	second := retry("K2")
	if second.Again || second.Events != 1 || !second.Deadline.After(first.Deadline) {
		t.Fatalf("Retry K2 = %+v; want 1 event put back, a deadline after K1's %v", second, first.Deadline)
	}
	clock.advance(time.Second)
	fail()

	meta0, st0, score0 := snapshot()
	if st0.State != workoutput.StateFailed || st0.Retried != 2 {
		t.Fatalf("Status before the repeated retries = %+v; want failed, retried twice", st0)
	}
	again := retry("K1")
	if !again.Again || again.Events != first.Events || !again.Deadline.Equal(first.Deadline) {
		t.Fatalf("repeated Retry K1 = %+v; want K1's first answer %+v, again", again, first)
	}
	meta1, st1, score1 := snapshot()
	if !maps.Equal(meta0, meta1) || !reflect.DeepEqual(st0, st1) || score0 != score1 {
		t.Fatalf("a repeated Retry K1 changed the job:\nmeta %v\n  -> %v\nstatus %+v\n  -> %+v\nindex %v -> %v", meta0, meta1, st0, st1, score0, score1)
	}
	again = retry("K2")
	if !again.Again || again.Events != second.Events || !again.Deadline.Equal(second.Deadline) {
		t.Fatalf("repeated Retry K2 = %+v; want K2's first answer %+v, again", again, second)
	}
	if meta2, st2, score2 := snapshot(); !maps.Equal(meta0, meta2) || !reflect.DeepEqual(st0, st2) || score0 != score2 {
		t.Fatalf("a repeated Retry K2 changed the job: status %+v -> %+v", st0, st2)
	}
	// A new key still retries the job.
	third := retry("K3")
	if third.Again || third.Events != 1 {
		t.Fatalf("Retry K3 = %+v; want 1 event put back", third)
	}
	// A job retried by a version that kept only the last retry's key (in
	// meta.retrykey and meta.retryn): a repeated call with that key is
	// still answered again, with the job's deadline, and changes nothing.
	e.r.Client.HSet(ctx, meta, "retrykey", "OLD", "retryn", 1)
	meta3, st3, score3 := snapshot()
	if old := retry("OLD"); !old.Again || old.Events != 1 || !old.Deadline.Equal(third.Deadline) {
		t.Fatalf("repeated Retry of a retry kept in meta.retrykey = %+v; want again, 1 event, deadline %v", old, third.Deadline)
	}
	if meta4, st4, score4 := snapshot(); !maps.Equal(meta3, meta4) || !reflect.DeepEqual(st3, st4) || score3 != score4 {
		t.Fatalf("a repeated Retry of a retry kept in meta.retrykey changed the job: status %+v -> %+v", st3, st4)
	}
	// The next retry applied moves that key to its own field, with the
	// deadline it set: re-sent after it, it is still answered so.
	clock.advance(time.Second)
	fail()
	if fourth := retry("K4"); fourth.Again || !fourth.Deadline.After(third.Deadline) {
		t.Fatalf("Retry K4 = %+v; want applied, a deadline after %v", fourth, third.Deadline)
	}
	if old := retry("OLD"); !old.Again || old.Events != 1 || !old.Deadline.Equal(third.Deadline) {
		t.Fatalf("repeated Retry OLD after K4 = %+v; want again, 1 event, its deadline %v", old, third.Deadline)
	}
	if f := e.r.Client.HMGet(ctx, meta, "retrykey", "retryn").Val(); f[0] != nil || f[1] != nil {
		t.Fatalf("meta.retrykey, retryn = %v after K4; want them moved to retry:OLD", f)
	}
}

// TestSetFinalLastError: a committed job's last error is its failure for
// good recorded last, whatever its reason (an empty one too), ties broken
// by event ID; other states are left alone.
func TestSetFinalLastError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, false, workoutput.Config{})
	job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Retention: time.Hour}, workoutput.Batch{Generated: 3}, true)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Truncate(time.Millisecond)
	fails := []workoutput.Failure{
		{EventID: "#0", Reason: "", Attempts: 2, Time: t0.Add(time.Second)}, // the latest, with no reason
		{EventID: "#1", Reason: "older", Attempts: 1, Time: t0},
		{EventID: "#2", Reason: "oldest", Attempts: 1, Time: t0.Add(-time.Second)},
	}
	if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Failures: fails}); err != nil {
		t.Fatal(err)
	}
	st, err := e.store.Status(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := st
	if err := e.store.SetFinalLastError(ctx, &st); err != nil || !reflect.DeepEqual(st, before) {
		t.Fatalf("SetFinalLastError on a %s job = %v, status %+v; want it left alone", before.State, err, st)
	}
	if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: job.ID, Token: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: job.ID, Token: 1, State: workoutput.StateFailed, Retention: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if st, err = e.store.Status(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetFinalLastError(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if got := st.LastError; got.EventID != "#0" || got.Reason != "" || got.Attempts != 2 || !got.Time.Equal(fails[0].Time) {
		t.Fatalf("LastError = %+v; want #0's failure (the latest, with an empty reason)", got)
	}
}

// TestRetryingIsZeroOnceNotAccepting: the notes of events still missing
// when a job is collected (past its deadline) stay for Attempts, but
// Status.Retrying counts them only while the job accepts events: it is 0
// once the job is collecting, committed (failed, partial) or cancelled.
func TestRetryingIsZeroOnceNotAccepting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{now: time.Now().Truncate(time.Millisecond)}
	e := newEnv(t, false, workoutput.Config{Now: clock.Now})
	// check wants the job in state with retrying events counted, and the
	// notes of #0 and #1 kept.
	check := func(jobID string, state workoutput.State, retrying int64) {
		t.Helper()
		st, err := e.store.Status(ctx, jobID)
		if err != nil || st.State != state || st.Retrying != retrying {
			t.Fatalf("Status = %s, Retrying %d, %v; want %s, Retrying %d", st.State, st.Retrying, err, state, retrying)
		}
		if got := noted(t, e, jobID, "#0", "#1", "#2"); !reflect.DeepEqual(got, []string{"#0", "#1"}) {
			t.Fatalf("job %s: events noted = %q; want #0 and #1 kept", state, got)
		}
	}
	// open opens a job of 3 events, notes failed attempts of #0 and #1
	// and writes the output of #2.
	open := func() string {
		t.Helper()
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: time.Minute, Retention: time.Hour, FailurePolicy: workoutput.PolicyContinue},
			workoutput.Batch{Generated: 3}, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.Note(ctx, job.ID, []workoutput.Failure{attempt("#0", "flaky"), attempt("#1", "flaky")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs("#2")}); err != nil {
			t.Fatal(err)
		}
		check(job.ID, workoutput.StateRunning, 2)
		return job.ID
	}
	for _, final := range []workoutput.State{workoutput.StateFailed, workoutput.StatePartial} {
		job := open()
		clock.advance(2 * time.Minute)
		if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: job, Token: 1}); err != nil {
			t.Fatal(err)
		}
		check(job, workoutput.StateCollecting, 0)
		if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: job, Token: 1, State: final, Retention: time.Hour}); err != nil {
			t.Fatal(err)
		}
		check(job, final, 0)
	}
	job := open()
	if err := e.store.Cancel(ctx, job); err != nil {
		t.Fatal(err)
	}
	check(job, workoutput.StateCancelled, 0)
}

// latestFailure is the rule of SetFinalLastError over fs: the failure
// recorded last, ties broken by the greater event ID; zero for none.
func latestFailure(fs map[string]workoutput.Failure) workoutput.Failure {
	var last workoutput.Failure
	for _, f := range fs {
		if last.EventID == "" || f.Time.After(last.Time) || f.Time.Equal(last.Time) && f.EventID > last.EventID {
			last = f
		}
	}
	return last
}

// TestSetFinalLastErrorReadsMeta: Write keeps the job's latest failure in
// its meta, so that SetFinalLastError reads it without scanning the
// failures; its answer is the scan's (the latest by time, across time zones
// and to the nanosecond, ties broken by event ID byte by byte) on random
// sequences of writes: failures in several writes, an event failing again,
// outputs replacing failures (the latest one too), through write.lua and
// the fast path. A job whose meta lacks the field (written by an older
// version) gets the same answer from a scan.
func TestSetFinalLastErrorReadsMeta(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{now: time.Now().Truncate(time.Millisecond)}
	e := newEnv(t, false, workoutput.Config{Now: clock.Now})
	reads := &commandCounter{}
	e.r.Client.AddHook(reads)
	given := []string{"a", "b", "B", "ab", "a b", "z", "é"}
	ids := slices.Clone(given)
	for i := range 12 {
		ids = append(ids, workoutput.GeneratedID(int64(i)))
	}
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600), time.FixedZone("west", -7*3600)}

	// open opens a job of the events ids.
	open := func() string {
		t.Helper()
		job, err := e.store.Open(ctx, workoutput.Spec{Kind: "k", Deadline: time.Minute, Retention: time.Hour},
			workoutput.Batch{IDs: given, Generated: len(ids) - len(given)}, true)
		if err != nil {
			t.Fatal(err)
		}
		return job.ID
	}
	// commit collects the job past its deadline and commits it failed.
	commit := func(job string) workoutput.Status {
		t.Helper()
		clock.advance(2 * time.Minute)
		if _, err := e.store.Claim(ctx, workoutput.Claim{JobID: job, Token: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Commit(ctx, workoutput.Commit{JobID: job, Token: 1, State: workoutput.StateFailed, Retention: time.Hour}); err != nil {
			t.Fatal(err)
		}
		st, err := e.store.Status(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// final returns SetFinalLastError's answer and whether it scanned.
	final := func(st workoutput.Status) (workoutput.Failure, bool) {
		t.Helper()
		before := reads.count("hscan")
		if err := e.store.SetFinalLastError(ctx, &st); err != nil {
			t.Fatal(err)
		}
		return st.LastError, reads.count("hscan") > before
	}
	same := func(a, b workoutput.Failure) bool {
		return a.EventID == b.EventID && a.Reason == b.Reason && a.Attempts == b.Attempts && a.Time.Equal(b.Time)
	}
	lastfail := func(job string) {
		t.Helper()
		if err := e.r.Client.HDel(ctx, e.r.Prefix+"job:{"+job+"}:meta", "lastfail").Err(); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(id string, at time.Time, reason string) workoutput.Failure {
		return workoutput.Failure{EventID: id, Reason: reason, Attempts: 3, Time: at}
	}
	write := func(job string, r workoutput.Record) {
		t.Helper()
		if _, err := e.store.Write(ctx, job, r); err != nil {
			t.Fatal(err)
		}
	}

	// Failures in three writes, the latest with an empty reason, first in
	// the order of its write's failures; a later time in a zone whose
	// clock reads earlier; a tie at the nanosecond; an output replacing an
	// earlier failure: read from meta, no scan.
	job := open()
	t1 := base.Add(time.Nanosecond)
	write(job, workoutput.Record{Failures: []workoutput.Failure{fail("a", base, "first"), fail("#0", base.Add(-time.Hour), "older")}})
	write(job, workoutput.Record{Failures: []workoutput.Failure{fail("b", t1.In(zones[2]), ""), fail("#1", base.In(zones[1]), "tie with a")}})
	write(job, workoutput.Record{Outputs: outs("a"), Failures: []workoutput.Failure{fail("#2", t1.In(zones[1]), "tie with b, smaller ID")}})
	st := commit(job)
	got, scanned := final(st)
	if want := fail("b", t1, ""); !same(got, want) || scanned {
		t.Fatalf("LastError = %+v (scanned %v); want %+v, read from meta", got, scanned, want)
	}
	lastfail(job)
	if again, scanned := final(st); !same(again, got) || !scanned {
		t.Fatalf("LastError of a job without meta.lastfail = %+v (scanned %v); want the scan's %+v", again, scanned, got)
	}

	// Random sequences of writes, as the scan answers.
	rng := rand.New(rand.NewPCG(1, 2))
	for seq := range 40 {
		job := open()
		failures, done := map[string]workoutput.Failure{}, map[string]bool{}
		var log []string
		for w := range 2 + rng.IntN(5) {
			var r workoutput.Record
			perm := rng.Perm(len(ids))
			onlyOutputs := rng.IntN(4) == 0
			for _, i := range perm[:1+rng.IntN(5)] {
				id := ids[i]
				if onlyOutputs || rng.IntN(4) == 0 {
					r.Outputs = append(r.Outputs, outs(id)...)
					continue
				}
				at := base.Add(time.Duration(rng.IntN(3))*time.Second + time.Duration(rng.IntN(2))).In(zones[rng.IntN(len(zones))])
				if rng.IntN(10) == 0 {
					at = time.Time{}
				}
				r.Failures = append(r.Failures, fail(id, at, fmt.Sprintf("write %d", w)))
			}
			write(job, r)
			for _, o := range r.Outputs {
				done[o.EventID] = true
				delete(failures, o.EventID)
			}
			for _, f := range r.Failures {
				if !done[f.EventID] {
					failures[f.EventID] = f
				}
			}
			log = append(log, fmt.Sprintf("outputs %d failures %+v", len(r.Outputs), r.Failures))
		}
		st := commit(job)
		if st.Failed != int64(len(failures)) {
			t.Fatalf("sequence %d: Failed = %d; want %d\n%s", seq, st.Failed, len(failures), strings.Join(log, "\n"))
		}
		want := latestFailure(failures)
		got, _ := final(st)
		if !same(got, want) {
			t.Fatalf("sequence %d: LastError = %+v; want %+v\n%s", seq, got, want, strings.Join(log, "\n"))
		}
		lastfail(job)
		if got, _ := final(st); !same(got, want) {
			t.Fatalf("sequence %d without meta.lastfail: LastError = %+v; want %+v", seq, got, want)
		}
	}
}

// commandCalls returns how often the server of client ran cmd (INFO
// commandstats, which counts the commands scripts run too).
func commandCalls(t *testing.T, client redis.UniversalClient, cmd string) int {
	t.Helper()
	info, err := client.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// TestNoteBatchesItsChecks: Note checks whether its events are finished a
// thousand at a time (HMGET of the outputs and the failures), not with a
// command per event; across those batches, it still records the attempts
// of the unfinished events only, of caller-given and generated IDs, and
// the job's last error is the last attempt recorded.
func TestNoteBatchesItsChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client := srv.Client(t)
	store, err := workoutput.New(client, workoutput.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500
	given := []string{"g0", "g1", "g2"}
	job, err := store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: given, Generated: n}, true)
	if err != nil {
		t.Fatal(err)
	}
	// Finished on both sides of the batches' boundaries, and the last
	// attempt given.
	gen := workoutput.GeneratedID
	finished := []string{gen(0), gen(998), gen(999), gen(1000), gen(1999), gen(2000), gen(n - 1), "g1"}
	if _, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: outs(gen(0), gen(999), gen(2000), gen(n-1)),
		Failures: []workoutput.Failure{{EventID: gen(998), Reason: "for good"}, {EventID: gen(1000), Reason: "for good"},
			{EventID: gen(1999), Reason: "for good"}, {EventID: "g1", Reason: "for good"}}}); err != nil {
		t.Fatal(err)
	}
	var errs []workoutput.Failure
	for i, id := range given[:2] {
		errs = append(errs, attempt(id, fmt.Sprint("given ", i)))
	}
	for i := range n - 1 {
		errs = append(errs, attempt(gen(int64(i)), fmt.Sprint("attempt ", i)))
	}
	errs = append(errs, attempt(given[2], "the last recorded"), attempt(gen(n-1), "finished"))
	if err := client.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := store.Note(ctx, job.ID, errs); err != nil {
		t.Fatal(err)
	}
	hexists, hmget := commandCalls(t, client, "hexists"), commandCalls(t, client, "hmget")
	if batches := (len(errs) + 999) / 1000; hexists != 0 || hmget > 1+2*batches {
		t.Fatalf("Note of %d attempts ran HEXISTS %d times and HMGET %d times; want no HEXISTS, at most %d HMGET (meta, then each hash per thousand events)",
			len(errs), hexists, hmget, 1+2*batches)
	}
	st, err := store.Status(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(errs) - len(finished)); st.Retrying != want || st.LastError.EventID != given[2] || st.LastError.Reason != "the last recorded" {
		t.Fatalf("Status: Retrying %d, LastError %+v; want %d, the attempt of %s", st.Retrying, st.LastError, want, given[2])
	}
	var all []string
	for _, f := range errs {
		all = append(all, f.EventID)
	}
	noted, err := store.Attempts(ctx, job.ID, all)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range errs {
		_, ok := noted[f.EventID]
		if over := slices.Contains(finished, f.EventID); ok == over {
			t.Fatalf("event %s: noted %v; want noted unless finished (finished %v)", f.EventID, ok, over)
		}
	}
}
