package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestNewGivesIsolatedViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := New(t), New(t)
	if a.Prefix == b.Prefix {
		t.Fatalf("two views share the prefix %q", a.Prefix)
	}
	if err := a.Client.Set(ctx, a.Key("k"), "from-a", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Client.Set(ctx, b.Key("k"), "from-b", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := a.Client.Get(ctx, a.Key("k")).Val(); got != "from-a" {
		t.Fatalf("view a reads %q, want from-a", got)
	}
	if a.URL == "" || a.Mode == "" {
		t.Fatalf("view has no URL or mode: %+v", a)
	}
	opts, err := redis.ParseURL(a.URL)
	if err != nil {
		t.Fatalf("view URL %q does not parse: %v", a.URL, err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	if got := c.Get(ctx, b.Key("k")).Val(); got != "from-b" {
		t.Fatalf("the URL reaches another server: read %q, want from-b", got)
	}
}

func TestAOFAlwaysSurvivesKillAndRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartServer(t, ServerOptions{AppendFsync: "always"})
	c := s.Client(t)
	for i := range 100 {
		if err := c.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	oldPID, port := s.PID(), s.Port()
	s.Kill(t)
	if s.PID() != 0 {
		t.Fatalf("after Kill the server still runs as pid %d", s.PID())
	}
	if err := syscall.Kill(oldPID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("killed pid %d still exists: %v", oldPID, err)
	}
	s.Restart(t)
	if s.Port() != port || s.PID() == oldPID {
		t.Fatalf("restart: port %d pid %d, want port %d and a new pid", s.Port(), s.PID(), port)
	}
	for i := range 100 {
		got, err := c.Get(ctx, fmt.Sprint("k", i)).Int()
		if err != nil || got != i {
			t.Fatalf("key k%d after restart = %d, %v; want %d", i, got, err, i)
		}
	}
}

func TestWithoutAOFKillLosesData(t *testing.T) {
	// The control for the test above: without persistence a restart is empty,
	// so surviving data there is the AOF's doing.
	t.Parallel()
	ctx := context.Background()
	s := StartServer(t, ServerOptions{})
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Restart(t)
	if n := c.Exists(ctx, "k").Val(); n != 0 {
		t.Fatalf("a server without AOF kept its data across a kill")
	}
}

func TestPausedServerFailsDeadlineThenRecovers(t *testing.T) {
	t.Parallel()
	s := StartServer(t, ServerOptions{})
	c := s.Client(t)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	s.Pause(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err := c.Ping(ctx).Err()
	cancel()
	var netErr net.Error
	if err == nil || !(errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())) {
		t.Fatalf("PING to a paused server = %v, want a deadline error", err)
	}
	s.Resume(t)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Resume = %v, want PONG", err)
	}
}

func TestClusterAcceptsKeysInEverySlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := NewCluster(t)
	cc, ok := r.Client.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("NewCluster client is %T, want *redis.ClusterClient", r.Client)
	}
	// One key per slot: a hash tag chosen for each slot.
	keys := make([]string, 16384)
	found := 0
	for i := 0; found < len(keys); i++ {
		tag := strconv.Itoa(i)
		slot := keySlot(tag)
		if keys[slot] == "" {
			keys[slot] = r.Prefix + "{" + tag + "}"
			found++
		}
	}
	_, err := cc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for slot, k := range keys {
			p.Set(ctx, k, slot, 0)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("writing one key per slot: %v", err)
	}
	var (
		mu        sync.Mutex
		perMaster []int64
	)
	err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n := int64(0)
		iter := m.Scan(ctx, 0, r.Prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			n++
		}
		mu.Lock() // ForEachMaster runs the function on every master at once
		perMaster = append(perMaster, n)
		mu.Unlock()
		return iter.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, n := range perMaster {
		if n == 0 {
			t.Fatalf("a master holds none of the keys: %v", perMaster)
		}
		total += n
	}
	if len(perMaster) != 3 || total != 16384 {
		t.Fatalf("keys per master %v (total %d), want 3 masters holding 16384", perMaster, total)
	}
	for _, slot := range []int{0, 5461, 16383} {
		if got, err := cc.Get(ctx, keys[slot]).Int(); err != nil || got != slot {
			t.Fatalf("slot %d reads %d, %v", slot, got, err)
		}
	}
}

func TestClusterWithReplicasFailsOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := StartCluster(t, ClusterOptions{ReplicasPerMaster: 1})
	if len(c.Masters()) != 3 || len(c.Replicas()) != 3 {
		t.Fatalf("got %d masters and %d replicas, want 3 and 3", len(c.Masters()), len(c.Replicas()))
	}
	cc := c.Client(t)
	if err := cc.Set(ctx, "{a}k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// Kill the master of {a}'s slot; its replica must take over.
	slot := keySlot("a")
	victim := c.Masters()[slot*3/16384]
	replica := c.Replicas()[slot*3/16384]
	rc := replica.Client(t)
	// WAIT until the replica has the write, so the failover cannot lose it.
	if n, err := victim.Client(t).Do(ctx, "wait", 1, 10000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT for the replica: %d replicas acknowledged, %v", n, err)
	}
	victim.Kill(t)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitFor(wctx, func() (bool, error) {
		role, err := rc.Do(wctx, "role").Slice()
		return err == nil && len(role) > 0 && role[0] == "master", err
	}); err != nil {
		t.Fatalf("the replica of the killed master was not promoted: %v", err)
	}
	if err := waitFor(wctx, func() (bool, error) {
		// go-redis reloads its slot map on MOVED, not on a refused dial:
		// clients of a cluster that loses a master must reload it themselves.
		cc.(*redis.ClusterClient).ReloadState(wctx)
		v, err := cc.Get(wctx, "{a}k").Result()
		return v == "v", err
	}); err != nil {
		t.Fatalf("the cluster client does not read the key after failover: %v", err)
	}
}

func TestTLSRejectsClientWithoutCA(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := StartServer(t, ServerOptions{TLS: true})
	if !strings.HasPrefix(s.URL(), "rediss://") || s.CAFile() == "" {
		t.Fatalf("TLS server URL %q, CA file %q", s.URL(), s.CAFile())
	}
	if err := s.Client(t).Ping(ctx).Err(); err != nil {
		t.Fatalf("client trusting the test CA: %v", err)
	}
	noCA := s.Options()
	noCA.TLSConfig = &tls.Config{ServerName: "localhost", MinVersion: tls.VersionTLS12}
	c := redis.NewClient(noCA)
	defer c.Close()
	err := c.Ping(ctx).Err()
	var unknown x509UnknownAuthority
	if err == nil || !errors.As(err, &unknown) {
		t.Fatalf("client without the CA: %v, want an unknown-authority error", err)
	}
	plain := s.Options()
	plain.TLSConfig = nil
	pc := redis.NewClient(plain)
	defer pc.Close()
	if err := pc.Ping(ctx).Err(); err == nil {
		t.Fatal("a plain-TCP client reached the TLS-only server")
	}
}

func TestACLRejectsWrongPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartServer(t, ServerOptions{
		Password: "default-secret",
		Users:    []ACLUser{{Name: "fanin", Password: "fanin-secret"}},
	})
	if err := s.Client(t).Ping(ctx).Err(); err != nil {
		t.Fatalf("default user with its password: %v", err)
	}
	try := func(user, pw string) error {
		o := s.Options()
		o.Username, o.Password = user, pw
		c := redis.NewClient(o)
		defer c.Close()
		return c.Ping(ctx).Err()
	}
	if err := try("fanin", "fanin-secret"); err != nil {
		t.Fatalf("ACL user with its password: %v", err)
	}
	for _, tc := range []struct{ user, pw string }{{"fanin", "wrong"}, {"", "wrong"}, {"nobody", "fanin-secret"}} {
		err := try(tc.user, tc.pw)
		if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Fatalf("user %q with password %q: %v, want WRONGPASS", tc.user, tc.pw, err)
		}
	}
	noAuth := s.Options()
	noAuth.Password = ""
	c := redis.NewClient(noAuth)
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("unauthenticated SET: %v, want NOAUTH", err)
	}
}

func TestStartServerRejectsBadOptions(t *testing.T) {
	t.Parallel()
	if _, err := startServer(ServerOptions{AppendFsync: "sometimes"}); err == nil ||
		!strings.Contains(err.Error(), `"always" or "everysec"`) {
		t.Fatalf("AppendFsync sometimes: %v", err)
	}
	if _, err := startCluster(ClusterOptions{ReplicasPerMaster: 2}); err == nil ||
		!strings.Contains(err.Error(), "ReplicasPerMaster 0 or 1") {
		t.Fatalf("ReplicasPerMaster 2: %v", err)
	}
}

// helperEnv selects a helper behaviour when the test binary re-runs itself.
const helperEnv = "FANIN_REDISTEST_HELPER"

// TestHelperProcess is not a test: it is the body of the child processes
// started by the tests below.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		return
	case "panic", "hang":
		s := StartServer(t, ServerOptions{})
		fmt.Printf("PID=%d\n", s.PID())
		os.Stdout.Sync()
		if os.Getenv(helperEnv) == "panic" {
			panic("helper panics on purpose")
		}
		time.Sleep(time.Hour) // killed by -test.timeout
	case "shared":
		r := New(t)
		if err := r.Client.Set(context.Background(), r.Key("mine"), "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("MODE=%s PREFIX=%s\n", r.Mode, r.Prefix)
	}
}

// runHelper runs this test binary as a child with helperEnv=mode.
func runHelper(t *testing.T, mode string, extraEnv []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "-test.v"}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.CombinedOutput()
	if cmd.Process != nil { // a child killed on timeout cannot remove its own directories
		leftovers, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-*", tempPrefix, cmd.Process.Pid)))
		for _, d := range leftovers {
			os.RemoveAll(d)
		}
	}
	return string(out), err
}

func pidFrom(t *testing.T, out string) int {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "PID="); ok {
			pid, err := strconv.Atoi(p)
			if err == nil && pid > 0 {
				return pid
			}
		}
	}
	t.Fatalf("the helper printed no PID:\n%s", out)
	return 0
}

func TestNoOrphanWhenTestPanicsOrTimesOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode string
		args []string
	}{
		{"panic", nil},
		{"hang", []string{"-test.timeout=3s"}},
	} {
		out, err := runHelper(t, tc.mode, nil, tc.args...)
		if err == nil {
			t.Fatalf("%s helper exited cleanly; want a failure:\n%s", tc.mode, out)
		}
		pid := pidFrom(t, out)
		if err := waitFor(context.Background(), func() (bool, error) {
			return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) || isZombie(pid), nil
		}); err != nil {
			t.Fatalf("%s: redis-server pid %d outlived its test binary", tc.mode, pid)
		}
	}
}

// isZombie reports whether pid has exited but is not yet reaped (it is then
// no longer a running server).
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] == "Z"
}

func TestURLModeUsesGivenServerWithoutFlushing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartServer(t, ServerOptions{})
	c := s.Client(t)
	if err := c.Set(ctx, "someone-elses-key", "keep me", 0).Err(); err != nil {
		t.Fatal(err)
	}
	out, err := runHelper(t, "shared", []string{EnvURL + "=" + s.URL(), EnvMode + "="})
	if err != nil {
		t.Fatalf("helper in URL mode failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, "MODE=url ") {
		t.Fatalf("helper did not use URL mode:\n%s", out)
	}
	if got := c.Get(ctx, "someone-elses-key").Val(); got != "keep me" {
		t.Fatalf("a key the harness did not write is gone or changed: %q", got)
	}
	if n := c.DBSize(ctx).Val(); n != 1 {
		keys := c.Keys(ctx, "*").Val()
		t.Fatalf("after the helper, the server holds %v; want only someone-elses-key (the test's keys removed)", keys)
	}
}

func TestFailsWithHowToWhenNoRedis(t *testing.T) {
	t.Parallel()
	out, err := runHelper(t, "shared", []string{
		"PATH=" + t.TempDir(), EnvURL + "=", EnvMode + "=", "DOCKER_HOST=unix:///nonexistent/docker.sock",
	})
	if err == nil {
		t.Fatalf("helper passed without any Redis:\n%s", out)
	}
	for _, want := range []string{"FANIN_TEST_REDIS_URL", "Docker", "redis-server on PATH"} {
		if !strings.Contains(out, want) {
			t.Fatalf("failure message does not name %q:\n%s", want, out)
		}
	}
}

func TestDockerMode(t *testing.T) {
	t.Parallel()
	if err := dockerAvailable(); err != nil {
		t.Skipf("no Docker engine answers here (%v); docker mode is exercised where one does", err)
	}
	out, err := runHelper(t, "shared", []string{EnvMode + "=docker", EnvURL + "="})
	if err != nil || !strings.Contains(out, "MODE=docker ") {
		t.Fatalf("helper in docker mode: %v\n%s", err, out)
	}
}

func TestClusterMasterOf(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{})
	ctx := context.Background()
	for _, tag := range []string{"a", "b", "c", "job-1", "{x}"} {
		key := "{" + tag + "}:k"
		m := c.MasterOf(t, key)
		// The master named must be the one that accepts the key (no MOVED).
		if err := m.Client(t).Set(ctx, key, "v", 0).Err(); err != nil {
			t.Fatalf("MasterOf(%q) = %s, which refuses the key: %v", key, m.Addr(), err)
		}
	}
	for _, slot := range []int{0, 5460, 5461, 10922, 16383} { // the split's edges
		found := ""
		for i := 0; found == ""; i++ {
			if keySlot(strconv.Itoa(i)) == slot {
				found = strconv.Itoa(i)
			}
		}
		m := c.MasterOf(t, "{"+found+"}")
		if err := m.Client(t).Set(ctx, "{"+found+"}", "v", 0).Err(); err != nil {
			t.Fatalf("slot %d: MasterOf = %s, which refuses it: %v", slot, m.Addr(), err)
		}
	}
}
