package test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// secretChecker collects every stream of every run of a test and checks
// that none shows a password.
type secretChecker struct {
	secrets []string
	streams map[string]string
}

// add records a stream under a name.
func (s *secretChecker) add(name, text string) {
	if s.streams == nil {
		s.streams = map[string]string{}
	}
	s.streams[name] += text
}

// run runs a binary, records its output and returns its result.
func (s *secretChecker) run(t *testing.T, environ []string, name string, args ...string) result {
	t.Helper()
	r := runBin(t, environ, name, args...)
	s.add(name+" "+strings.Join(args, " "), r.stdout+r.stderr)
	return r
}

// check fails the test for each stream that shows a secret, raw or
// URL-escaped.
func (s *secretChecker) check(t *testing.T) {
	t.Helper()
	for name, text := range s.streams {
		for _, sec := range s.secrets {
			if strings.Contains(text, sec) || strings.Contains(text, url.QueryEscape(sec)) {
				t.Errorf("the output of %q shows the password %q:\n%s", name, sec, text)
			}
		}
	}
}

// TestTLSAndACLUserEndToEnd runs a job end to end as an ACL user with a
// password over TLS with a private CA (rediss://, --redis-ca-file), and
// checks that no password appears in any output of any run: logs at debug
// level, errors, --help, status, list, inspect, /metrics and /healthz. A
// wrong password, or a missing CA, exits 4 with a clear message, at once
// for the daemons too.
func TestTLSAndACLUserEndToEnd(t *testing.T) {
	t.Parallel()
	const (
		adminPW = "Adm1n-pw-for-default-Zq8"
		appPW   = "s3cr3t-app-Pw-7Qz/+%"
		wrongPW = "wr0ng-Pw-9Xk"
	)
	srv := redistest.StartServer(t, redistest.ServerOptions{
		TLS:      true,
		Password: adminPW,
		Users:    []redistest.ACLUser{{Name: "app", Password: appPW}},
	})
	sc := &secretChecker{secrets: []string{adminPW, appPW, wrongPW}}
	appURL := "rediss://app:" + url.QueryEscape(appPW) + "@" + srv.Addr() + "/0"
	f := newFanin(t, appURL, srv.Client(t), "", "FANIN_REDIS_CA_FILE="+srv.CAFile(), "FANIN_LOG_LEVEL=debug")
	n := 500
	path, want := sightings(t, n, 13)

	// The job, with the URL in the environment for some runs and in the
	// flags for others.
	job := strings.TrimSpace(sc.run(t, f.env, "coordinator", "submit", "--kind", "zombies.sighting", "--events", path, "--chunk", "50").stdout)
	if job == "" {
		t.Fatalf("submit printed no job ID: %v", sc.streams)
	}
	mAddr := closedAddr(t)
	w := f.worker(t, "--metrics-addr", mAddr)
	c := start(t, env(), "coordinator", "run", "--redis", appURL, "--redis-ca-file", srv.CAFile(), "--log-level", "debug", "--sweep-interval", "1s")
	r := sc.run(t, f.env, "coordinator", "collect", job, "--wait", "--timeout", "2m")
	if r.code != 0 || r.stdout != string(want)+"\n" {
		t.Fatalf("collect over TLS as app: exit %d, stderr %q, result differs: %v", r.code, r.stderr, r.stdout != string(want)+"\n")
	}
	f.check(t, job, n, want)
	for _, args := range [][]string{
		{"status", job}, {"status", job, "--json"}, {"list"}, {"list", "--json"},
		{"inspect", job, "--outputs", "--limit", "2"}, {"--help"}, {"run", "--help"}, {"submit", "--help"}, {"collect", "--help"},
	} {
		if r := sc.run(t, f.env, "coordinator", args...); r.code != 0 {
			t.Errorf("coordinator %v: exit %d %q", args, r.code, r.stderr)
		}
	}
	if r := sc.run(t, f.env, "worker", "--help"); r.code != 0 {
		t.Errorf("worker --help: exit %d", r.code)
	}
	for _, p := range []string{"/metrics", "/healthz"} {
		resp, err := http.Get("http://" + mAddr + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, resp.StatusCode)
		}
		sc.add("GET "+p, string(b))
	}

	// A wrong password and a missing CA: exit 4 and a clear message, for a
	// command and for both daemons (which do not retry a rejection).
	wrongURL := "rediss://app:" + wrongPW + "@" + srv.Addr() + "/0"
	wrong := env("FANIN_REDIS_URL="+wrongURL, "FANIN_REDIS_CA_FILE="+srv.CAFile())
	noCA := env("FANIN_REDIS_URL=" + appURL)
	// A refused password says "authentication failed", not "unreachable".
	const authFailed = "authentication failed: Redis at rediss://app:xxxxx@"
	for _, tc := range []struct {
		environ    []string
		bin        string
		args       []string
		want, says string
	}{
		{wrong, "coordinator", []string{"status", job}, "WRONGPASS", authFailed},
		{wrong, "coordinator", []string{"submit", "--kind", "zombies.sighting", "--events", path}, "WRONGPASS", authFailed},
		{wrong, "worker", nil, "WRONGPASS", authFailed},
		{wrong, "coordinator", []string{"run"}, "WRONGPASS", authFailed},
		{noCA, "coordinator", []string{"status", job}, "certificate", "Redis unreachable"},
		{noCA, "worker", nil, "certificate", "Redis unreachable"},
	} {
		began := time.Now()
		r := sc.run(t, tc.environ, tc.bin, tc.args...)
		if r.code != 4 || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, tc.says) || !strings.Contains(r.stderr, "rediss://app:xxxxx@"+srv.Addr()) ||
			(tc.says == authFailed && strings.Contains(r.stderr, "unreachable")) {
			t.Errorf("%s %v: exit %d, stderr %q; want exit 4, %q, %q and the redacted URL", tc.bin, tc.args, r.code, r.stderr, tc.want, tc.says)
		}
		t.Logf("%s %v: exit %d after %v: %s", tc.bin, tc.args, r.code, time.Since(began).Round(time.Millisecond), strings.TrimSpace(r.stderr))
	}
	for _, p := range []*proc{w, c} {
		sc.add(strings.Join(p.cmd.Args, " ")+" (log)", p.logText())
	}
	for _, p := range []*proc{w, c} {
		if !strings.Contains(p.logText(), "redis=rediss://app:xxxxx@"+srv.Addr()) {
			t.Errorf("the log of %v does not name the redacted URL: the check would be weak\n%s", p.cmd.Args[:2], p.logText())
		}
	}
	sc.check(t)
}
