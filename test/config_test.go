package test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// Configuration mistakes (docs/RELIABILITY.md, "Configuration mistakes"):
// each test runs the binaries the way the mistake was made and checks what
// happens now.

// untouched fails the test when client's Redis holds any key: a refused
// command wrote nothing, not even an entry in Asynq's list of queues.
func untouched(t *testing.T, client redis.UniversalClient) {
	t.Helper()
	keys, err := client.Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Fatalf("refused commands wrote to Redis: keys %q", keys)
	}
}

// refusals starts a dedicated server for a test of refused command lines
// and returns a client of it, the binaries' environment naming it, and a
// one-event events file.
func refusals(t *testing.T) (client redis.UniversalClient, environ []string, good string) {
	t.Helper()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	good = filepath.Join(t.TempDir(), "good.jsonl")
	if err := os.WriteFile(good, []byte("{\"id\":\"a\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Clipped: each case's append(environ, …) gets its own copy.
	return srv.Client(t), slices.Clip(env("FANIN_REDIS_URL=" + srv.URL())), good
}

// usageCase is a run that must exit with code, its stderr holding every
// string of want.
type usageCase struct {
	environ []string
	bin     string
	args    []string
	code    int
	want    []string
}

// check runs each case.
func checkCases(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, tc := range cases {
		r := runBin(t, tc.environ, tc.bin, tc.args...)
		ok := r.code == tc.code
		for _, w := range tc.want {
			ok = ok && strings.Contains(r.stderr, w)
		}
		if !ok {
			t.Errorf("%s %q: exit %d, stderr %q; want exit %d and %q", tc.bin, tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}

// TestNamespaceSpellingsAreOneDeployment: a job submitted under --namespace
// a is processed by a worker started with --namespace a: and collected by a
// coordinator given FANIN_NAMESPACE=a; every key is under a:.
func TestNamespaceSpellingsAreOneDeployment(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	n := 40
	path, want := sightings(t, n, 31)
	e := env("FANIN_REDIS_URL=" + srv.URL())
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "--namespace", "a", "submit", "--kind", "zombies.sighting",
		"--events", path, "--chunk", "10", "--deadline", "1m"))
	w := start(t, e, "worker", "--namespace", "a:", "--concurrency", "2")
	start(t, append(e, "FANIN_NAMESPACE=a"), "coordinator", "run", "--sweep-interval", "1s")
	r := runBin(t, e, "coordinator", "--namespace", "a:", "collect", job, "--wait", "--timeout", "3m")
	if r.code != 0 || r.stdout != string(want)+"\n" {
		t.Fatalf("collect under a: of a job submitted under a: exit %d, stderr %q, result as expected: %v", r.code, r.stderr, r.stdout == string(want)+"\n")
	}
	if log := w.logText(); strings.Contains(log, "not found") {
		t.Fatalf("the worker of a: did not find the job of a:\n%s", log)
	}
	keys, err := srv.Client(t).Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "a:") && !strings.HasPrefix(k, "asynq:") {
			t.Errorf("key %q is neither fanin's under a: nor Asynq's", k)
		}
	}
}

// TestNamespaceMustBeWellFormed: an empty or ill-formed namespace, by flag
// or environment, is a usage error saying what is allowed, for every
// binary, and nothing is written to Redis.
func TestNamespaceMustBeWellFormed(t *testing.T) {
	t.Parallel()
	client, e, good := refusals(t)
	allowed := "letters, digits"
	var cases []usageCase
	for _, ns := range []string{"", " ", "a b", "*", "a*", "50%", "a\nb", "asynq:", "asynq", "a::b", ":a", "{a}"} {
		cases = append(cases, usageCase{e, "coordinator", []string{"--namespace", ns, "submit", "--kind", "k", "--events", good}, 2, []string{"namespace", allowed}})
		if ns != "" { // an empty variable is an unset one
			cases = append(cases, usageCase{append(e, "FANIN_NAMESPACE="+ns), "coordinator", []string{"list"}, 2, []string{"namespace", allowed}})
		}
	}
	cases = append(cases,
		usageCase{e, "worker", []string{"--namespace", ""}, 2, []string{"namespace", allowed}},
		usageCase{append(e, "FANIN_NAMESPACE=a b"), "coordinator", []string{"run"}, 2, []string{"namespace", allowed}},
		usageCase{e, "zombies", []string{"--namespace", "*", "-n", "10"}, 2, []string{"namespace", allowed}},
	)
	checkCases(t, cases)
	untouched(t, client)
}

// TestRolesCannotShareAQueue: an events queue that is the collect queue, or
// a collect queue that is the deployment's events queue, is refused at
// start by every role, and nothing is written to Redis.
func TestRolesCannotShareAQueue(t *testing.T) {
	t.Parallel()
	client, e, good := refusals(t)
	submit := []string{"submit", "--kind", "k", "--events", good}
	checkCases(t, []usageCase{
		{e, "coordinator", append(submit, "--queue", "fanin-collect"), 2, []string{"collect queue"}},
		{e, "coordinator", append([]string{"--namespace", "a"}, append(submit, "--queue", "a:fanin-collect")...), 2, []string{"collect queue"}},
		{e, "coordinator", append([]string{"--collect-queue", "default"}, submit...), 2, []string{"events queue"}},
		{e, "coordinator", []string{"run", "--collect-queue", "default"}, 2, []string{"events queue"}},
		{append(e, "FANIN_COLLECT_QUEUE=a:default"), "coordinator", []string{"--namespace", "a:", "run"}, 2, []string{"events queue"}},
		{e, "worker", []string{"--queues", "default,fanin-collect"}, 2, []string{"collect queue"}},
		{e, "worker", []string{"--queues", "jobs", "--collect-queue", "default"}, 2, []string{"events queue"}},
		{e, "worker", []string{"--queues", "fanin-collect", "--collect-queue", "c2"}, 2, []string{"collect queue"}},
		{e, "zombies", []string{"--collect-queue", "default", "-n", "10"}, 2, []string{"events queue"}},
	})
	untouched(t, client)
}

// TestQueueOverridesCannotCrossDeployments: an override of the form of a
// derived queue name (default, fanin-collect, or ending in :default or
// :fanin-collect) that is not the deployment's own is refused at start by
// every role: before, `--namespace a submit --queue fanin-collect` exited
// 0, the default deployment's coordinator handed the chunks to default,
// whose workers archived them (job not found), and job a:… stayed running
// until its deadline. Nothing is written to Redis.
func TestQueueOverridesCannotCrossDeployments(t *testing.T) {
	t.Parallel()
	client, e, good := refusals(t)
	submit := []string{"submit", "--kind", "zombies.sighting", "--events", good}
	ns := func(n string, args ...string) []string { return append([]string{"--namespace", n}, args...) }
	const rule = `or a name whose last ':' part is neither "default" nor "fanin-collect"`
	checkCases(t, []usageCase{
		{e, "coordinator", ns("a", append(submit, "--queue", "fanin-collect")...), 2, []string{`the events queue "fanin-collect" is the collect queue of namespace fanin:, another deployment`, `want namespace a:'s own, "a:default"`, rule}},
		{e, "coordinator", ns("a", append(submit, "--queue", "default")...), 2, []string{`the events queue "default" is the events queue of namespace fanin:`, rule}},
		{e, "coordinator", append(submit, "--queue", "x:default"), 2, []string{`"x:default" is the events queue of namespace x:`}},
		{e, "coordinator", append(submit, "--queue", "x:fanin-collect"), 2, []string{`"x:fanin-collect" is the collect queue of namespace x:`}},
		{e, "coordinator", append(submit, "--queue", "fanin:default"), 2, []string{`"fanin:default" has the form of a derived events queue`}},
		{e, "coordinator", ns("a", append(submit, "--collect-queue", "fanin-collect")...), 2, []string{`the collect queue "fanin-collect" is the collect queue of namespace fanin:`, `"a:fanin-collect"`}},
		{e, "coordinator", ns("a", "run", "--collect-queue", "fanin-collect"), 2, []string{`the collect queue "fanin-collect" is the collect queue of namespace fanin:`}},
		{e, "coordinator", []string{"run", "--collect-queue", "b:fanin-collect"}, 2, []string{`"b:fanin-collect" is the collect queue of namespace b:`}},
		{append(e, "FANIN_COLLECT_QUEUE=b:default"), "coordinator", []string{"run"}, 2, []string{`"b:default" is the events queue of namespace b:`}},
		{e, "worker", []string{"--namespace", "a", "--queues", "default"}, 2, []string{`the events queue "default" is the events queue of namespace fanin:`}},
		{e, "worker", []string{"--queues", "default,b:default"}, 2, []string{`"b:default" is the events queue of namespace b:`}},
		{append(e, "FANIN_QUEUES=a:default"), "worker", nil, 2, []string{`"a:default" is the events queue of namespace a:`}},
		{e, "zombies", []string{"--namespace", "a", "--collect-queue", "fanin-collect", "-n", "10"}, 2, []string{`"fanin-collect" is the collect queue of namespace fanin:`}},
	})
	untouched(t, client)
	// Names of another form, and a deployment's own names, are accepted.
	mustRun(t, e, "coordinator", ns("a:", append(submit, "--queue", "a:default", "--collect-queue", "a:fanin-collect")...)...)
	mustRun(t, e, "coordinator", ns("a", append(submit, "--queue", "jobs", "--collect-queue", "a:done")...)...)
}

// TestCollectQueueOverrideWarns: submit --queue q1 and coordinator run
// --collect-queue q1 are separate processes, so neither can refuse the
// other; the coordinator, whose collect queue is an override, warns once
// at start that event chunks sent to it by mistake go to the deployment's
// events queue, then hands every chunk there, where the worker handles it:
// nothing is archived, every event is done.
func TestCollectQueueOverrideWarns(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	path, _ := sightings(t, 20, 34)
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "zombies.sighting", "--events", path, "--chunk", "5", "--queue", "q1"))
	c := start(t, e, "coordinator", "run", "--collect-queue", "q1", "--sweep-interval", "1s")
	const warn = "collect queue q1 is an override, not the deployment's own fanin-collect: event chunks sent to it by mistake are handed to the events queue default"
	waitFor(t, "the coordinator to hand the chunks back", func() bool { return strings.Count(c.logText(), "handed back to its own") >= 4 })
	start(t, e, "worker", "--concurrency", "2")
	waitFor(t, "every event to be done", func() bool { return status(t, e, job).Done == 20 })
	log := c.logText()
	if strings.Count(log, warn) != 1 || !strings.Contains(log, "level=WARN") || !strings.Contains(log, "to=default") {
		t.Fatalf("coordinator log:\n%s\nwant one warning %q and chunks handed to default", log, warn)
	}
	// Its own collect queue says nothing.
	own := start(t, e, "coordinator", "run")
	waitFor(t, "the coordinator to start", func() bool { return strings.Contains(own.logText(), "coordinator started") })
	if strings.Contains(own.logText(), "is an override") {
		t.Errorf("a coordinator of its deployment's own collect queue warned:\n%s", own.logText())
	}
}

// passwordPieces returns every substring of at least 4 bytes of pw.
func passwordPieces(pw string) []string {
	var out []string
	for i := range len(pw) {
		for j := i + 4; j <= len(pw); j++ {
			out = append(out, pw[i:j])
		}
	}
	return out
}

// TestRedisPasswordNeverPrinted: a Redis URL whose password holds '/', '?',
// '#' or '@' unescaped does not parse; the error is a usage error that
// shows no part of the password, for every URL form and binary.
func TestRedisPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	for _, pw := range []string{"Zx9/Qw8+b4s3Kpw==", "p@ss/w%rdT4il", "Hvnt3r?qu3ryL00k", "Fr4g#m3ntP4rt", "Sl4sh/4t@M4rk?x#y"} {
		for _, u := range []string{
			"rediss://app:" + pw + "@" + addr + "/0",
			"redis://:" + pw + "@" + addr + "/0",
			"redis://app:" + pw + "@" + addr + "," + addr,
			"redis+sentinel://app:" + pw + "@" + addr + "/mymaster",
			"unix://app:" + pw + "@/tmp/redis.sock",
		} {
			for _, run := range []struct {
				environ []string
				bin     string
				args    []string
			}{
				{env(), "coordinator", []string{"--redis", u, "list"}},
				{env("FANIN_REDIS_URL=" + u), "worker", nil},
				{env("FANIN_REDIS_URL=" + u), "coordinator", []string{"run"}},
			} {
				r := runBin(t, run.environ, run.bin, run.args...)
				if r.code != 2 || !strings.Contains(r.stderr, "invalid Redis URL") {
					t.Errorf("%s %v with a password holding URL delimiters: exit %d, stderr %q; want exit 2, invalid Redis URL", run.bin, run.args, r.code, r.stderr)
				}
				for _, piece := range passwordPieces(pw) {
					if strings.Contains(r.stdout+r.stderr, piece) {
						t.Errorf("%s with the password %q shows %q: %q", run.bin, pw, piece, r.stderr)
						break
					}
				}
			}
		}
	}
	// A password typed without its user ("app@Secret9" before the host):
	// the whole user-info is hidden, in errors and in the daemons' logs.
	for _, args := range [][]string{
		{"coordinator", "--redis", "redis://app@Secr3tN1ne@" + addr + "/0", "list"},
		{"coordinator", "--redis", "redis://app@Secr3tN1ne@127.0.0.1:99999/0", "list"},
		{"worker", "--redis", "redis://app@Secr3tN1ne@" + addr + "/0", "--redis-wait", "1s"},
	} {
		r := runBin(t, env(), args[0], args[1:]...)
		if (r.code != 2 && r.code != 4) || strings.Contains(r.stdout+r.stderr, "Secr3tN1ne") || strings.Contains(r.stderr, "app@") || !strings.Contains(r.stderr, "xxxxx@") {
			t.Errorf("%v with app@<password>@host: exit %d, stderr %q; want the user-info shown as xxxxx", args[:2], r.code, strings.ReplaceAll(r.stderr, "Secr3tN1ne", "<secret>"))
		}
	}
	// The raw user-info of the issue: its tail must not show either.
	r := runBin(t, env(), "coordinator", "--redis", "redis://S3cr3t:p@ss/w%rd@"+addr+"/0", "list")
	if r.code != 2 || strings.Contains(r.stderr, "w%rd") || strings.Contains(r.stderr, "S3cr3t") || strings.Contains(r.stderr, "ss/w") {
		t.Errorf("redis://S3cr3t:p@ss/w%%rd@...: exit %d, stderr %q; want exit 2 without the user-info", r.code, r.stderr)
	}
}

// TestRedisURLAndFlagsAreValidated: an empty --redis, a negative database,
// negative durations and limits are usage errors; a database the server
// refuses is exit 4 at once, not retried as "unreachable".
func TestRedisURLAndFlagsAreValidated(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	client, e := srv.Client(t), env("FANIN_REDIS_URL="+srv.URL())
	db99 := "redis://" + srv.Addr() + "/99"
	job := "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d"
	checkCases(t, []usageCase{
		{e, "coordinator", []string{"--redis", "", "list"}, 2, []string{"--redis is empty"}},
		{e, "worker", []string{"--redis", ""}, 2, []string{"--redis is empty"}},
		{e, "zombies", []string{"--redis", "", "-n", "10"}, 2, []string{"--redis is empty"}},
		{e, "coordinator", []string{"--redis", "redis://" + srv.Addr() + "/-1", "list"}, 2, []string{`database "-1"`}},
		{e, "coordinator", []string{"--redis", "unix:///tmp/none.sock?db=-2", "list"}, 2, []string{`database "-2"`}},
		{e, "worker", []string{"--redis-wait", "-1s"}, 2, []string{"--redis-wait", "negative"}},
		{e, "coordinator", []string{"run", "--redis-wait", "-1s"}, 2, []string{"--redis-wait", "negative"}},
		{e, "coordinator", []string{"inspect", job, "--limit", "-1"}, 2, []string{"--limit", "negative"}},
		{e, "coordinator", []string{"collect", job, "--wait", "--timeout", "-1s"}, 2, []string{"--timeout", "negative"}},
		{e, "coordinator", []string{"status", job, "--watch", "--interval", "-1s"}, 2, []string{"--interval", "negative"}},
		{e, "coordinator", []string{"--replica-timeout", "-1s", "list"}, 2, []string{"--replica-timeout", "negative"}},
		{e, "coordinator", []string{"--redis", db99, "list"}, 4, []string{"DB index is out of range"}},
		// A port out of range is a usage error, not an unreachable Redis
		// the daemons would retry until --redis-wait.
		{e, "coordinator", []string{"--redis", "redis://127.0.0.1:99999/0", "list"}, 2, []string{`port "99999" of address "127.0.0.1:99999" (want a number from 1 to 65535)`}},
		{e, "worker", []string{"--redis", "redis://127.0.0.1:99999", "--redis-wait", "1h"}, 2, []string{`port "99999"`}},
		{e, "coordinator", []string{"run", "--redis", "redis://127.0.0.1:0", "--redis-wait", "1h"}, 2, []string{`port "0"`}},
		{e, "zombies", []string{"--redis", "redis://127.0.0.1:65536", "-n", "10"}, 2, []string{`port "65536"`}},
	})
	// The daemons do not retry it until --redis-wait gives up.
	for _, args := range [][]string{{"worker"}, {"coordinator", "run"}} {
		r := runBin(t, e, args[0], append(args[1:], "--redis", db99, "--redis-wait", "30s")...)
		if r.code != 4 || !strings.Contains(r.stderr, "DB index is out of range") || strings.Contains(r.stderr, "gave up") {
			t.Errorf("%v --redis .../99: exit %d, stderr %q; want exit 4 at once, naming the refused database", args, r.code, r.stderr)
		}
	}
	untouched(t, client)
}

// TestSubmitChunkIsBounded: --chunk above its documented bound is a usage
// error before anything is written to Redis; the bound itself is accepted.
func TestSubmitChunkIsBounded(t *testing.T) {
	t.Parallel()
	client, e, good := refusals(t)
	checkCases(t, []usageCase{
		{e, "coordinator", []string{"submit", "--kind", "k", "--events", good, "--chunk", "100000000"}, 2, []string{"--chunk 100000000", "at most 10000"}},
		{e, "coordinator", []string{"submit", "--kind", "k", "--events", good, "--chunk", "10001"}, 2, []string{"at most 10000"}},
		{e, "zombies", []string{"--chunk", "100000000", "-n", "10"}, 2, []string{"at most 10000"}},
	})
	untouched(t, client)
	mustRun(t, e, "coordinator", "submit", "--kind", "k", "--events", good, "--chunk", "10000")
}

// TestOutFilesAreWrittenSafely: collect --out and replay --out write into
// a FIFO in place, follow a symlink, keep the mode of a file they replace,
// create a new file honouring the umask, and "-" is stdout.
func TestOutFilesAreWrittenSafely(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	path, want := sightings(t, 20, 32)
	job := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "zombies.sighting", "--events", path))
	start(t, e, "worker", "--concurrency", "2")
	start(t, e, "coordinator", "run", "--sweep-interval", "1s")
	mustRun(t, e, "coordinator", "collect", job, "--wait", "--timeout", "3m")
	dir := t.TempDir()

	// A FIFO, with a reader waiting: the result goes through it, and it
	// stays a FIFO.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"collect", "replay"} {
		rd, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := runBin(t, e, "coordinator", cmd, job, "--out", fifo)
		buf := make([]byte, len(want)+1)
		n, _ := rd.Read(buf)
		rd.Close()
		if r.code != 0 || string(buf[:n]) != string(want) {
			t.Errorf("%s --out FIFO: exit %d %q; the reader got %d bytes, want the %d bytes of the result", cmd, r.code, r.stderr, n, len(want))
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("%s --out FIFO replaced the FIFO: %v, %v", cmd, fi.Mode(), err)
		}
	}

	// A symlink to an existing file of mode 0640: the link stays, the file
	// gets the result and keeps its mode.
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("target.json", link); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"collect", "replay"} {
		if err := os.WriteFile(target, []byte("old"), 0o640); err != nil {
			t.Fatal(err)
		}
		mustRun(t, e, "coordinator", cmd, job, "--out", link)
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("%s --out symlink replaced the link: %v %v", cmd, fi.Mode(), err)
		}
		got, err := os.ReadFile(target)
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s --out symlink: the target holds %d bytes (%v), want the result", cmd, len(got), err)
		}
		if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o640 {
			t.Fatalf("%s --out symlink: target mode %v, %v; want 0640 kept", cmd, fi.Mode(), err)
		}
	}

	// A path that cannot take the file is a usage error (exit 2, not 4)
	// naming the directory at fault, not a temporary file; replay checks
	// it before it commits anything (the job's fencing token is
	// unchanged), submit --wait and retry before they submit or put
	// anything back to work (no new job), the demo before it runs.
	before := status(t, e, job).Token
	jobsBefore := srv.Client(t).Keys(context.Background(), "fanin:job:{*}:meta").Val()
	nodir := filepath.Join(dir, "nodir", "x.json")
	for _, args := range [][]string{
		{"coordinator", "collect", job, "--out", nodir},
		{"coordinator", "replay", job, "--out", nodir},
		{"coordinator", "retry", job, "--out", nodir},
		{"coordinator", "submit", "--kind", "zombies.sighting", "--events", path, "--wait", "--out", nodir},
		{"zombies", "-n", "10", "--out", nodir},
	} {
		r := runBin(t, e, args[0], args[1:]...)
		if r.code != 2 || !strings.Contains(r.stderr, "directory "+filepath.Dir(nodir)+" does not exist") || strings.Contains(r.stderr, ".tmp-") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the missing directory", args, r.code, r.stderr)
		}
	}
	if after := srv.Client(t).Keys(context.Background(), "fanin:job:{*}:meta").Val(); len(after) != len(jobsBefore) {
		t.Errorf("jobs after the refused commands: %d, want %d (nothing submitted)", len(after), len(jobsBefore))
	}
	if os.Geteuid() != 0 { // root may write into a read-only directory
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"collect", "replay"} {
			r := runBin(t, e, "coordinator", cmd, job, "--out", filepath.Join(ro, "x.json"))
			if r.code != 2 || !strings.Contains(r.stderr, "permission denied") {
				t.Errorf("%s --out in a read-only directory: exit %d, stderr %q; want exit 2, permission denied", cmd, r.code, r.stderr)
			}
		}
	}
	rel := env("FANIN_REDIS_URL="+srv.URL(), "BIN="+filepath.Join(bin, "coordinator"), "JOB="+job, "DIR="+dir)
	if r := runBin(t, rel, "/bin/sh", "-c", `cd "$DIR" && exec "$BIN" collect "$JOB" --out nodir/x.json`); r.code != 2 || !strings.Contains(r.stderr, "--out nodir/x.json: unusable output path: directory nodir does not exist") {
		t.Errorf("collect --out nodir/x.json: exit %d, stderr %q; want exit 2, directory nodir does not exist", r.code, r.stderr)
	}
	if after := status(t, e, job).Token; after != before {
		t.Errorf("a refused replay moved the fencing token from %d to %d", before, after)
	}
	mustRun(t, e, "coordinator", "replay", job)
	if after := status(t, e, job).Token; after <= before {
		t.Errorf("a replay left the fencing token at %d (before: %d)", after, before)
	}

	// A new file honours the umask; "-" is stdout.
	fresh := filepath.Join(dir, "sub-fresh.json")
	sh := env("FANIN_REDIS_URL="+srv.URL(), "BIN="+filepath.Join(bin, "coordinator"), "JOB="+job, "OUT="+fresh)
	if r := runBin(t, sh, "/bin/sh", "-c", `umask 027 && exec "$BIN" collect "$JOB" --out "$OUT"`); r.code != 0 {
		t.Fatalf("collect --out new file: exit %d %q", r.code, r.stderr)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("collect --out new file under umask 027: mode %v, %v; want 0640", fi.Mode(), err)
	}
	sh = append(sh, "DIR="+dir)
	if r := runBin(t, sh, "/bin/sh", "-c", `cd "$DIR" && exec "$BIN" collect "$JOB" --out -`); r.code != 0 || r.stdout != string(want)+"\n" {
		t.Fatalf("collect --out -: exit %d, stdout of %d bytes, want the result", r.code, len(r.stdout))
	}
	if _, err := os.Lstat(filepath.Join(dir, "-")); err == nil {
		t.Fatalf("collect --out - created a file named -")
	}
}

// TestUsageErrorsExitTwo: an extra argument is a usage error (exit 2) for
// every binary and command.
func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	client, e, _ := refusals(t)
	checkCases(t, []usageCase{
		{e, "worker", []string{"extra-arg"}, 2, []string{"extra-arg"}},
		{e, "zombies", []string{"extra-arg"}, 2, []string{"extra-arg"}},
		{e, "zombies", []string{"generate", "extra-arg"}, 2, []string{"extra-arg"}},
		{e, "coordinator", []string{"run", "extra-arg"}, 2, []string{"extra-arg"}},
		{e, "coordinator", []string{"list", "extra-arg"}, 2, []string{"extra-arg"}},
	})
	untouched(t, client)
}

// TestStartedAgainstAnotherDeploymentWarns: a worker whose namespace has no
// job but whose queue holds another deployment's tasks, a worker whose
// namespace has jobs but none of whose queues exists, and a coordinator
// whose collect queue holds tasks of another namespace each warn once at
// start. (The queues two deployments share are overrides of another form
// than the derived names, which are refused: see
// TestQueueOverridesCannotCrossDeployments.)
func TestStartedAgainstAnotherDeploymentWarns(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	e := env("FANIN_REDIS_URL=" + srv.URL())
	path, _ := sightings(t, 20, 33)
	mustRun(t, e, "coordinator", "--namespace", "a", "submit", "--kind", "zombies.sighting", "--events", path, "--queue", "shared")
	// A job of the default deployment, complete with no coordinator: its
	// collect task waits in the collect queue "done".
	dflt := strings.TrimSpace(mustRun(t, e, "coordinator", "submit", "--kind", "zombies.sighting", "--events", path, "--collect-queue", "done"))
	w := start(t, e, "worker", "--concurrency", "2", "--collect-queue", "done")
	waitFor(t, "the default job to complete", func() bool { return status(t, e, dflt).State == "complete" })
	w.signal(t, syscall.SIGTERM)
	w.wait(t)

	const warn = "started against another deployment"
	for _, tc := range []struct {
		bin  string
		args []string
		want string
	}{
		{"worker", []string{"--namespace", "b", "--queues", "shared"}, `queue shared holds`},
		{"worker", []string{"--namespace", "a", "--queues", "elsewhere"}, `namespace a: has jobs`},
		{"coordinator", []string{"--namespace", "b", "run", "--collect-queue", "done"}, `queue done holds`},
	} {
		p := start(t, e, tc.bin, tc.args...)
		waitFor(t, tc.bin+" to warn", func() bool { return strings.Contains(p.logText(), warn) })
		p.signal(t, syscall.SIGTERM)
		p.wait(t)
		log := p.logText()
		if strings.Count(log, warn) != 1 || !strings.Contains(log, tc.want) || !strings.Contains(log, "level=WARN") {
			t.Errorf("%s %v: log\n%s\nwant one warning %q naming %q", tc.bin, tc.args, log, warn, tc.want)
		}
	}
	// The right deployment says nothing.
	p := start(t, e, "worker", "--namespace", "a:", "--queues", "shared")
	waitFor(t, "the worker of a: to start", func() bool { return strings.Contains(p.logText(), "worker started") })
	p.signal(t, syscall.SIGTERM)
	p.wait(t)
	if strings.Contains(p.logText(), warn) {
		t.Errorf("the worker of a: warned:\n%s", p.logText())
	}
}
