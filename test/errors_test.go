package test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestBadInputGivesClearErrorsAndExitCodes runs the binaries with bad
// flags, bad Redis URLs, unreadable and malformed files: each exits with
// its documented code and an error saying what is wrong, never showing a
// password.
func TestBadInputGivesClearErrorsAndExitCodes(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	malformed := write("malformed.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\": \"c\",\n")
	badID := write("badid.jsonl", "{\"id\":\"a\"}\n\n{\"id\":42}\n")
	unreadable := write("unreadable.jsonl", "{}\n")
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	good := write("good.jsonl", "{\"id\":\"a\"}\n")
	long := write("long.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\",\"p\":\""+strings.Repeat("x", 200)+"\"}\n")
	up := env("FANIN_REDIS_URL=" + srv.URL())
	down := env("FANIN_REDIS_URL=redis://app:hunter2@" + closedAddr(t) + "/0")
	job := "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d"

	for _, tc := range []struct {
		name    string
		environ []string
		bin     string
		args    []string
		code    int
		want    string
	}{
		{"worker unknown flag", up, "worker", []string{"--bogus"}, 2, "unknown flag: --bogus"},
		{"worker bad concurrency", up, "worker", []string{"--concurrency", "x"}, 2, "invalid argument"},
		{"worker zero concurrency", up, "worker", []string{"--concurrency", "0"}, 2, "--concurrency"},
		{"worker serves the collect queue", up, "worker", []string{"--queues", "default,fanin-collect"}, 2, "collect queue"},
		{"worker bad exec", up, "worker", []string{"--exec", "nokind"}, 2, "KIND=COMMAND"},
		// Refused at start, not at every event of the kind.
		{"worker exec of a missing program", up, "worker", []string{"--exec", "k=/no/such/handler --flag"}, 2, "--exec k: invalid configuration: \"/no/such/handler --flag\" runs /no/such/handler, which is not an executable file: no such file or directory"},
		{"worker exec of a bad command", up, "worker", []string{"--exec", "k=cat |"}, 2, "is not a valid sh command"},
		// A sweep every 1ns was 39,000 commands a second from an idle
		// coordinator.
		{"run sweep interval under 10ms", up, "coordinator", []string{"run", "--sweep-interval", "1ns"}, 2, "--sweep-interval 1ns (want at least 10ms"},
		{"run zero concurrency", up, "coordinator", []string{"run", "--concurrency", "0"}, 2, "--concurrency 0 (want at least 1)"},
		{"run lock TTL under 10ms", up, "coordinator", []string{"run", "--lock-ttl", "1ms"}, 2, "--lock-ttl 1ms (want at least 10ms)"},
		{"run exec reducer not in PATH", up, "coordinator", []string{"run", "--reducer", "k=exec:no-such-reducer-fanin x"}, 2, "runs no-such-reducer-fanin, which sh does not find"},
		{"worker bad log format", up, "worker", []string{"--log-format", "xml"}, 2, "log format"},
		// An idle worker polling at 1ns asked Redis 70,000 times a second.
		{"worker poll interval under 1ms", up, "worker", []string{"--poll-interval", "1ns"}, 2, "--poll-interval 1ns (want at least 1ms"},
		{"worker zero poll interval", up, "worker", []string{"--poll-interval", "0"}, 2, "--poll-interval 0s (want at least 1ms"},
		{"worker malformed URL", up, "worker", []string{"--redis", "redis://app:hunter2@127.0.0.1:notaport"}, 2, "invalid port"},
		{"worker unknown scheme", up, "worker", []string{"--redis", "http://127.0.0.1:6379"}, 2, `scheme "http"`},
		{"worker unreachable", down, "worker", []string{"--redis-wait", "1s"}, 4, "Redis unreachable"},
		{"run unreachable", down, "coordinator", []string{"run", "--redis-wait", "1s"}, 4, "gave up after --redis-wait 1s"},
		{"worker bad env URL", env("FANIN_REDIS_URL=nonsense"), "worker", nil, 2, "no scheme"},
		// A CA file that never ends is refused at 1 MiB, not read for ever.
		{"worker endless CA file", up, "worker", []string{"--redis", "rediss://127.0.0.1:1", "--redis-ca-file", "/dev/zero"}, 2, "CA file /dev/zero is over 1048576 bytes"},
		{"coordinator endless CA file", up, "coordinator", []string{"--redis", "rediss://127.0.0.1:1", "--redis-ca-file", "/dev/zero", "status", job}, 2, "CA file /dev/zero is over 1048576 bytes"},
		{"coordinator unknown command", up, "coordinator", []string{"frobnicate"}, 2, "unknown command"},
		{"coordinator missing job", up, "coordinator", []string{"status"}, 2, "accepts 1 arg"},
		{"coordinator bad job ID", up, "coordinator", []string{"status", "not-a-uuid"}, 2, "not a UUID"},
		{"coordinator unknown job", up, "coordinator", []string{"status", job}, 1, "job not found"},
		{"coordinator unreachable", down, "coordinator", []string{"status", job}, 4, "Redis unreachable"},
		{"submit without kind", up, "coordinator", []string{"submit", "--events", good}, 2, "--kind"},
		// Exit 1, "arrived after its deadline", before the floor.
		{"submit deadline under 1ms", up, "coordinator", []string{"submit", "--kind", "k", "--events", good, "--deadline", "1ns"}, 2, "--deadline 1ns (want at least 1ms"},
		{"submit missing file", up, "coordinator", []string{"submit", "--kind", "k", "--events", filepath.Join(dir, "none.jsonl")}, 2, "no such file"},
		{"submit unreadable file", up, "coordinator", []string{"submit", "--kind", "k", "--events", unreadable}, 2, "permission denied"},
		{"submit malformed line", up, "coordinator", []string{"submit", "--kind", "k", "--events", malformed}, 2, "malformed.jsonl line 3: not valid JSON"},
		{"submit bad ID field", up, "coordinator", []string{"submit", "--kind", "k", "--events", badID}, 2, `badid.jsonl line 3: field "id" is 42`},
		// An input that never ends a line is refused at the largest event
		// instead of read into memory for ever.
		{"submit endless line", up, "coordinator", []string{"submit", "--kind", "k", "--events", "/dev/zero"}, 2, "/dev/zero line 1 is over 1048576 bytes (the largest event accepted, --max-event-size)"},
		{"submit line over max event size", up, "coordinator", []string{"submit", "--kind", "k", "--events", long, "--max-event-size", "100"}, 2, "long.jsonl line 2 is over 100 bytes"},
		{"submit zero max event size", up, "coordinator", []string{"submit", "--kind", "k", "--events", good, "--max-event-size", "0"}, 2, "--max-event-size 0"},
		{"submit bad policy", up, "coordinator", []string{"submit", "--kind", "k", "--events", good, "--policy", "maybe"}, 2, "--policy"},
		{"submit bad retention", up, "coordinator", []string{"submit", "--kind", "k", "--events", good, "--retention", "soon"}, 2, "--retention"},
		{"submit unreachable", down, "coordinator", []string{"submit", "--kind", "k", "--events", good}, 4, "Redis unreachable"},
		// A timeout before the first progress read names the state read
		// before waiting (it printed "is still  after", "0 of 0").
		{"submit wait times out at once", up, "coordinator", []string{"submit", "--kind", "k", "--events", good, "--wait", "--timeout", "1ns"}, 5, "is still running after --timeout 1ns (0 of 1 events finished)"},
		{"list bad state", up, "coordinator", []string{"list", "--state", "sleeping"}, 2, "--state"},
		{"run bad reducer", up, "coordinator", []string{"run", "--reducer", "k=magic"}, 2, "unknown reducer"},
		{"demo bad workers", up, "zombies", []string{"--workers", "0"}, 2, "--workers"},
	} {
		if os.Geteuid() == 0 && tc.name == "submit unreadable file" {
			continue // root reads any file
		}
		r := runBin(t, tc.environ, tc.bin, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: %s %v: exit %d, stderr %q; want exit %d and %q", tc.name, tc.bin, tc.args, r.code, r.stderr, tc.code, tc.want)
		}
		if strings.Contains(r.stderr+r.stdout, "hunter2") {
			t.Errorf("%s: the output shows the password: %q", tc.name, r.stderr)
		}
	}
	// --help explains every flag and the environment, and never shows the
	// password of the URL in the environment.
	help := mustRun(t, down, "worker", "--help")
	if strings.Contains(help, "hunter2") {
		t.Errorf("worker --help shows the password of FANIN_REDIS_URL")
	}
	for _, want := range []string{"--redis", "--concurrency", "--queues", "--metrics-addr", "--exec", "--log-format", "FANIN_REDIS_URL", "REDIS_URL", "Exit codes"} {
		if !strings.Contains(help, want) {
			t.Errorf("worker --help lacks %q", want)
		}
	}
	help = mustRun(t, up, "coordinator", "--help")
	for _, want := range []string{"submit", "run", "status", "list", "inspect", "collect", "cancel", "replay", "--json", "Exit codes"} {
		if !strings.Contains(help, want) {
			t.Errorf("coordinator --help lacks %q", want)
		}
	}
}

// TestUnknownJobNamesTheNamespace: a job looked up under another namespace
// than its producer's is not found, and the error names the namespace
// searched and how to choose another, whichever command looked (before:
// "job not found: ID (never opened, expired or deleted)", as if the job
// never existed).
func TestUnknownJobNamesTheNamespace(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	job := "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d"
	for _, tc := range []struct {
		environ []string
		args    []string
		ns      string
	}{
		{env("FANIN_REDIS_URL=" + srv.URL()), []string{"status", job}, "fanin:"},
		{env("FANIN_REDIS_URL=" + srv.URL()), []string{"--namespace", "elsewhere", "inspect", job}, "elsewhere:"},
		{env("FANIN_REDIS_URL="+srv.URL(), "FANIN_NAMESPACE=a:"), []string{"cancel", job}, "a:"},
		{env("FANIN_REDIS_URL="+srv.URL(), "FANIN_NAMESPACE=a"), []string{"collect", job}, "a:"},
	} {
		r := runBin(t, tc.environ, "coordinator", tc.args...)
		want := `job not found: ` + job + ` (never opened, expired or deleted); looked in namespace "` + tc.ns +
			`"; check --namespace (env FANIN_NAMESPACE) against the producer's`
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("coordinator %v: exit %d, stderr %q; want exit 1 and %q", tc.args, r.code, r.stderr, want)
		}
	}
}

// TestTLSURLToAPlainServerFailsPromptly: a rediss:// URL to a plain
// redis-server fails within its dial timeout, exit 4, saying the server may
// not speak TLS and to use redis:// (before: "context deadline exceeded"
// after the 10 s connect timeout).
func TestTLSURLToAPlainServerFailsPromptly(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	start := time.Now()
	r := runBin(t, env("FANIN_REDIS_URL=rediss://"+srv.Addr()+"/0?dial_timeout=1s"), "coordinator", "status", "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")
	took := time.Since(start)
	want := "the server may not speak TLS (for a plain server, use redis:// instead of rediss://)"
	if r.code != 4 || !strings.Contains(r.stderr, want) {
		t.Errorf("coordinator status with rediss:// to a plain server: exit %d, stderr %q; want exit 4 and %q", r.code, r.stderr, want)
	}
	if took > 4*time.Second {
		t.Errorf("coordinator status with rediss:// to a plain server took %v; want it to fail within its 1s dial timeout (and the start of the binary)", took.Round(time.Millisecond))
	}
}

// TestJobOutcomesGiveExitCodes: a failed job, a partial job, a cancelled
// job and a job not finished yet each give their exit code to collect.
func TestJobOutcomesGiveExitCodes(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	dir := t.TempDir()
	sightings := filepath.Join(dir, "s.jsonl")
	// One valid sighting and one with a count of 0, which Analyze rejects
	// for good.
	body := `{"id":"ok","time":"2026-10-31T06:00:00Z","lat":40.89,"lon":-74,"count":120,"heading":185}` + "\n" +
		`{"id":"bad","time":"2026-10-31T06:00:00Z","lat":40.89,"lon":-74,"count":0,"heading":185}` + "\n"
	if err := os.WriteFile(sightings, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	submit := func(args ...string) string {
		return strings.TrimSpace(mustRun(t, e, "coordinator", append([]string{"submit", "--kind", "zombies.sighting", "--events", sightings}, args...)...))
	}

	// Not finished: no worker runs yet.
	pending := submit()
	if r := runBin(t, e, "coordinator", "collect", pending); r.code != 5 || !strings.Contains(r.stderr, "no result yet") {
		t.Fatalf("collect of an open job: exit %d %q, want 5", r.code, r.stderr)
	}
	if r := runBin(t, e, "coordinator", "collect", pending, "--wait", "--timeout", "300ms"); r.code != 5 || !strings.Contains(r.stderr, "--timeout") {
		t.Fatalf("collect --wait past --timeout: exit %d %q, want 5", r.code, r.stderr)
	}
	if miss := mustRun(t, e, "coordinator", "inspect", pending, "--missing"); !strings.Contains(miss, "missing events (2 shown):\n  bad\n  ok\n") {
		t.Fatalf("inspect --missing before any worker =\n%s", miss)
	}
	cancelled := submit()
	mustRun(t, e, "coordinator", "cancel", cancelled)

	failed := pending
	partial := submit("--policy", "continue")
	start(t, e, "worker", "--concurrency", "2")
	start(t, e, "coordinator", "run")

	// status --watch --json prints one status per poll, the last one final.
	r := runBin(t, e, "coordinator", "status", failed, "--watch", "--json", "--interval", "20ms")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 3 || !strings.Contains(lines[len(lines)-1], `"state":"failed"`) {
		t.Fatalf("status --watch --json of a failing job: exit %d, stdout %q", r.code, r.stdout)
	}
	// submit --wait follows a job of valid sightings to its result.
	good := filepath.Join(dir, "good.jsonl")
	if err := os.WriteFile(good, []byte(strings.SplitAfter(body, "\n")[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, e, "coordinator", "submit", "--kind", "zombies.sighting", "--events", good, "--wait", "--timeout", "1m")
	if r.code != 0 || !strings.HasPrefix(r.stdout, `{"sightings":1,"zombies":120`) || !strings.Contains(r.stderr, "submitted job") {
		t.Fatalf("submit --wait: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = runBin(t, e, "coordinator", "collect", failed, "--wait", "--timeout", "1m")
	if r.code != 3 || !strings.Contains(r.stderr, "failed") {
		t.Fatalf("collect of a failed job: exit %d %q, want 3", r.code, r.stderr)
	}
	r = runBin(t, e, "coordinator", "collect", partial, "--wait", "--timeout", "1m", "--json")
	if r.code != 3 || !strings.Contains(r.stdout, `"state":"partial"`) || !strings.Contains(r.stdout, `"sightings":1`) {
		t.Fatalf("collect of a partial job: exit %d, stdout %q, stderr %q; want 3 with the result of the one good sighting", r.code, r.stdout, r.stderr)
	}
	r = runBin(t, e, "coordinator", "collect", cancelled)
	if r.code != 3 || !strings.Contains(r.stderr, "cancelled") {
		t.Fatalf("collect of a cancelled job: exit %d %q, want 3", r.code, r.stderr)
	}
	insp := mustRun(t, e, "coordinator", "inspect", failed, "--failed")
	if !strings.Contains(insp, "bad after 1 attempts") || !strings.Contains(insp, "count 0 is outside") {
		t.Fatalf("inspect --failed = %s, want the bad sighting and why", insp)
	}
	list := mustRun(t, e, "coordinator", "list", "--state", "failed,partial")
	if !strings.Contains(list, failed) || !strings.Contains(list, partial) || strings.Contains(list, cancelled) {
		t.Fatalf("list --state failed,partial =\n%s", list)
	}
	// A replay reduces the partial job again under a new token.
	r = runBin(t, e, "coordinator", "replay", partial, "--json")
	if r.code != 3 || !strings.Contains(r.stdout, `"state":"partial"`) {
		t.Fatalf("replay of a partial job: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if st := status(t, e, partial); st.Token != 2 {
		t.Fatalf("after replay, token = %d, want 2", st.Token)
	}
}

// TestDaemonsWhoseRedisUserMayNotWriteExit: a worker or coordinator whose
// Redis user's ACL does not cover the deployment's keys exits 4 at start,
// naming NOPERM and what the user needs, instead of running on and logging
// refusals every few seconds (before: the worker also panicked in Asynq
// when it returned early).
func TestDaemonsWhoseRedisUserMayNotWriteExit(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{
		Users: []redistest.ACLUser{{Name: "elsewhere", Password: "elsewhere-secret", Rules: "~other:* &* +@all"}},
	})
	e := env("FANIN_REDIS_URL=redis://elsewhere:elsewhere-secret@" + srv.Addr())
	for _, args := range [][]string{{"worker"}, {"coordinator", "run"}} {
		r := runBin(t, e, args[0], args[1:]...)
		if r.code != 4 || !strings.Contains(r.stderr, "heartbeat") || !strings.Contains(r.stderr, "NOPERM") || !strings.Contains(r.stderr, "want a Redis user allowed the deployment's keys") || strings.Contains(r.stderr, "panic") {
			t.Errorf("%v with a user that may not write fanin:*: exit %d, stderr:\n%s\nwant exit 4 naming NOPERM and what the user needs", args, r.code, r.stderr)
		}
	}
}
