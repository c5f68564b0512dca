package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// hwm samples the peak resident set size (VmHWM in /proc/<pid>/status) of
// a running process every 20 ms; the returned function stops the sampling
// and returns the peak seen, in MiB. (The rusage of a child after exit is
// no use here: Linux carries the parent's peak over the child's exec.)
func hwm(pid int) func() float64 {
	var peak float64
	done, stopped := make(chan struct{}), make(chan struct{})
	read := func() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			return
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				peak = max(peak, kb/1024)
			}
		}
	}
	go func() {
		defer close(stopped)
		for {
			read()
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() float64 {
		close(done)
		<-stopped
		read()
		return peak
	}
}

// totals reads a sightings file and returns the number of sightings and
// the sum of their counts, computed independently of fanin.
func totals(t *testing.T, path string) (sightings, zombies int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var s struct {
			Count int64 `json:"count"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		sightings++
		zombies += s.Count
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sightings, zombies
}

// TestLoadLargeJob runs one job of 1,000,000 events (FANIN_FULL=1; 20,000
// otherwise) through two workers and a coordinator, and records the peak
// RSS of the submit, of each worker and of the coordinator (VmHWM, sampled
// while they run). The result counts every sighting and zombie of the file, and at
// CI size is byte-identical to the embedded demo's.
func TestLoadLargeJob(t *testing.T) {
	t.Parallel()
	n := bySize(20_000, 1_000_000)
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	f := newFanin(t, srv.URL(), srv.Client(t), "")
	dir := t.TempDir()
	path := filepath.Join(dir, "large.jsonl")
	mustRun(t, env(), "zombies", "generate", "-n", strconv.Itoa(n), "--seed", "17", "--out", path)
	wantSightings, wantZombies := totals(t, path)

	began := time.Now()
	sub := exec.Command(filepath.Join(bin, "coordinator"), "submit", "--kind", "zombies.sighting", "--events", path, "--retention", "1h")
	sub.Env = f.env
	var out strings.Builder
	sub.Stdout = &out
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	subPeak := hwm(sub.Process.Pid)
	err := sub.Wait()
	rss := []string{fmt.Sprintf("submit %.0f MiB", subPeak())}
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	job := strings.TrimSpace(out.String())
	submitted := time.Since(began)
	workers := []*proc{f.worker(t, "--concurrency", "4"), f.worker(t, "--concurrency", "4")}
	coord := f.coordinator(t)
	var peaks []func() float64
	for _, p := range append(workers, coord) {
		peaks = append(peaks, hwm(p.cmd.Process.Pid))
	}
	d := f.waitEnd(t, time.Now(), job)

	st := f.statusOf(t, job)
	if st.State != "done" || st.Done != int64(n) || st.Failed != 0 || st.Token != 1 {
		t.Fatalf("job = %+v; want done with %d outputs, committed once", st, n)
	}
	res, err := f.store.Result(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Sightings int64 `json:"sightings"`
		Zombies   int64 `json:"zombies"`
	}
	if err := json.Unmarshal(res, &got); err != nil || got.Sightings != wantSightings || got.Zombies != wantZombies {
		t.Fatalf("result counts %d sightings and %d zombies (%v); the file has %d and %d", got.Sightings, got.Zombies, err, wantSightings, wantZombies)
	}
	if !full() {
		_, want := sightings(t, n, 17)
		if string(res) != string(want) {
			t.Fatalf("result differs from the embedded demo's")
		}
	}
	for i, p := range append(workers, coord) {
		peak := peaks[i]()
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit after SIGTERM = %d\n%s", code, p.logText())
		}
		name := "coordinator"
		if i < len(workers) {
			name = "worker " + strconv.Itoa(i+1)
		}
		rss = append(rss, fmt.Sprintf("%s %.0f MiB", name, peak))
	}
	t.Logf("observation: %d events: submit took %v, processed and committed %v later (%.0f events/s); peak RSS: %s",
		n, submitted.Round(time.Millisecond), d.Round(time.Millisecond), float64(n)/d.Seconds(), strings.Join(rss, ", "))
}

// TestLoadConcurrentJobs submits 100 jobs of 1,000 events at once
// (FANIN_FULL=1; 10 of 500 otherwise), each from its own submit process, to
// two workers and two coordinators: every job is done, committed once,
// with the fault-free result of its own events.
func TestLoadConcurrentJobs(t *testing.T) {
	t.Parallel()
	jobs, n := bySize(10, 100), bySize(500, 1_000)
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	f := newFanin(t, srv.URL(), srv.Client(t), "")
	const seeds = 5
	paths, wants := make([]string, seeds), make([][]byte, seeds)
	for s := range seeds {
		paths[s], wants[s] = sightings(t, n, 100+s)
	}
	for range 2 {
		f.worker(t, "--concurrency", "8")
		f.coordinator(t)
	}
	began := time.Now()
	ids := make([]string, jobs)
	errs := make([]error, jobs)
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() {
			cmd := exec.Command(filepath.Join(bin, "coordinator"), "submit", "--kind", "zombies.sighting", "--events", paths[i%seeds], "--chunk", "100")
			cmd.Env = f.env
			out, err := cmd.Output()
			ids[i], errs[i] = strings.TrimSpace(string(out)), err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	submitted := time.Since(began)
	f.waitEnd(t, began, ids...)
	took := time.Since(began)
	for i, job := range ids {
		f.check(t, job, n, wants[i%seeds])
	}
	list := mustRun(t, f.env, "coordinator", "list", "--state", "done")
	if got := strings.Count(list, "\n") - 1; got != jobs {
		t.Fatalf("list --state done shows %d jobs, want %d:\n%s", got, jobs, list)
	}
	for _, job := range ids {
		if !strings.Contains(list, job) {
			t.Fatalf("list --state done lacks job %s", job)
		}
	}
	t.Logf("observation: %d jobs x %d events submitted at once in %v; all committed %v after the first submit",
		jobs, n, submitted.Round(time.Millisecond), took.Round(time.Millisecond))
}
