package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// servedURL finds the address serve logs when it starts.
var servedURL = regexp.MustCompile(`url=(http://[^ ]+/)`)

// serve starts `coordinator serve` on a free loopback port with args and
// returns it and its base URL (ending in "/").
func serve(t *testing.T, environ []string, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, environ, "coordinator", append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	var base string
	waitFor(t, "serve to listen", func() bool {
		select {
		case <-p.done:
			t.Fatalf("serve exited: %v\n%s", p.err, p.logText())
		default:
		}
		m := servedURL.FindStringSubmatch(p.logText())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	return p, base
}

// httpDo sends a request with an optional bearer token and returns the
// status and body.
func httpDo(t *testing.T, method, u, token string, body io.Reader, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// python returns the path of python3, or fails saying how to get it.
func python(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("the Python producer's test needs python3 on PATH (apt-get install python3): %v", err)
	}
	return p
}

// TestPythonProducerMatchesEmbeddedDemo runs the Python producer (standard
// library only) against `coordinator serve --run` and a worker: its result
// is byte-identical to the embedded demo's for the same sightings. Then a
// pipeline with no Go code of its own: the Python producer, a Python
// handler (worker --exec) and a Python reducer (exec:), as the README shows.
func TestPythonProducerMatchesEmbeddedDemo(t *testing.T) {
	t.Parallel()
	py := python(t)
	examples, err := filepath.Abs("../examples/python")
	if err != nil {
		t.Fatal(err)
	}
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	_, base := serve(t, e, "--run", "--sweep-interval", "1s",
		"--reducer", "words=exec:"+py+" "+filepath.Join(examples, "reducer.py"))
	start(t, e, "worker", "--concurrency", "4", "--exec", "words="+py+" "+filepath.Join(examples, "handler.py"), "--exec-procs", "2")

	n := 3000
	path, want := sightings(t, n, 21)
	dir := t.TempDir()
	out := filepath.Join(dir, "result.json")
	r := runBin(t, e, py, filepath.Join(examples, "producer.py"), "--api", base, "--kind", "zombies.sighting",
		"--events", path, "--name", "python producer", "--out", out, "--timeout", "180")
	if r.code != 0 {
		t.Fatalf("producer.py: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the Python producer's result (%d bytes) differs from the embedded demo's (%d bytes)", len(got), len(want))
	}
	if !strings.Contains(r.stderr, "submitted job ") || !strings.Contains(r.stderr, fmt.Sprintf("done: %d of %d events finished", n, n)) {
		t.Errorf("producer.py's progress on stderr lacks the submission or the end:\n%s", r.stderr)
	}

	// The no-Go pipeline: lines of text, words counted in Python.
	text := []string{"The quick brown fox", "jumps over the lazy dog", "", "the dog sleeps; the fox runs", "It's a fox's world"}
	var lines strings.Builder
	for i, s := range text {
		b, _ := json.Marshal(map[string]string{"id": "line" + strconv.Itoa(i), "text": s})
		lines.Write(append(b, '\n'))
	}
	events := filepath.Join(dir, "lines.jsonl")
	if err := os.WriteFile(events, []byte(lines.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, e, py, filepath.Join(examples, "producer.py"), "--api", base, "--kind", "words", "--events", events, "--quiet", "--timeout", "120")
	if r.code != 0 {
		t.Fatalf("producer.py (words): exit %d\n%s", r.code, r.stderr)
	}
	var res struct {
		Job          string
		Lines, Words int
		Top          [][]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("words result %q: %v", r.stdout, err)
	}
	// Counted here independently: 4+5+0+6+4 words; "the" 4 times, then
	// "dog" and "fox" twice ("fox's" is another word).
	top := fmt.Sprint(res.Top[:min(3, len(res.Top))])
	if res.Lines != 5 || res.Words != 19 || top != "[[the 4] [dog 2] [fox 2]]" || !strings.HasPrefix(r.stderr, "submitted job "+res.Job) {
		t.Fatalf("words result = %s (stderr %q)", r.stdout, r.stderr)
	}

	// Bad input: refused with the server's message, exit 2, nothing created.
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"text\":\"ok\"}\n{\"text\":\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, e, py, filepath.Join(examples, "producer.py"), "--api", base, "--kind", "words", "--events", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "400: malformed events: request body line 2") {
		t.Fatalf("producer.py with a malformed line: exit %d, stderr %q", r.code, r.stderr)
	}
	if code, list := httpDo(t, "GET", base+"api/v1/jobs", "", nil); code != 200 || bytes.Count(list, []byte(`"kind":`)) != 2 {
		t.Fatalf("jobs after a refused submission: %d %s", code, list)
	}
}

// TestServeSecurityDefaults: serve refuses an address other than loopback
// without --token (or --insecure-no-auth); with a token from the
// environment, the API asks for it and the dashboard does not; cross-site
// POSTs are refused; and the Redis password shows in no page, answer or
// log line, at debug level.
func TestServeSecurityDefaults(t *testing.T) {
	t.Parallel()
	const pw = "s3rve-Pw-9Zq/+%x"
	const token = "api-token-0123456789"
	srv := redistest.StartServer(t, redistest.ServerOptions{Password: pw})
	redisURL := "redis://:" + url.QueryEscape(pw) + "@" + srv.Addr() + "/0"
	sc := &secretChecker{secrets: []string{pw, token, "wrong-pw-123"}}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--addr", "0.0.0.0:0"}, "not a loopback address: give --token"},
		{[]string{"serve", "--addr", "[::]:0"}, "not a loopback address"},
		{[]string{"serve", "--addr", ":0"}, "not a loopback address"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--token", "short"}, "at least 16"},
		{[]string{"serve", "--addr", "nowhere"}, "want host:port"},
		{[]string{"serve", "--max-body", "-3"}, "--max-body"},
	} {
		r := sc.run(t, env("FANIN_REDIS_URL="+redisURL), "coordinator", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("coordinator %v: exit %d %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}

	// Any address with a token (here from the environment, kept out of the
	// process list), at debug level so that every request is logged.
	e := env("FANIN_REDIS_URL="+redisURL, "FANIN_API_TOKEN="+token, "FANIN_LOG_LEVEL=debug")
	p, base := serve(t, e, "--addr", "0.0.0.0:0", "--run")
	base = strings.Replace(base, "0.0.0.0", "127.0.0.1", 1)
	for _, path := range []string{"", "jobs/0b6c9a4e-4f40-4a8c-9d6e-2b8f1f0f4b1a", "assets/app.js", "assets/app.css", "healthz"} {
		code, b := httpDo(t, "GET", base+path, "", nil)
		if code != 200 {
			t.Errorf("GET /%s without a token: %d, want 200 (no data in it)", path, code)
		}
		sc.add("GET /"+path, string(b))
	}
	code, b := httpDo(t, "POST", base+"api/v1/jobs?kind=words", "", strings.NewReader("{\"text\":\"a\"}\n"))
	if code != 401 {
		t.Fatalf("POST /api/v1/jobs without the token: %d %s", code, b)
	}
	code, b = httpDo(t, "POST", base+"api/v1/jobs?kind=words&name=secure", token, strings.NewReader("{\"text\":\"a\"}\n"))
	if code != 201 {
		t.Fatalf("POST /api/v1/jobs with the token: %d %s", code, b)
	}
	var sub struct{ ID string }
	_ = json.Unmarshal(b, &sub)
	code, b = httpDo(t, "POST", base+"api/v1/jobs/"+sub.ID+"/cancel", token, nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if code != 403 {
		t.Fatalf("cross-site cancel with the token: %d %s", code, b)
	}
	for _, path := range []string{"api/v1/jobs", "api/v1/jobs/" + sub.ID, "api/v1/jobs/" + sub.ID + "/missing", "api/v1/jobs/" + sub.ID + "/failed",
		"api/v1/jobs/" + sub.ID + "/result", "api/v1/openapi.json", "api/v1/jobs/not-a-job", "api/v1/nothing"} {
		_, b := httpDo(t, "GET", base+path, token, nil)
		sc.add("GET /"+path, string(b))
	}
	code, b = httpDo(t, "POST", base+"api/v1/jobs/"+sub.ID+"/cancel", token, nil)
	if code != 200 || !strings.Contains(string(b), `"state":"cancelled"`) {
		t.Fatalf("cancel with the token: %d %s", code, b)
	}
	p.signal(t, 15)
	if code := p.wait(t); code != 0 {
		t.Errorf("serve after SIGTERM: exit %d", code)
	}
	log := p.logText()
	sc.add("serve (log)", log)
	if !strings.Contains(log, "redis=redis://:xxxxx@"+srv.Addr()) || !strings.Contains(log, `msg=request`) || !strings.Contains(log, "serve stopped") {
		t.Errorf("the log lacks the redacted URL, the requests or the stop: the check would be weak\n%s", log)
	}
	// A wrong password: exit 4 at once, not a server that cannot work.
	wrong := env("FANIN_REDIS_URL=redis://:wrong-pw-123@" + srv.Addr() + "/0")
	r := sc.run(t, wrong, "coordinator", "serve", "--addr", "127.0.0.1:0")
	if r.code != 4 || !strings.Contains(r.stderr, "WRONGPASS") {
		t.Errorf("serve with a wrong password: exit %d %q", r.code, r.stderr)
	}
	sc.check(t)
}

// TestServeSaysWhatTheCLISays: the API of `coordinator serve` words its
// errors as the CLI prints them, says what a job waits for as `coordinator
// status --json` does, warns of a kind nobody serves with the texts of
// `coordinator submit`, and takes event_timeout as submit takes
// --event-timeout; serve --help names every action.
func TestServeSaysWhatTheCLISays(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	_, base := serve(t, e)
	if help := mustRun(t, e, "coordinator", "serve", "--help"); !strings.Contains(help, "cancel, replay and retry them") || !strings.Contains(help, "(cancel, replay, retry)") {
		t.Errorf("serve --help does not name the retry:\n%s", help)
	}

	code, b := httpDo(t, "POST", base+"api/v1/jobs?kind=echo&event_timeout=5s", "", strings.NewReader("{\"id\":\"a\"}\n{\"id\":\"b\"}\n"))
	var sub struct {
		ID       string
		Warnings []string
	}
	if err := json.Unmarshal(b, &sub); code != 201 || err != nil {
		t.Fatalf("POST /api/v1/jobs: %d %s", code, b)
	}
	events := filepath.Join(t.TempDir(), "e.jsonl")
	if err := os.WriteFile(events, []byte("{\"id\":\"a\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, e, "coordinator", "submit", "--kind", "echo", "--events", events)
	want := `submit: warning: no worker serves kind "echo"; no coordinator reduces kind "echo": the job waits`
	if r.code != 0 || !strings.Contains(r.stderr, want) || strings.Join(sub.Warnings, "; ") != `no worker serves kind "echo"; no coordinator reduces kind "echo"` {
		t.Fatalf("the API warns %q, submit %q; want the same texts", sub.Warnings, r.stderr)
	}

	var api struct {
		Waiting        []string
		EventTimeoutMS int64 `json:"event_timeout_ms"`
	}
	if code, b := httpDo(t, "GET", base+"api/v1/jobs/"+sub.ID, "", nil); code != 200 || json.Unmarshal(b, &api) != nil {
		t.Fatalf("GET the job: %d %s", code, b)
	}
	cli := status(t, e, sub.ID)
	if len(cli.Waiting) != 2 || strings.Join(api.Waiting, "; ") != strings.Join(cli.Waiting, "; ") || api.EventTimeoutMS != 5000 || cli.EventTimeoutMS != 5000 {
		t.Fatalf("the API says waiting %q, event timeout %d ms; status --json %q, %d ms", api.Waiting, api.EventTimeoutMS, cli.Waiting, cli.EventTimeoutMS)
	}

	for _, job := range []string{"0b6c9a4e-4f40-4a8c-9d6e-2b8f1f0f4b1a", "not-a-uuid"} {
		_, b := httpDo(t, "GET", base+"api/v1/jobs/"+job, "", nil)
		var apiErr, cliErr struct{ Error string }
		r := runBin(t, e, "coordinator", "--json", "status", job)
		if json.Unmarshal(b, &apiErr) != nil || json.Unmarshal([]byte(r.stderr), &cliErr) != nil || apiErr.Error == "" || apiErr.Error != cliErr.Error {
			t.Errorf("job %s: the API says %s, coordinator status %s", job, b, r.stderr)
		}
	}
}

// TestDashboardShowsWaitingAndWarnings drives the dashboard of a server
// with a token in headless Chromium: a job submitted with the form for a
// kind nobody serves shows the submission's warnings once and what the
// job waits for; the result of a done job is previewed from its first
// bytes and downloaded whole, with the token, when its link is clicked.
func TestDashboardShowsWaitingAndWarnings(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	const token = "dashboard-token-0123456789"
	e := env("FANIN_REDIS_URL="+srv.URL(), "FANIN_API_TOKEN="+token)
	_, base := serve(t, e, "--run", "--sweep-interval", "1s", "--reducer", "echo=jsonl")
	start(t, e, "worker", "--concurrency", "2", "--exec", `echo=while read -r line; do echo "{\"output\":$line}"; done`)

	const gaps = `no worker serves kind "nobody.serves"; no coordinator reduces kind "nobody.serves"`
	run(t, ctx, "submit a job nobody serves with the form",
		chromedp.Navigate(base),
		chromedp.WaitVisible("#modal-input"),
		chromedp.SendKeys("#modal-input", token),
		chromedp.Click("#modal-ok"),
		chromedp.WaitVisible("#jobs-table"),
		chromedp.Click("#new-job"),
		chromedp.SendKeys(`input[name="kind"]`, "nobody.serves"),
		chromedp.SetValue(`textarea[name="events"]`, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n"),
		chromedp.Click("#submit-btn"),
		chromedp.WaitVisible("#submit-warnings .banner"),
		chromedp.WaitVisible("#job-waiting"),
	)
	if got, want := text(t, ctx, "#submit-warnings"), "Submitted with a warning: "+gaps+". The job waits until one starts (see coordinator kinds)."; got != want {
		t.Errorf("the submission's warning = %q, want %q", got, want)
	}
	if got, want := text(t, ctx, "#job-waiting"), "Waiting: "+gaps+" (the job goes on once one starts; see coordinator kinds)."; got != want {
		t.Errorf("the job's waiting = %q, want %q", got, want)
	}
	run(t, ctx, "reload the job's page", chromedp.Reload(), chromedp.WaitVisible("#job-waiting"))
	if n := eval[int](t, ctx, `document.querySelectorAll('#submit-warnings .banner').length`); n != 0 {
		t.Errorf("the submission's warning shows again after a reload (%d)", n)
	}

	// A result of 300 lines: the preview is its first 4 KiB, the link
	// downloads it whole (here caught as the blob the page saves).
	var events strings.Builder
	for i := range 300 {
		fmt.Fprintf(&events, "{\"id\":\"ev%03d\",\"text\":\"%s\"}\n", i, strings.Repeat("x", 40))
	}
	code, b := httpDo(t, "POST", base+"api/v1/jobs?kind=echo", token, strings.NewReader(events.String()))
	var sub struct{ ID string }
	if json.Unmarshal(b, &sub) != nil || code != 201 {
		t.Fatalf("submit: %d %s", code, b)
	}
	code, whole := httpDo(t, "GET", base+"api/v1/jobs/"+sub.ID+"/result?wait=2m", token, nil)
	if code != 200 || len(whole) < 8192 {
		t.Fatalf("result: %d, %d bytes; want over 8 KiB", code, len(whole))
	}
	run(t, ctx, "open the done job", chromedp.Navigate(base+"jobs/"+sub.ID), chromedp.WaitVisible("#result-download"))
	preview := eval[string](t, ctx, `document.querySelector('#result-preview').textContent`)
	if want := string(whole[:4096]) + "\n…"; preview != want {
		t.Errorf("preview of %d characters, want the first 4096 bytes of the result and an ellipsis", len(preview))
	}
	if got, want := text(t, ctx, "#result-download"), fmt.Sprintf("Download result (%s bytes, done)", thousands(len(whole))); got != want {
		t.Errorf("download link %q, want %q", got, want)
	}
	eval[bool](t, ctx, `(() => { const o = URL.createObjectURL; URL.createObjectURL = (b) => { b.text().then((s) => { window.saved = s; }); return o.call(URL, b); }; return true; })()`)
	run(t, ctx, "download the result", chromedp.Click("#result-download"))
	waitFor(t, "the page to save the result", func() bool { return eval[bool](t, ctx, `typeof window.saved === 'string'`) })
	if saved := eval[string](t, ctx, `window.saved`); saved != string(whole) {
		t.Errorf("the page saved %d bytes, want the result's %d", len(saved), len(whole))
	}
}

// thousands formats n with commas, as the dashboard does.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
