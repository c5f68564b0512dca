package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// BenchmarkSubmitHTTPvsCLI submits the same file of sightings
// (FANIN_BENCH_EVENTS, default 1,000,000) through POST /api/v1/jobs of
// `coordinator serve` and through `coordinator submit --events FILE`, and
// through `coordinator submit --events -` (stdin, spooled like a request
// body), side by side in each round on one Redis (flushed between runs;
// the order rotates every round). It reports the time of each, the ratio
// HTTP / submit (the target is at most 2), the peak RSS (VmHWM) of the
// server and of the submit process, and the longest command each made
// Redis run (SLOWLOG). FANIN_BENCH_ROUNDS (default 3) rounds
// run in one call, so run it once:
//
//	go test -run '^$' -bench SubmitHTTPvsCLI -benchtime 1x -timeout 60m ./test/
func BenchmarkSubmitHTTPvsCLI(b *testing.B) {
	n, rounds := 1_000_000, 3
	for name, dst := range map[string]*int{"FANIN_BENCH_EVENTS": &n, "FANIN_BENCH_ROUNDS": &rounds} {
		if v := os.Getenv(name); v != "" {
			var err error
			if *dst, err = strconv.Atoi(v); err != nil || *dst < 1 {
				b.Fatalf("%s=%q (want a positive integer)", name, v)
			}
		}
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "sightings.jsonl")
	mustRunB(b, env(), filepath.Join(bin, "zombies"), "generate", "-n", strconv.Itoa(n), "--seed", "5", "--out", path)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	srv := redistest.StartServer(b, redistest.ServerOptions{})
	client := srv.Client(b)
	e := env("FANIN_REDIS_URL=" + srv.URL())

	// serve, as a process of its own, so that its RSS is its own.
	logf := filepath.Join(dir, "serve.log")
	lf, err := os.Create(logf)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "coordinator"), "serve", "--addr", "127.0.0.1:0")
	cmd.Env, cmd.Stdout, cmd.Stderr = e, lf, lf
	if err := redistest.StartProcess(cmd); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); lf.Close() }()
	var base string
	for deadline := time.Now().Add(time.Minute); base == ""; time.Sleep(10 * time.Millisecond) {
		log, _ := os.ReadFile(logf)
		if m := servedURL.FindStringSubmatch(string(log)); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			b.Fatalf("serve did not start:\n%s", log)
		}
	}
	servePeak := hwm(cmd.Process.Pid)
	time.Sleep(100 * time.Millisecond)
	idle, _ := rss(cmd.Process.Pid)

	flush := func() {
		if err := client.FlushAll(context.Background()).Err(); err != nil {
			b.Fatal(err)
		}
	}
	post := func() (time.Duration, float64) {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		req, _ := http.NewRequest("POST", base+"api/v1/jobs?kind=zombies.sighting", f)
		req.ContentLength = st.Size()
		req.Header.Set("Content-Type", "application/x-ndjson")
		began := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(began)
		var sub struct{ Events int }
		if resp.StatusCode != 201 || json.Unmarshal(body, &sub) != nil || sub.Events != n {
			b.Fatalf("POST /jobs: %d %s", resp.StatusCode, body)
		}
		return took, 0
	}
	submit := func(stdin bool) (time.Duration, float64) {
		args := []string{"submit", "--kind", "zombies.sighting", "--events", path, "--json"}
		c := exec.Command(filepath.Join(bin, "coordinator"), args...)
		if stdin {
			args[4] = "-"
			c = exec.Command(filepath.Join(bin, "coordinator"), args...)
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			c.Stdin = f
		}
		c.Env = e
		var out strings.Builder
		c.Stdout, c.Stderr = &out, &out
		began := time.Now()
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		peak := hwm(c.Process.Pid)
		err := c.Wait()
		took := time.Since(began)
		if err != nil || !strings.Contains(out.String(), fmt.Sprintf(`"events":%d`, n)) {
			b.Fatalf("submit: %v\n%s", err, out.String())
		}
		return took, peak()
	}
	runs := []struct {
		name string
		do   func() (time.Duration, float64)
	}{
		{"submit-file", func() (time.Duration, float64) { return submit(false) }},
		{"http", post},
		{"submit-stdin", func() (time.Duration, float64) { return submit(true) }},
	}
	total := map[string]time.Duration{}
	var submitPeak float64
	// The longest command each way of submitting made Redis run
	// (SLOWLOG: every command over 1 ms), over every round.
	longest := map[string]time.Duration{}
	for _, kv := range [][2]string{{"slowlog-log-slower-than", "1000"}, {"slowlog-max-len", "1000000"}} {
		if err := client.ConfigSet(context.Background(), kv[0], kv[1]).Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range rounds * b.N {
		var line []string
		for k := range runs {
			r := runs[(i+k)%len(runs)]
			flush()
			if err := client.SlowLogReset(context.Background()).Err(); err != nil {
				b.Fatal(err)
			}
			took, peak := r.do()
			slow, err := client.SlowLogGet(context.Background(), -1).Result()
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range slow {
				if len(s.Args) == 0 || !strings.EqualFold(s.Args[0], "flushall") {
					longest[r.name] = max(longest[r.name], s.Duration)
				}
			}
			total[r.name] += took
			submitPeak = max(submitPeak, peak)
			line = append(line, fmt.Sprintf("%s %.2fs", r.name, took.Seconds()))
		}
		b.Logf("round %d: %s", i+1, strings.Join(line, ", "))
	}
	b.StopTimer()
	flush()
	per := func(name string) float64 { return total[name].Seconds() / float64(rounds*b.N) }
	peak := servePeak()
	b.ReportMetric(per("submit-file"), "submit-file-s/op")
	b.ReportMetric(per("http"), "http-s/op")
	b.ReportMetric(per("submit-stdin"), "submit-stdin-s/op")
	b.ReportMetric(per("http")/per("submit-file"), "http/submit")
	b.ReportMetric(peak, "serve-peak-MiB")
	b.ReportMetric(submitPeak, "submit-peak-MiB")
	for name, d := range longest {
		b.ReportMetric(float64(d.Microseconds())/1000, name+"-longest-cmd-ms")
	}
	b.Logf("%d events, %.0f MiB: POST /jobs %.2fs, submit FILE %.2fs, submit - %.2fs per run (HTTP/submit %.2f); peak RSS: serve %.0f MiB (idle %.0f MiB), submit %.0f MiB",
		n, float64(st.Size())/(1<<20), per("http"), per("submit-file"), per("submit-stdin"), per("http")/per("submit-file"), peak, idle, submitPeak)
}

// rss returns the resident set size (VmRSS) of a process, in MiB.
func rss(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// mustRunB runs a program that must succeed, for a benchmark.
func mustRunB(b *testing.B, environ []string, path string, args ...string) {
	b.Helper()
	c := exec.Command(path, args...)
	c.Env = environ
	if out, err := c.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", path, args, err, out)
	}
}
