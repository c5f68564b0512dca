package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// fixture is a server of the API on a dedicated Redis (Asynq's keys cannot
// carry a test prefix), with a coordinator that reduces the kinds "count"
// and "lines".
type fixture struct {
	t      *testing.T
	client redis.UniversalClient
	store  *workoutput.Store
	coord  *jobs.Coordinator
	srv    *Server
	ts     *httptest.Server
	// header is sent with every request (a token, say).
	header http.Header
}

// newFixture starts a fixture; edit changes the Config (and the store's
// config) before the server is made.
func newFixture(t *testing.T, edit func(*Config, *workoutput.Config)) *fixture {
	t.Helper()
	client := redistest.StartServer(t, redistest.ServerOptions{}).Client(t)
	var cfg Config
	var scfg workoutput.Config
	cfg.PollInterval = 20 * time.Millisecond
	if edit != nil {
		edit(&cfg, &scfg)
	}
	store, err := workoutput.New(client, scfg)
	if err != nil {
		t.Fatal(err)
	}
	coord, err := jobs.NewCoordinator(client, store, jobs.CoordinatorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = coord.Close() })
	for kind, r := range map[string]jobs.Reducer{"count": jobs.Count(), "lines": jobs.JSONLines()} {
		if err := coord.Handle(kind, r); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Client, cfg.Store = client, store
	if cfg.Coordinator == nil && cfg.Reducers == nil {
		cfg.Coordinator, cfg.Reducers = coord, []string{"count", "lines"}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, client: client, store: store, coord: coord, srv: srv, header: http.Header{}}
	f.ts = httptest.NewServer(srv)
	t.Cleanup(f.ts.Close)
	return f
}

// response is an answer of the server.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v.
func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// errorBody returns the error of an error answer.
func (r response) errorBody(t *testing.T) (msg, code string) {
	t.Helper()
	var e struct{ Error, Code string }
	r.json(t, &e)
	return e.Error, e.Code
}

// do sends a request and checks its answer against the OpenAPI document.
func (f *fixture) do(method, path string, body io.Reader, header ...string) response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, vs := range f.header {
		req.Header[k] = vs
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	checkResponse(f.t, f.srv.mux, req, resp.StatusCode, resp.Header, b)
	return response{resp.StatusCode, resp.Header, b}
}

// want sends a request and fails the test unless it is answered status.
func (f *fixture) want(status int, method, path string, body io.Reader, header ...string) response {
	f.t.Helper()
	r := f.do(method, path, body, header...)
	if r.status != status {
		f.t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
	}
	return r
}

// submit submits body as a job of kind and returns its ID.
func (f *fixture) submit(kind, body string, params ...string) string {
	f.t.Helper()
	q := "?kind=" + kind
	for _, p := range params {
		q += "&" + p
	}
	var s submitted
	f.want(http.StatusCreated, "POST", "/api/v1/jobs"+q, strings.NewReader(body), "Content-Type", "application/x-ndjson").json(f.t, &s)
	return s.ID
}

// events returns n NDJSON lines, with IDs e000.. when ids is set.
func events(n int, ids bool) string {
	var b strings.Builder
	for i := range n {
		if ids {
			fmt.Fprintf(&b, "{\"id\":\"e%03d\",\"n\":%d}\n", i, i)
		} else {
			fmt.Fprintf(&b, "{\"n\":%d}\n", i)
		}
	}
	return b.String()
}

// work writes an output for every missing event of job, except those in
// fail, which fail with a reason; n at a time.
func (f *fixture) work(job string, n int, fail ...string) {
	f.t.Helper()
	ctx := context.Background()
	var missing []string
	for id, err := range f.store.Missing(ctx, job) {
		if err != nil {
			f.t.Fatal(err)
		}
		missing = append(missing, id)
	}
	for len(missing) > 0 {
		k := min(n, len(missing))
		var rec workoutput.Record
		for _, id := range missing[:k] {
			if slices.Contains(fail, id) {
				rec.Failures = append(rec.Failures, workoutput.Failure{EventID: id, Reason: "bad luck with " + id, Attempts: 4, Time: time.Now()})
			} else {
				rec.Outputs = append(rec.Outputs, workoutput.Output{EventID: id, Value: []byte(`{"ok":"` + id + `"}`)})
			}
		}
		if _, err := f.store.Write(ctx, job, rec); err != nil {
			f.t.Fatal(err)
		}
		missing = missing[k:]
	}
}

// collect collects a complete job.
func (f *fixture) collect(job string) jobs.Outcome {
	f.t.Helper()
	o, err := f.coord.Collect(context.Background(), job)
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

// jobKeys returns the keys of jobs in Redis (the namespace's).
func (f *fixture) jobKeys() []string {
	f.t.Helper()
	k, err := f.client.Keys(context.Background(), workoutput.DefaultNamespace+"*").Result()
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

// sse is one Server-Sent Event.
type sse struct {
	event string
	data  string
}

// stream opens the stream of job and returns its events as they come; the
// channel closes with the stream.
func (f *fixture) stream(job string) (<-chan sse, response) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.ts.URL+"/api/v1/jobs/"+job+"/stream", nil)
	for k, vs := range f.header {
		req.Header[k] = vs
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		r.body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		checkResponse(f.t, f.srv.mux, req, r.status, r.header, r.body)
		return nil, r
	}
	checkResponse(f.t, f.srv.mux, req, r.status, r.header, nil)
	ch := make(chan sse, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var e sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.event != "" {
					ch <- e
				}
				e = sse{}
			case strings.HasPrefix(line, "event: "):
				e.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	f.t.Cleanup(func() { resp.Body.Close() })
	return ch, r
}
