package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fanin-dev/fanin/workoutput"
)

// TestJobLifecycleThroughTheAPI submits a job of caller-given IDs, follows
// it through every read endpoint while it runs, completes it with failures
// under policy continue, reads its result byte for byte, replays it and
// lists it.
func TestJobLifecycleThroughTheAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := f.want(http.StatusCreated, "POST", "/api/v1/jobs?kind=lines&name=first&policy=continue&chunk=4&retention=2h",
		strings.NewReader(events(10, true)))
	var sub submitted
	r.json(t, &sub)
	if sub.Events != 10 || r.header.Get("Location") != "/api/v1/jobs/"+sub.ID {
		t.Fatalf("submitted %+v, Location %q", sub, r.header.Get("Location"))
	}
	job := sub.ID

	var j jobJSON
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &j)
	if j.State != "running" || j.Total != 10 || j.Pending != 10 || j.Name != "first" || j.ChunkSize != 4 || j.FailurePolicy != "continue" || !slices.Equal(j.Actions, []string{"cancel"}) {
		t.Fatalf("job = %+v", j)
	}

	// The missing events, 3 a page: every one once, in ID order.
	var all []string
	after := ""
	for page := 0; ; page++ {
		var p struct {
			Missing []string
			Next    string
		}
		f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job+"/missing?limit=3&after="+after, nil).json(t, &p)
		all = append(all, p.Missing...)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	want := make([]string, 10)
	for i := range want {
		want[i] = fmt.Sprintf("e%03d", i)
	}
	if !slices.Equal(all, want) {
		t.Fatalf("missing pages = %v, want %v", all, want)
	}

	// No result yet, with or without a wait.
	for _, q := range []string{"", "?wait=50ms", "?wait=0.05"} {
		r := f.want(http.StatusNotFound, "GET", "/api/v1/jobs/"+job+"/result"+q, nil)
		if _, code := r.errorBody(t); code != codeNotReady {
			t.Fatalf("result%s before the end: code %s", q, code)
		}
	}

	f.work(job, 3, "e002", "e007")
	out := f.collect(job)
	if out.State != workoutput.StatePartial {
		t.Fatalf("collected %s", out.State)
	}
	stored, err := f.store.Result(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	r = f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job+"/result", nil)
	if !bytes.Equal(r.body, stored) || r.header.Get("Fanin-Job-State") != "partial" || r.header.Get("Content-Disposition") != "" {
		t.Fatalf("result %q (state %q), want the stored %q", r.body, r.header.Get("Fanin-Job-State"), stored)
	}
	r = f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job+"/result?download=1", nil)
	if !bytes.Equal(r.body, stored) || !strings.Contains(r.header.Get("Content-Disposition"), job+".result") {
		t.Fatalf("download: %q, Content-Disposition %q", r.body, r.header.Get("Content-Disposition"))
	}

	var failed struct {
		Failed []failureJSON
		Next   string
	}
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job+"/failed?limit=1", nil).json(t, &failed)
	if len(failed.Failed) != 1 || failed.Failed[0].ID != "e002" || failed.Failed[0].Attempts != 4 || failed.Failed[0].Reason != "bad luck with e002" || failed.Next != "e002" {
		t.Fatalf("failed page 1 = %+v", failed)
	}
	failed.Next = ""
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job+"/failed?after=e002", nil).json(t, &failed)
	if len(failed.Failed) != 1 || failed.Failed[0].ID != "e007" || failed.Next != "" {
		t.Fatalf("failed page 2 = %+v", failed)
	}

	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &j)
	if j.State != "partial" || j.Done != 8 || j.Failed != 2 || j.ETASeconds != nil || !slices.Equal(j.Actions, []string{"replay"}) || j.Rate <= 0 {
		t.Fatalf("finished job = %+v", j)
	}
	// A finished job cannot be cancelled.
	f.want(http.StatusConflict, "POST", "/api/v1/jobs/"+job+"/cancel", nil)

	var o outcomeJSON
	f.want(http.StatusOK, "POST", "/api/v1/jobs/"+job+"/replay", nil).json(t, &o)
	if o.State != "partial" || o.Outputs != 8 || o.Failed != 2 || o.Token <= out.Token {
		t.Fatalf("replay = %+v (first token %d)", o, out.Token)
	}

	var list jobList
	f.want(http.StatusOK, "GET", "/api/v1/jobs?state=partial", nil).json(t, &list)
	if len(list.Jobs) != 1 || list.Jobs[0].ID != job || list.States["partial"] != 1 || list.Next != "" {
		t.Fatalf("list = %+v", list)
	}

	// The stream of a finished job: its status, then the end.
	ch, _ := f.stream(job)
	var got []string
	for e := range ch {
		got = append(got, e.event)
	}
	if !slices.Equal(got, []string{"status", "end"}) {
		t.Fatalf("stream of a finished job: %v", got)
	}
}

// TestSubmitBadInputCreatesNothing: each bad body or parameter is refused
// with its status and a message naming what is wrong, and no job, key or
// task is left in Redis.
func TestSubmitBadInputCreatesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, s *workoutput.Config) {
		c.MaxBody = 4096
		c.MaxLine = 200
		s.MaxEventSize = 100
		s.MaxEvents = 20
	})
	good := events(5, true)
	for _, tc := range []struct {
		name, query, body string
		status            int
		text              string
	}{
		{"malformed line 4", "kind=lines", good[:0] + events(3, true) + "{\"id\":\"x\",\n" + events(2, false), 400, "request body line 4: not valid JSON"},
		{"id not a string", "kind=lines", "{\"id\":\"a\"}\n{\"id\":7}\n", 400, `request body line 2: field "id" is 7`},
		{"duplicate", "kind=lines", "{\"id\":\"a\"}\n{\"id\":\"a\"}\n", 400, `"a" is given twice`},
		{"reserved id", "kind=lines", "{\"id\":\"#3\"}\n", 400, `"#3"`},
		{"event over the store's size", "kind=lines", "{\"id\":\"big\",\"p\":\"" + strings.Repeat("x", 120) + "\"}\n", 413, `"big"`},
		{"line over the line limit", "kind=lines", good + "{\"p\":\"" + strings.Repeat("x", 300) + "\"}\n", 413, "request body line 6 is over 200 bytes"},
		{"body over the limit", "kind=lines", strings.Repeat("{\"p\":\""+strings.Repeat("y", 90)+"\"}\n", 50), 413, "over 4096 bytes"},
		{"too many events", "kind=lines", events(21, false), 413, "21 events"},
		{"no kind", "", good, 400, "kind is required"},
		{"bad policy", "kind=lines&policy=maybe", good, 400, `policy "maybe"`},
		{"bad retention", "kind=lines&retention=soon", good, 400, `retention "soon"`},
		{"bad deadline", "kind=lines&deadline=-1h", good, 400, `deadline "-1h"`},
		{"bad chunk", "kind=lines&chunk=10001", good, 400, "chunk 10001"},
		{"bad max_retry", "kind=lines&max_retry=x", good, 400, `max_retry "x"`},
		{"negative event_timeout", "kind=lines&event_timeout=-1s", good, 400, "event_timeout -1s (want a positive duration, or 0 for the worker's)"},
		{"bad event_timeout", "kind=lines&event_timeout=soon", good, 400, `event_timeout "soon" (want a duration like 30s`},
		{"unknown parameter", "kind=lines&bogus=1", good, 400, `unknown query parameter "bogus": POST /api/v1/jobs accepts kind, name, deadline, retention, policy, max_retry, chunk, event_timeout, id_field`},
	} {
		r := f.do("POST", "/api/v1/jobs?"+tc.query, strings.NewReader(tc.body))
		msg, _ := r.errorBody(t)
		if r.status != tc.status || !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %d %q; want %d naming %q", tc.name, r.status, msg, tc.status, tc.text)
		}
	}
	if k := f.jobKeys(); len(k) > 0 {
		t.Fatalf("refused submissions left keys: %v", k)
	}
	if n, _ := f.client.Keys(context.Background(), "asynq:*:t:*").Result(); len(n) > 0 {
		t.Fatalf("refused submissions enqueued tasks: %v", n)
	}
	// The same settings as headers, and a generated-ID job.
	r := f.want(http.StatusCreated, "POST", "/api/v1/jobs", strings.NewReader(events(3, false)), "Fanin-Kind", "count", "Fanin-Name", "from headers", "Fanin-Policy", "continue", "Fanin-Id-Field", "")
	var sub submitted
	r.json(t, &sub)
	st, err := f.store.Status(context.Background(), sub.ID)
	if err != nil || st.Kind != "count" || st.Name != "from headers" || st.FailurePolicy != workoutput.PolicyContinue || st.Total != 3 {
		t.Fatalf("job from headers: %+v, %v", st, err)
	}
}

// TestIDsAreChecked: every operation on a job answers 400 for an ID that
// is not a UUID and 404 for a job that does not exist.
func TestIDsAreChecked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	unknown := uuid.NewString()
	for _, op := range []struct{ method, suffix string }{
		{"GET", ""}, {"GET", "/result"}, {"GET", "/failed"}, {"GET", "/missing"}, {"GET", "/stream"},
		{"POST", "/cancel"}, {"POST", "/replay"}, {"POST", "/retry"},
	} {
		r := f.do(op.method, "/api/v1/jobs/not-a-uuid"+op.suffix, nil)
		if msg, _ := r.errorBody(t); r.status != 400 || !strings.Contains(msg, "not-a-uuid") {
			t.Errorf("%s %s with a bad ID: %d %s", op.method, op.suffix, r.status, msg)
		}
		want := http.StatusNotFound
		if r := f.do(op.method, "/api/v1/jobs/"+unknown+op.suffix, nil); r.status != want {
			t.Errorf("%s %s of an unknown job: %d %s, want %d", op.method, op.suffix, r.status, r.body, want)
		}
	}
}

// TestTokenIsRequired: with a token, every request under /api/ without it
// or with another is refused 401; the static dashboard and /healthz are
// not.
func TestTokenIsRequired(t *testing.T) {
	t.Parallel()
	const token = "tok-0123456789abcdef"
	f := newFixture(t, func(c *Config, _ *workoutput.Config) { c.Token = token })
	job := uuid.NewString()
	for _, auth := range []string{"", "Bearer wrong-token", "Basic " + token, token} {
		for _, rq := range []struct{ method, path string }{
			{"GET", "/api/v1/jobs"}, {"POST", "/api/v1/jobs?kind=k"}, {"GET", "/api/v1/jobs/" + job}, {"GET", "/api/v1/jobs/" + job + "/result"},
			{"GET", "/api/v1/jobs/" + job + "/failed"}, {"GET", "/api/v1/jobs/" + job + "/missing"}, {"GET", "/api/v1/jobs/" + job + "/stream"},
			{"POST", "/api/v1/jobs/" + job + "/cancel"}, {"POST", "/api/v1/jobs/" + job + "/replay"}, {"POST", "/api/v1/jobs/" + job + "/retry"},
			{"GET", "/api/v1/openapi.json"},
		} {
			var h []string
			if auth != "" {
				h = []string{"Authorization", auth}
			}
			r := f.do(rq.method, rq.path, strings.NewReader("{}\n"), h...)
			if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with Authorization %q: %d, want 401", rq.method, rq.path, auth, r.status)
			}
			if bytes.Contains(r.body, []byte(token)) {
				t.Errorf("the answer shows the token: %s", r.body)
			}
		}
	}
	f.header.Set("Authorization", "Bearer "+token)
	f.want(http.StatusOK, "GET", "/api/v1/jobs", nil)
	f.want(http.StatusOK, "GET", "/api/v1/openapi.json", nil)
	f.header.Del("Authorization")
	f.want(http.StatusOK, "GET", "/", nil)
	f.want(http.StatusOK, "GET", "/healthz", nil)
}

// TestCrossSitePostsAreRefused: a POST a browser sends from another site is
// refused 403 and changes nothing; the same from the server's own page, or
// from a client that is not a browser, goes through.
func TestCrossSitePostsAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	job := f.submit("count", events(3, false))
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "http://evil.example"},
	} {
		r := f.do("POST", "/api/v1/jobs/"+job+"/cancel", nil, h...)
		if r.status != http.StatusForbidden {
			t.Errorf("cancel with %v: %d %s, want 403", h, r.status, r.body)
		}
		r = f.do("POST", "/api/v1/jobs?kind=count", strings.NewReader("{}\n"), h...)
		if r.status != http.StatusForbidden {
			t.Errorf("submit with %v: %d %s, want 403", h, r.status, r.body)
		}
		f.want(http.StatusForbidden, "POST", "/api/v1/jobs/"+job+"/replay", nil, h...)
		f.want(http.StatusForbidden, "POST", "/api/v1/jobs/"+job+"/retry", nil, h...)
	}
	if st, _ := f.store.Status(context.Background(), job); st.State != workoutput.StateRunning {
		t.Fatalf("a refused cancel changed the job: %s", st.State)
	}
	if list := f.want(http.StatusOK, "GET", "/api/v1/jobs", nil); bytes.Count(list.body, []byte(`"id"`)) != 1 {
		t.Fatalf("a refused submit created a job: %s", list.body)
	}
	// Reads are not changes: allowed, but no CORS header lets another
	// site's script see them.
	r := f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil, "Sec-Fetch-Site", "cross-site", "Origin", "http://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS header on a read: %q", r.header.Get("Access-Control-Allow-Origin"))
	}
	f.want(http.StatusOK, "POST", "/api/v1/jobs/"+job+"/cancel", nil, "Sec-Fetch-Site", "same-origin", "Origin", f.ts.URL)
	if st, _ := f.store.Status(context.Background(), job); st.State != workoutput.StateCancelled {
		t.Fatalf("a same-origin cancel: %s", st.State)
	}
	// Cancelling again changes nothing and answers the same.
	f.want(http.StatusOK, "POST", "/api/v1/jobs/"+job+"/cancel", nil)
}

// TestHostsAndMethods: another Host than the allowed ones is refused 421;
// a known path with another method 405 naming the method to use; an
// unknown path 404; mutating operations are POST only.
func TestHostsAndMethods(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, _ *workoutput.Config) { c.AllowedHosts = []string{"127.0.0.1", "localhost"} })
	req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/jobs", nil)
	req.Host = "rebound.evil.example"
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("Host rebound.evil.example: %d, want 421", resp.StatusCode)
	}
	job := uuid.NewString()
	for _, path := range []string{"/cancel", "/replay", "/retry"} {
		r := f.want(http.StatusMethodNotAllowed, "GET", "/api/v1/jobs/"+job+path, nil)
		if r.header.Get("Allow") != "POST" {
			t.Errorf("GET %s: Allow %q", path, r.header.Get("Allow"))
		}
	}
	f.want(http.StatusMethodNotAllowed, "DELETE", "/api/v1/jobs/"+job, nil)
	f.want(http.StatusMethodNotAllowed, "PUT", "/api/v1/jobs", nil)
	f.want(http.StatusNotFound, "GET", "/api/v1/nothing", nil)
	f.want(http.StatusNotFound, "GET", "/api/v2/jobs", nil)
}

// TestListPagesAndFilters: pages of jobs cover every job once, newest
// first, whatever their size; filters by state and kind; bad parameters.
func TestListPagesAndFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var ids []string
	for i := range 7 {
		kind := "count"
		if i%2 == 1 {
			kind = "lines"
		}
		ids = append(ids, f.submit(kind, events(1, false)))
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	slices.Reverse(ids) // newest first
	for _, limit := range []int{1, 3, 7, 50} {
		var got []string
		cursor := ""
		for {
			var l jobList
			f.want(http.StatusOK, "GET", "/api/v1/jobs?limit="+strconv.Itoa(limit)+"&cursor="+cursor, nil).json(t, &l)
			for _, j := range l.Jobs {
				got = append(got, j.ID)
			}
			if l.States["running"] != 7 {
				t.Fatalf("states = %v", l.States)
			}
			if l.Next == "" {
				break
			}
			cursor = l.Next
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("limit %d: pages %v, want %v", limit, got, ids)
		}
	}
	f.want(http.StatusOK, "POST", "/api/v1/jobs/"+ids[0]+"/cancel", nil)
	f.want(http.StatusOK, "POST", "/api/v1/jobs/"+ids[3]+"/cancel", nil)
	var l jobList
	f.want(http.StatusOK, "GET", "/api/v1/jobs?state=cancelled", nil).json(t, &l)
	if len(l.Jobs) != 2 || l.Jobs[0].ID != ids[0] || l.Jobs[1].ID != ids[3] || l.States["cancelled"] != 2 || l.States["running"] != 5 {
		t.Fatalf("cancelled = %+v", l)
	}
	f.want(http.StatusOK, "GET", "/api/v1/jobs?kind=lines&state=running,cancelled", nil).json(t, &l)
	if len(l.Jobs) != 3 || l.States["running"]+l.States["cancelled"] != 3 {
		t.Fatalf("kind lines: %+v", l)
	}
	for _, q := range []string{"state=finished", "limit=0", "limit=1001", "limit=x", "cursor=12", "cursor=x." + ids[0]} {
		r := f.want(http.StatusBadRequest, "GET", "/api/v1/jobs?"+q, nil)
		if msg, _ := r.errorBody(t); !strings.Contains(msg, strings.SplitN(q, "=", 2)[0]) {
			t.Errorf("%s: %s", q, msg)
		}
	}
	for _, path := range []string{"/failed?limit=0", "/missing?limit=5000", "/result?wait=forever", "/result?wait=11m"} {
		f.want(http.StatusBadRequest, "GET", "/api/v1/jobs/"+ids[1]+path, nil)
	}
}

// TestStreamFollowsTheJob: the stream sends the job's status as its counts
// change, then its last status and the end; the dashboard's chart reads
// these.
func TestStreamFollowsTheJob(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	job := f.submit("count", events(40, false))
	ch, r := f.stream(job)
	if r.header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
	}
	first := <-ch
	var j jobJSON
	if err := json.Unmarshal([]byte(first.data), &j); err != nil || first.event != "status" || j.Done != 0 || j.Total != 40 {
		t.Fatalf("first event %+v (%v)", first, err)
	}
	// 10 events at a time, each step seen before the next.
	for step := 1; step <= 4; step++ {
		var missing []string
		for id, err := range f.store.Missing(context.Background(), job) {
			if err != nil {
				t.Fatal(err)
			}
			missing = append(missing, id)
		}
		slices.Sort(missing)
		var rec workoutput.Record
		for _, id := range missing[:10] {
			rec.Outputs = append(rec.Outputs, workoutput.Output{EventID: id, Value: []byte("1")})
		}
		if _, err := f.store.Write(context.Background(), job, rec); err != nil {
			t.Fatal(err)
		}
		for j.Done < int64(10*step) {
			e, ok := <-ch
			if !ok {
				t.Fatalf("the stream ended at %d done", j.Done)
			}
			if e.event != "status" {
				t.Fatalf("event %+v before the job ended", e)
			}
			_ = json.Unmarshal([]byte(e.data), &j)
		}
	}
	f.collect(job)
	var events []string
	for e := range ch {
		events = append(events, e.event)
		if e.event == "status" {
			_ = json.Unmarshal([]byte(e.data), &j)
		}
	}
	if len(events) == 0 || events[len(events)-1] != "end" || j.State != "done" || j.Done != 40 {
		t.Fatalf("after the collection: events %v, last status %+v", events, j)
	}
}

// TestStreamsAreLimited: past MaxStreams streams, 503.
func TestStreamsAreLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, _ *workoutput.Config) { c.MaxStreams = 1 })
	job := f.submit("count", events(2, false))
	ch, _ := f.stream(job)
	<-ch
	_, r := f.stream(job)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("second stream: %d %s", r.status, r.body)
	}
}

// TestResultWaitsForTheJob: a long poll started before the job ends
// answers its result once it is committed; a failed or cancelled job has
// none (409).
func TestResultWaitsForTheJob(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	job := f.submit("count", events(5, true))
	got := make(chan response, 1)
	go func() { got <- f.do("GET", "/api/v1/jobs/"+job+"/result?wait=2m", nil) }()
	f.work(job, 5)
	f.collect(job)
	r := <-got
	if r.status != http.StatusOK || string(r.body) != `{"outputs":5,"failed":0,"missing":0}` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("long poll: %d %q %v", r.status, r.body, r.header)
	}
	failing := f.submit("count", events(2, true))
	f.work(failing, 2, "e000")
	f.collect(failing)
	r = f.want(http.StatusConflict, "GET", "/api/v1/jobs/"+failing+"/result", nil)
	if msg, code := r.errorBody(t); code != codeNoResult || !strings.Contains(msg, "failed") {
		t.Fatalf("failed job's result: %s %s", code, msg)
	}
	cancelled := f.submit("count", events(2, true))
	f.want(http.StatusOK, "POST", "/api/v1/jobs/"+cancelled+"/cancel", nil)
	f.want(http.StatusConflict, "GET", "/api/v1/jobs/"+cancelled+"/result?wait=1s", nil)
	// A job done with no retention: its data is gone at once, its result
	// stays with the job's tombstone (Config.Tombstone), then goes too.
	short := newFixture(t, func(_ *Config, s *workoutput.Config) { s.Tombstone = 200 * time.Millisecond })
	gone := short.submit("count", events(1, true), "retention=none")
	short.work(gone, 1)
	short.collect(gone)
	if r := short.want(http.StatusOK, "GET", "/api/v1/jobs/"+gone+"/result", nil); string(r.body) != `{"outputs":1,"failed":0,"missing":0}` {
		t.Fatalf("result of a job without retention, within its tombstone: %q", r.body)
	}
	time.Sleep(400 * time.Millisecond)
	r = short.want(http.StatusNotFound, "GET", "/api/v1/jobs/"+gone+"/result", nil)
	if _, code := r.errorBody(t); code != codeJobNotFound && code != codeNoResult {
		t.Fatalf("result of a job without retention, past its tombstone: %s", code)
	}
}

// TestResultRanges: a Range header gets those bytes of the result only
// (206, with Content-Range naming the result's size), which the dashboard
// previews; a range past the end is refused (416, JSON); a plain request
// gets it whole, saying it accepts ranges.
func TestResultRanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	job := f.submit("lines", events(100, true))
	f.work(job, 50)
	f.collect(job)
	whole, err := f.store.Result(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	size := len(whole)
	if size < 1000 {
		t.Fatalf("result of %d bytes: too small for the test", size)
	}
	r := f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job+"/result", nil)
	if !bytes.Equal(r.body, whole) || r.header.Get("Accept-Ranges") != "bytes" || r.header.Get("Content-Length") != strconv.Itoa(size) {
		t.Fatalf("whole result: %d bytes, headers %v", len(r.body), r.header)
	}
	ctype := r.header.Get("Content-Type") // JSON lines: application/octet-stream
	for _, tc := range []struct {
		rng        string
		start, end int // the bytes answered: [start, end)
	}{
		{"bytes=0-99", 0, 100},
		{"bytes=10-", 10, size},
		{"bytes=-5", size - 5, size},
		{"bytes=0-99999999", 0, size}, // a preview of a result shorter than it asks
	} {
		r := f.want(http.StatusPartialContent, "GET", "/api/v1/jobs/"+job+"/result", nil, "Range", tc.rng)
		wantRange := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, size)
		if !bytes.Equal(r.body, whole[tc.start:tc.end]) || r.header.Get("Content-Range") != wantRange ||
			r.header.Get("Fanin-Job-State") != "done" || r.header.Get("Content-Type") != ctype {
			t.Errorf("Range %s: %d bytes, Content-Range %q (want %q), headers %v", tc.rng, len(r.body), r.header.Get("Content-Range"), wantRange, r.header)
		}
	}
	r = f.want(http.StatusRequestedRangeNotSatisfiable, "GET", "/api/v1/jobs/"+job+"/result", nil, "Range", fmt.Sprintf("bytes=%d-", size))
	msg, code := r.errorBody(t)
	if want := fmt.Sprintf("range \"bytes=%d-\" is past the end of the result (%d bytes): ask for bytes=0-%d at most", size, size, size-1); code != codeBadRange || msg != want {
		t.Fatalf("a range past the end: %s %q, want %s %q", code, msg, codeBadRange, want)
	}
	if r.header.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) {
		t.Fatalf("a range past the end: Content-Range %q", r.header.Get("Content-Range"))
	}
	// A Range header that is not a byte range says so, not "past the end".
	r = f.want(http.StatusRequestedRangeNotSatisfiable, "GET", "/api/v1/jobs/"+job+"/result", nil, "Range", "bytes=abc")
	if msg, code := r.errorBody(t); code != codeBadRange || msg != `range "bytes=abc" is not a byte range (want bytes=FIRST-LAST, like bytes=0-4095)` {
		t.Fatalf("a malformed range: %s %q", code, msg)
	}
	// The dashboard's preview of a JSON result: its first 4 KiB at most.
	counted := f.submit("count", events(3, false))
	f.work(counted, 3)
	f.collect(counted)
	r = f.want(http.StatusPartialContent, "GET", "/api/v1/jobs/"+counted+"/result", nil, "Range", "bytes=0-4095")
	if string(r.body) != `{"outputs":3,"failed":0,"missing":0}` || r.header.Get("Content-Type") != "application/json" || r.header.Get("Content-Range") != "bytes 0-35/36" {
		t.Fatalf("preview of a JSON result: %q, headers %v", r.body, r.header)
	}
}

// TestReplayNeedsAReducer: a server without reducers answers 501; a kind
// this server does not reduce, a job still running, 409.
func TestReplayNeedsAReducer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	running := f.submit("count", events(2, false))
	r := f.want(http.StatusConflict, "POST", "/api/v1/jobs/"+running+"/replay", nil)
	if msg, _ := r.errorBody(t); !strings.Contains(msg, "running") {
		t.Fatalf("replay of a running job: %s", msg)
	}
	other := f.submit("elsewhere", events(1, false))
	r = f.want(http.StatusConflict, "POST", "/api/v1/jobs/"+other+"/replay", nil)
	if msg, _ := r.errorBody(t); !strings.Contains(msg, `"elsewhere"`) {
		t.Fatalf("replay of a kind without reducer: %s", msg)
	}
	bare := newFixture(t, func(c *Config, _ *workoutput.Config) { c.Reducers = []string{} })
	job := bare.submit("count", events(1, false))
	bare.want(http.StatusNotImplemented, "POST", "/api/v1/jobs/"+job+"/replay", nil)
}

// TestRetryRunsTheFailedEventsAgain: a failed job whose failed event's
// payload was kept offers "retry", and POST /retry puts that event back to
// work (the job runs again, its outputs kept); a second retry of a running
// job, and the retry of a failed job whose event has no kept payload, are
// refused with 409.
func TestRetryRunsTheFailedEventsAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx := context.Background()
	job := f.submit("count", events(3, true))
	f.work(job, 3, "e001")
	// The failure of e001 with its payload, as a worker keeps it.
	if _, err := f.store.Write(ctx, job, workoutput.Record{Failures: []workoutput.Failure{
		{EventID: "e001", Reason: "bad luck", Attempts: 4, Time: time.Now(), Payload: []byte(`{"id":"e001","n":1}`)}}}); err != nil {
		t.Fatal(err)
	}
	if o := f.collect(job); o.State != workoutput.StateFailed {
		t.Fatalf("collect = %+v; want failed", o)
	}
	var j jobJSON
	f.want(http.StatusOK, "GET", "/api/v1/jobs/"+job, nil).json(t, &j)
	if !slices.Contains(j.Actions, "retry") {
		t.Fatalf("actions of a failed job with kept payloads: %v; want retry among them", j.Actions)
	}
	var res retriedJSON
	f.want(http.StatusOK, "POST", "/api/v1/jobs/"+job+"/retry", nil).json(t, &res)
	if res.Events != 1 || res.ID != job || res.Again {
		t.Fatalf("retry = %+v; want 1 event back to work", res)
	}
	st, err := f.store.Status(ctx, job)
	if err != nil || st.State != workoutput.StateRunning || st.Done != 2 || st.Failed != 0 {
		t.Fatalf("job after the retry = %+v, %v; want running with its 2 outputs kept", st, err)
	}
	f.want(http.StatusConflict, "POST", "/api/v1/jobs/"+job+"/retry", nil)

	bare := f.submit("count", events(2, true))
	f.work(bare, 2, "e000") // a failure without a kept payload
	f.collect(bare)
	r := f.want(http.StatusConflict, "POST", "/api/v1/jobs/"+bare+"/retry", nil)
	if msg, _ := r.errorBody(t); !strings.Contains(msg, "payload") {
		t.Fatalf("retry of a job without kept payloads: %s", msg)
	}
}

// TestDashboardIsServed: the page at / and /jobs/{id}, its assets, the
// security headers; no directory listing; no page for a bad job ID.
func TestDashboardIsServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, path := range []string{"/", "/jobs/" + uuid.NewString()} {
		r := f.want(http.StatusOK, "GET", path, nil)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !bytes.Contains(r.body, []byte("/assets/app.js")) {
			t.Fatalf("%s: %s %q", path, r.header.Get("Content-Type"), r.body)
		}
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: security headers %v", path, r.header)
		}
	}
	for path, ctype := range map[string]string{"/assets/app.js": "text/javascript", "/assets/app.css": "text/css"} {
		r := f.want(http.StatusOK, "GET", path, nil)
		if !strings.HasPrefix(r.header.Get("Content-Type"), ctype) || len(r.body) < 100 {
			t.Fatalf("%s: %s, %d bytes", path, r.header.Get("Content-Type"), len(r.body))
		}
	}
	f.want(http.StatusNotFound, "GET", "/assets/", nil)
	f.want(http.StatusNotFound, "GET", "/jobs/nope", nil)
	f.want(http.StatusNotFound, "GET", "/assets/missing.js", nil)
	// Nothing in the page comes from elsewhere.
	for _, path := range []string{"/", "/assets/app.js", "/assets/app.css"} {
		if b := f.want(http.StatusOK, "GET", path, nil).body; bytes.Contains(b, []byte("http://")) || bytes.Contains(b, []byte("https://")) {
			t.Errorf("%s refers to another site", path)
		}
	}
}

// trickle is a request body that sends its first line, then one byte per
// pause, or nothing more until done is closed (pause 0).
type trickle struct {
	first []byte
	pause time.Duration
	done  chan struct{}
}

func (b *trickle) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	if b.pause == 0 {
		<-b.done
		return 0, io.EOF
	}
	select {
	case <-time.After(b.pause):
		p[0] = ' '
		return 1, nil
	case <-b.done:
		return 0, io.EOF
	}
}

// TestSlowBodiesAreCut: a POST /jobs body that stops sending, or trickles
// a byte at a time, is answered 408 once BodyStall has passed, and
// creates nothing, instead of holding its connection, its turn among the
// submissions and its spool file for as long as the client likes.
func TestSlowBodiesAreCut(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config, _ *workoutput.Config) {
		c.BodyStall, c.MinBodyRate = 300*time.Millisecond, 1<<20
	})
	for _, tc := range []struct {
		name  string
		pause time.Duration
		want  string
	}{{"stalled", 0, "nothing arrived for 300ms"}, {"trickled", 20 * time.Millisecond, "under 1048576 bytes/s"}} {
		body := &trickle{first: []byte(`{"id":"a"}` + "\n"), pause: tc.pause, done: make(chan struct{})}
		r := f.want(http.StatusRequestTimeout, "POST", Prefix+"/jobs?kind=lines", body)
		close(body.done)
		if msg, code := r.errorBody(t); code != "request_timeout" || !strings.Contains(msg, tc.want) {
			t.Errorf("%s body: %q (%s); want request_timeout saying %q", tc.name, msg, code, tc.want)
		}
	}
	if keys := f.jobKeys(); len(keys) > 0 {
		t.Fatalf("a cut body created a job: %v", keys)
	}
	// A body sent at once is still submitted.
	f.submit("lines", events(3, true))
}
