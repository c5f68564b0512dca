package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/refusal"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// The API says what the CLI says: the same texts for errors and failure
// reasons, the same waiting of a job, the same warnings of a submission.

// TestErrorsReadAsTheCLI: errors and failure reasons carry no Go package
// prefix ("eventfile: ", "workoutput: ", "jobs: "): they read as
// exitcode.Message prints them.
func TestErrorsReadAsTheCLI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	unknown := uuid.NewString()
	// The namespace searched is named: a job of another namespace is not
	// found, and the message must not read as if it never existed.
	notFound := "job not found: " + unknown + " (never opened, expired or deleted); looked in namespace " +
		fmt.Sprintf("%q", f.store.Config().Namespace) + "; check --namespace (env FANIN_NAMESPACE) against the producer's"
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/api/v1/jobs?kind=foo", "not json", 400,
			"malformed events: request body line 1: not valid JSON (invalid character 'o' in literal null (expecting 'u')); want one JSON value per line"},
		{"GET", "/api/v1/jobs/" + unknown, "", 404, notFound},
		{"GET", "/api/v1/jobs/" + unknown + "/failed", "", 404, notFound},
		{"GET", "/api/v1/jobs/not-a-uuid", "", 400,
			`invalid input: job ID "not-a-uuid" is not a UUID (want the canonical lower-case 36-character form, like "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")`},
	} {
		r := f.want(tc.status, tc.method, tc.path, strings.NewReader(tc.body))
		if msg, _ := r.errorBody(t); msg != tc.want {
			t.Errorf("%s %s: error %q, want %q", tc.method, tc.path, msg, tc.want)
		}
	}

	// A failed attempt to be retried, then a failure for good, with the
	// prefixes of the errors a handler wraps.
	ctx := context.Background()
	job := f.submit("count", events(3, true))
	if err := f.store.Note(ctx, job, []workoutput.Failure{{EventID: "e000", Reason: "jobs: bad input: try again", Attempts: 1, Time: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	var j jobJSON
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &j)
	if j.LastError == nil || j.LastError.Reason != "bad input: try again" || j.Retrying != 1 {
		t.Fatalf("last_error = %+v, retrying %d; want the reason bad input: try again", j.LastError, j.Retrying)
	}
	f.work(job, 3, "e001")
	if _, err := f.store.Write(ctx, job, workoutput.Record{Failures: []workoutput.Failure{
		{EventID: "e001", Reason: "jobs: bad input: odd one out", Attempts: 4, Time: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	var failed struct{ Failed []failureJSON }
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job+"/failed", nil).json(t, &failed)
	if len(failed.Failed) != 1 || failed.Failed[0].Reason != "bad input: odd one out" {
		t.Fatalf("failed = %+v; want the reason bad input: odd one out", failed.Failed)
	}
	f.collect(job)
	st, err := f.store.Status(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &j)
	if j.State != "failed" || j.Error == "" || j.Error != exitcode.Humanize(st.Error) || strings.Contains(j.Error, "jobs: ") {
		t.Fatalf("error of the failed job = %q; want %q, as coordinator status shows it", j.Error, exitcode.Humanize(st.Error))
	}
	// Its last error is its failure for good, as coordinator status shows
	// it (Store.SetFinalLastError), not the note of e000's retried attempt.
	if j.LastError == nil || j.LastError.Event != "e001" || j.LastError.Reason != "bad input: odd one out" || j.LastError.Attempts != 4 {
		t.Fatalf("last_error of the failed job = %+v; want e001's failure after 4 attempts", j.LastError)
	}
	// The list gives it too (it gave none: a committed job's Status has no
	// last error).
	var list jobList
	f.want(http.StatusOK, "GET", "/api/v1/jobs?state=failed", nil).json(t, &list)
	if len(list.Jobs) != 1 || list.Jobs[0].ID != job || list.Jobs[0].LastError == nil || *list.Jobs[0].LastError != *j.LastError {
		t.Fatalf("GET /jobs?state=failed = %+v; want the failed job with the last_error of GET /jobs/{id}, %+v", list.Jobs, *j.LastError)
	}
	r := f.want(http.StatusConflict, "GET", "/api/v1/jobs/"+job+"/result", nil)
	if msg, _ := r.errorBody(t); !strings.HasSuffix(msg, ": "+j.Error) {
		t.Fatalf("result of the failed job: %q; want it to end with the job's error %q", msg, j.Error)
	}
}

// TestWaitingAndWarningsFromTheHeartbeats: a job of a kind no live
// process serves says so in its waiting (GET, the list, the stream), as
// coordinator status does, and its submission warns as coordinator submit
// does; once a worker and a coordinator beat for the kind, both are gone.
func TestWaitingAndWarningsFromTheHeartbeats(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	nobody := []string{`no worker serves kind "count"`, `no coordinator reduces kind "count"`}
	var sub submitted
	f.want(http.StatusCreated, "POST", "/api/v1/jobs?kind=count", strings.NewReader(events(2, false))).json(t, &sub)
	if !slices.Equal(sub.Warnings, nobody) {
		t.Fatalf("warnings = %q, want %q", sub.Warnings, nobody)
	}
	job := sub.ID
	var j jobJSON
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &j)
	if !slices.Equal(j.Waiting, nobody) {
		t.Fatalf("waiting = %q, want %q", j.Waiting, nobody)
	}
	var l jobList
	f.want(http.StatusOK, "GET", "/api/v1/jobs", nil).json(t, &l)
	if len(l.Jobs) != 1 || !slices.Equal(l.Jobs[0].Waiting, nobody) {
		t.Fatalf("list = %+v; want the job waiting for %q", l.Jobs, nobody)
	}
	ch, _ := f.stream(job)
	if e := <-ch; !strings.Contains(e.data, `"waiting":["no worker serves kind \"count\"","no coordinator reduces kind \"count\""]`) {
		t.Fatalf("first status of the stream: %s", e.data)
	}

	// A worker of the kind on another queue than the server's.
	reg, err := jobs.NewRegistry(f.client, jobs.RegistryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	beat := func(role jobs.Role, queues ...string) {
		t.Helper()
		if err := reg.Beat(ctx, jobs.Member{ID: jobs.NewMemberID(), Role: role, Kinds: []string{"count"}, Queues: queues}); err != nil {
			t.Fatal(err)
		}
	}
	beat(jobs.RoleWorker, "elsewhere")
	f.want(http.StatusCreated, "POST", "/api/v1/jobs?kind=count", strings.NewReader(events(1, false))).json(t, &sub)
	if want := []string{`no worker serves kind "count" on queue "default"`, `no coordinator reduces kind "count"`}; !slices.Equal(sub.Warnings, want) {
		t.Fatalf("warnings with a worker on another queue = %q, want %q", sub.Warnings, want)
	}
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &j)
	if want := nobody[1:]; !slices.Equal(j.Waiting, want) {
		t.Fatalf("waiting with a worker = %q, want %q", j.Waiting, want)
	}

	// Served: no warning, no waiting, and the stream says so.
	beat(jobs.RoleWorker)
	beat(jobs.RoleCoordinator)
	r := f.want(http.StatusCreated, "POST", "/api/v1/jobs?kind=count", strings.NewReader(events(1, false)))
	if !strings.Contains(string(r.body), `"warnings":[]`) {
		t.Fatalf("a served kind: %s; want no warning", r.body)
	}
	var served jobJSON
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &served)
	if served.Waiting != nil {
		t.Fatalf("waiting of a served job = %q", served.Waiting)
	}
	for e := range ch {
		if e.event == "status" && !strings.Contains(e.data, `"waiting"`) {
			break
		}
	}
}

// TestQueryParametersAreChecked: every operation refuses a query
// parameter it does not accept, naming it and the accepted ones, and
// changes nothing; POST /jobs accepts event_timeout as coordinator submit
// --event-timeout does.
func TestQueryParametersAreChecked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	job := f.submit("count", events(2, false))
	for _, rt := range routes() {
		path := Prefix + strings.ReplaceAll(rt.path, "{id}", job) + "?bogus=1"
		if rt.op == "submitJob" {
			path += "&kind=count"
		}
		r := f.want(http.StatusBadRequest, rt.method, path, strings.NewReader(events(1, false)))
		msg, _ := r.errorBody(t)
		want := `unknown query parameter "bogus": ` + rt.method + " " + Prefix + rt.path + " takes no query parameter"
		if len(rt.params) > 0 {
			want = `unknown query parameter "bogus": ` + rt.method + " " + Prefix + rt.path + " accepts " + strings.Join(rt.params, ", ")
		}
		if msg != want {
			t.Errorf("%s %s: %q, want %q", rt.method, rt.path, msg, want)
		}
	}
	r := f.want(http.StatusBadRequest, "POST", "/api/v1/jobs?kind=count&event_timout=5s&Name=x", strings.NewReader(events(1, false)))
	if msg, _ := r.errorBody(t); !strings.HasPrefix(msg, `unknown query parameters "Name", "event_timout": POST /api/v1/jobs accepts kind, name, `) {
		t.Errorf("two unknown parameters: %q", msg)
	}
	var l jobList
	f.want(http.StatusOK, "GET", "/api/v1/jobs", nil).json(t, &l)
	if len(l.Jobs) != 1 || l.Jobs[0].State != "running" {
		t.Fatalf("after the refused requests: %+v; want the one job, still running", l.Jobs)
	}

	// event_timeout, as a parameter or a header.
	for _, tc := range []struct {
		query, header string
		ms            int64
	}{{"&event_timeout=5s", "", 5000}, {"", "1m30s", 90000}, {"&event_timeout=0", "", 0}} {
		var h []string
		if tc.header != "" {
			h = []string{"Fanin-Event-Timeout", tc.header}
		}
		var sub submitted
		f.want(http.StatusCreated, "POST", "/api/v1/jobs?kind=count"+tc.query, strings.NewReader(events(1, false)), h...).json(t, &sub)
		var j jobJSON
		f.want(http.StatusOK, "GET", "/api/v1/jobs/"+sub.ID, nil).json(t, &j)
		if j.EventTimeoutMS != tc.ms {
			t.Errorf("event_timeout %q%q: event_timeout_ms %d, want %d", tc.query, tc.header, j.EventTimeoutMS, tc.ms)
		}
	}
}

// TestMaxRetryZeroMeansNone: max_retry=0 submits a job whose events are not
// retried (recorded MaxRetry 0), as submit --max-retry 0; without the
// parameter the producer's default (3).
func TestMaxRetryZeroMeansNone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, tc := range []struct {
		query string
		want  int
	}{{"&max_retry=0", 0}, {"", jobs.DefaultMaxRetry}, {"&max_retry=7", 7}} {
		var sub submitted
		f.want(http.StatusCreated, "POST", "/api/v1/jobs?kind=count"+tc.query, strings.NewReader(events(2, true))).json(t, &sub)
		var j jobJSON
		f.want(http.StatusOK, "GET", "/api/v1/jobs/"+sub.ID, nil).json(t, &j)
		if j.MaxRetry != tc.want {
			t.Errorf("POST ?kind=count%s: max_retry %d, want %d", tc.query, j.MaxRetry, tc.want)
		}
	}
}

// TestRetryRefusalReadsAsTheCLI: a refused retry says, as coordinator retry
// does (refusal.Retry), which jobs can be retried and what to do instead.
func TestRetryRefusalReadsAsTheCLI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	done := f.submit("count", events(2, true))
	f.work(done, 2)
	f.collect(done)
	running := f.submit("count", events(2, true))
	for job, hint := range map[string]string{
		done:    " (it has every output: coordinator replay reduces it again)",
		running: " (it has not ended yet: coordinator status --watch follows it)",
	} {
		st, err := f.store.Status(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		r := f.want(http.StatusConflict, "POST", "/api/v1/jobs/"+job+"/retry", nil)
		want := "wrong job state: job " + job + " is " + string(st.State) + "; " + refusal.Retryable + hint
		if msg, _ := r.errorBody(t); msg != want {
			t.Errorf("retry of a %s job: error %q, want %q", st.State, msg, want)
		}
	}
}
