package redisurl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/internal/redisurl"
)

// roundTrip connects with raw and checks a key written through the URL's
// client can be read back.
func roundTrip(t *testing.T, raw string, opts redisurl.Options, want redisurl.Mode) {
	t.Helper()
	client, target, err := redisurl.NewClient(raw, opts)
	if err != nil {
		t.Fatalf("NewClient(%s): %v", redisurl.Redact(raw), err)
	}
	defer client.Close()
	if target.Mode != want {
		t.Fatalf("mode of %s = %s, want %s", target.Redacted, target.Mode, want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := redisurl.Ping(ctx, client, target); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	key := fmt.Sprintf("redisurl-test:{%s}", t.Name())
	if err := client.Set(ctx, key, "v", time.Minute).Err(); err != nil {
		t.Fatalf("SET through %s: %v", target.Redacted, err)
	}
	if got, err := client.Get(ctx, key).Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}
	client.Del(ctx, key)
}

func TestSingleServerWithPasswordAndUser(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{
		Password: "s3cret/pw",
		Users:    []redistest.ACLUser{{Name: "app", Password: "app-pw"}},
	})
	roundTrip(t, srv.URL(), redisurl.Options{}, redisurl.ModeSingle)
	roundTrip(t, "redis://app:app-pw@"+srv.Addr()+"/2", redisurl.Options{ClientName: "fanin-test"}, redisurl.ModeSingle)

	// A wrong password is unreachable, and the error never shows it.
	client, target, err := redisurl.NewClient("redis://app:wrong-pw-123@"+srv.Addr(), redisurl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	err = redisurl.Ping(context.Background(), client, target)
	if !errors.Is(err, redisurl.ErrUnreachable) || !errors.Is(err, redisurl.ErrRejected) {
		t.Fatalf("Ping with a wrong password = %v, want ErrUnreachable and ErrRejected", err)
	}
	if strings.Contains(err.Error(), "wrong-pw-123") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestTLSWithCAFile(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{TLS: true, Password: "tls-pw"})
	if !strings.HasPrefix(srv.URL(), "rediss://") {
		t.Fatalf("harness URL %s is not rediss", srv.URL())
	}
	roundTrip(t, srv.URL(), redisurl.Options{CAFile: srv.CAFile()}, redisurl.ModeSingle)

	// Without the CA the server's certificate is not trusted.
	client, target, err := redisurl.NewClient(srv.URL(), redisurl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := redisurl.Ping(ctx, client, target); !errors.Is(err, redisurl.ErrUnreachable) || !errors.Is(err, redisurl.ErrRejected) {
		t.Fatalf("Ping without the CA = %v, want ErrUnreachable and ErrRejected", err)
	}
}

func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, redistest.ClusterOptions{})
	addrs := c.Addrs()
	roundTrip(t, c.URL(), redisurl.Options{}, redisurl.ModeCluster)
	roundTrip(t, "redis://"+strings.Join(addrs, ","), redisurl.Options{}, redisurl.ModeCluster)
	roundTrip(t, "redis+cluster://"+addrs[1], redisurl.Options{}, redisurl.ModeCluster)
}

func TestSentinel(t *testing.T) {
	t.Parallel()
	master := redistest.StartServer(t, redistest.ServerOptions{Password: "master-pw"})
	sentinel := startSentinel(t, master.Addr(), "master-pw")
	roundTrip(t, "redis+sentinel://:master-pw@"+sentinel+"/mymaster/1", redisurl.Options{}, redisurl.ModeSentinel)
	roundTrip(t, "redis://:master-pw@"+sentinel+"/1", redisurl.Options{SentinelMaster: "mymaster"}, redisurl.ModeSentinel)
}

// startSentinel runs redis-server in Sentinel mode monitoring the master at
// addr as "mymaster", and returns its address.
func startSentinel(t *testing.T, addr, password string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	host, mport, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor mymaster %s %s 1\nsentinel auth-pass mymaster %s\n",
		port, dir, host, mport, password)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := redistest.StartProcess(cmd); err != nil {
		t.Fatalf("start sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sa := fmt.Sprintf("127.0.0.1:%d", port)
	sc := redis.NewSentinelClient(&redis.Options{Addr: sa, ContextTimeoutEnabled: true})
	defer sc.Close()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		cancel()
		if err == nil {
			return sa
		}
		if i == 100 {
			t.Fatalf("sentinel at %s does not answer: %v", sa, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestParseErrorsNameTheProblemWithoutSecrets(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A CA file is read up to 1 MiB: one of exactly that size is read (and
	// holds no certificate), one byte more is refused for its size.
	edge, big := filepath.Join(t.TempDir(), "edge.pem"), filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(edge, bytes.Repeat([]byte("x"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 1<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		raw  string
		opts redisurl.Options
		want string
	}{
		{"", redisurl.Options{}, "empty"},
		{"localhost:6379", redisurl.Options{}, "no scheme"},
		{"http://u:topsecret@host:1", redisurl.Options{}, `scheme "http"`},
		{"redis://u:topsecret@host:notaport", redisurl.Options{}, "port"},
		{"redis://u:topsecret@host:1/notadb", redisurl.Options{}, "database"},
		{"redis://u:topsecret@host:1?nosuch=1", redisurl.Options{}, "nosuch"},
		{"redis://u:topsecret@h1:1,,h2:2", redisurl.Options{}, "empty address"},
		{"redis://u:topsecret@h1:1,h2:2/3", redisurl.Options{}, "database"},
		{"redis+sentinel://u:topsecret@h1:26379", redisurl.Options{}, "master"},
		{"redis+nope://h:1", redisurl.Options{}, "+cluster or +sentinel"},
		{"redis://u:topsecret@h:1", redisurl.Options{CAFile: ca}, "not TLS"},
		{"rediss://u:topsecret@h:1", redisurl.Options{CAFile: ca}, "no PEM certificate"},
		{"rediss://u:topsecret@h:1", redisurl.Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}, "no such file"},
		{"rediss://u:topsecret@h:1", redisurl.Options{CAFile: "/dev/zero"}, "CA file /dev/zero is over 1048576 bytes"},
		{"rediss://u:topsecret@h:1", redisurl.Options{CAFile: t.TempDir()}, "is a directory"},
		{"rediss://u:topsecret@h:1", redisurl.Options{CAFile: big}, "is over 1048576 bytes"},
		{"rediss://u:topsecret@h:1", redisurl.Options{CAFile: edge}, "no PEM certificate"},
		{"redis+cluster://u:topsecret@h:1", redisurl.Options{SentinelMaster: "m"}, "cannot go with"},
		{"redis+sentinel://h:1/m?sentinel_password=topsecret&bad=1", redisurl.Options{}, "bad"},
		{"redis://u:top/secret@h:1", redisurl.Options{}, "percent-encoded"},
		{"redis://u:top%secret@h:1", redisurl.Options{}, "not valid percent-encoding"},
		{"u:topsecret@h:1", redisurl.Options{}, "no scheme"},
		{"redis://u:topsecret@h:1/-1", redisurl.Options{}, `database "-1"`},
		{"unix://u:topsecret@/tmp/r.sock?db=-3", redisurl.Options{}, `database "-3"`},
		{"redis+sentinel://u:topsecret@h:1/m/-2", redisurl.Options{}, `database "-2"`},
		{"redis://u:topsecret@h:99999/0", redisurl.Options{}, `port "99999" of address "h:99999" (want a number from 1 to 65535)`},
		{"redis://u:topsecret@h:0", redisurl.Options{}, `port "0"`},
		{"rediss://u:topsecret@h:65536", redisurl.Options{}, `port "65536"`},
		{"redis://u:topsecret@h1:1,h2:70000", redisurl.Options{}, `port "70000" of address "h2:70000"`},
		{"redis://u:topsecret@h:1?addr=h2:123456", redisurl.Options{}, `port "123456"`},
		{"redis+sentinel://u:topsecret@s1:26379,s2:99999/m", redisurl.Options{}, `port "99999" of address "s2:99999"`},
		{"redis://u:topsecret@[::1]:99999", redisurl.Options{}, `port "99999"`},
		{"redis://u:topsecret@127.0.0.1:/0", redisurl.Options{}, `port "" of address "127.0.0.1:" (want a number from 1 to 65535, or no ':' for the default 6379)`},
		{"redis://u:topsecret@h1:1,h2:/0", redisurl.Options{}, `port "" of address "h2:"`},
		{"redis+sentinel://u:topsecret@s1:/m", redisurl.Options{}, `port "" of address "s1:"`},
		{"redis://u:topsecret@[::1]:", redisurl.Options{}, `port "" of address "[::1]:"`},
		// A pair net/url cannot read, which it would drop without a word.
		{"redis://u:topsecret@h:1/0?dial_timeout=%zz", redisurl.Options{}, `query parameter "dial_timeout" cannot be read`},
		{"redis://u:topsecret@h:1/0?dial_timeout=1s;max_retries=2", redisurl.Options{}, `query parameter "dial_timeout" cannot be read`},
		{"redis+sentinel://s1:26379/m?sentinel_password=top%zzsecret", redisurl.Options{}, `query parameter "sentinel_password" cannot be read`},
		{"redis+cluster://u:topsecret@h:1?%zz=1", redisurl.Options{}, `query parameter 1 cannot be read`},
		{"unix://u:topsecret@/tmp/r.sock?db=1&x=%g", redisurl.Options{}, `query parameter "x" cannot be read`},
		// A fragment, which they would drop as well.
		{"redis://u:topsecret@h:1/0#db=2", redisurl.Options{}, "has a fragment"},
		// A database in the path and in the query, which go-redis would take
		// from the query without a word.
		{"redis://u:topsecret@h:1/0?db=1", redisurl.Options{}, "the database is given twice, as /0 and db=1 (want one of them)"},
		{"redis+cluster://u:topsecret@h:1?read_timeout=1s#x", redisurl.Options{}, "has a fragment"},
	} {
		_, err := redisurl.Parse(tc.raw, tc.opts)
		if !errors.Is(err, redisurl.ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", tc.raw, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %q, want it to mention %q", tc.raw, err, tc.want)
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("Parse(%q) error shows the password: %q", tc.raw, err)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"redis://localhost:6379/0":                       "redis://localhost:6379/0",
		"redis://user:pw@localhost:6379/0":               "redis://user:xxxxx@localhost:6379/0",
		"rediss://:p%40ss@h1:1,h2:2?dial_timeout=3":      "rediss://:xxxxx@h1:1,h2:2?dial_timeout=3",
		"redis://user@h:1":                               "redis://user@h:1",
		"redis+sentinel://h:1/m?sentinel_password=s&x=1": "redis+sentinel://h:1/m?sentinel_password=xxxxx&x=1",
		"not a url with:colon@":                          "xxxxx@",
		"app:pw@h:1":                                     "xxxxx@h:1",
		"redis://app:Zx9/Qw8+pw==@h:1/0":                 "redis://xxxxx@h:1/0",
		"redis://S3cr3t:p@ss/w%rd@h:1/0":                 "redis://xxxxx@h:1/0",
		"redis://app:p@ss@h:1/0":                         "redis://app:xxxxx@h:1/0",
		"redis://app@Secret9@h:1/0":                      "redis://xxxxx@h:1/0",
		"redis+sentinel://u@pw@s1:1,s2:2/m":              "redis+sentinel://xxxxx@s1:1,s2:2/m",
		"redis://a@b:c@h:1":                              "redis://xxxxx@h:1",
		"redis://user@h:99999":                           "redis://user@h:99999",
	} {
		if got := redisurl.Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestPingUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	client, target, err := redisurl.NewClient("redis://:pw-unreach@"+addr+"?dial_timeout=1s&max_retries=-1", redisurl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	err = redisurl.Ping(context.Background(), client, target)
	if !errors.Is(err, redisurl.ErrUnreachable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "pw-unreach") {
		t.Fatalf("Ping = %v, want ErrUnreachable naming %s without the password", err, addr)
	}
	if errors.Is(err, redisurl.ErrRejected) {
		t.Fatalf("Ping of a closed port = %v: a refusal is not a rejection (retrying can help)", err)
	}
}

func TestUnixSocket(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "redis.sock")
	redistest.StartServer(t, redistest.ServerOptions{Args: []string{"unixsocket " + sock, "unixsocketperm 700"}})
	roundTrip(t, "unix://"+sock+"?db=3", redisurl.Options{}, redisurl.ModeSingle)
}

func TestParseModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw   string
		mode  redisurl.Mode
		tls   bool
		addrs int
	}{
		{"redis://h:1/2", redisurl.ModeSingle, false, 1},
		{"rediss://h:1", redisurl.ModeSingle, true, 1},
		{"rediss+cluster://u:p@h:1?dial_timeout=2s", redisurl.ModeCluster, true, 1},
		{"redis://h1:1, h2:2 ,h3:3", redisurl.ModeCluster, false, 3},
		{"rediss+sentinel://s1:26379,s2:26379/m", redisurl.ModeSentinel, true, 2},
	} {
		target, err := redisurl.Parse(tc.raw, redisurl.Options{})
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.raw, err)
			continue
		}
		if target.Mode != tc.mode || target.TLS != tc.tls || len(target.Addrs) != tc.addrs {
			t.Errorf("Parse(%q) = %s tls=%v %v, want %s tls=%v with %d addresses", tc.raw, target.Mode, target.TLS, target.Addrs, tc.mode, tc.tls, tc.addrs)
		}
	}
}

// TestTLSToAPlainServer: a rediss URL to a server that does not speak TLS
// fails within the URL's dial timeout (not after the caller's deadline,
// go-redis's pool retrying the dial five times), saying the server may not
// speak TLS and to use redis://; before, it failed with "context deadline
// exceeded" when the caller's deadline ran out. Whatever the server makes
// of the ClientHello (it waits for more, answers an error, or closes), the
// hint is given.
func TestTLSToAPlainServer(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	for i := range 3 {
		client, target, err := redisurl.NewClient("rediss://"+srv.Addr()+"/0?dial_timeout=1s", redisurl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		err = redisurl.Ping(ctx, client, target)
		took := time.Since(start)
		cancel()
		client.Close()
		if !errors.Is(err, redisurl.ErrUnreachable) || !strings.Contains(err.Error(), "the server may not speak TLS (for a plain server, use redis:// instead of rediss://)") {
			t.Errorf("attempt %d: Ping of a plain server with rediss:// = %v; want ErrUnreachable with the hint to use redis://", i, err)
		}
		if took > 1800*time.Millisecond {
			t.Errorf("attempt %d: Ping of a plain server with rediss:// took %v; want it to fail within its 1s dial timeout", i, took.Round(time.Millisecond))
		}
	}
	// The same server through redis:// answers: nothing else was wrong.
	roundTrip(t, "redis://"+srv.Addr()+"/0", redisurl.Options{}, redisurl.ModeSingle)

	// A server that answers a plain-text error, and one that closes the
	// connection, get the hint too; the first is a rejection (retrying
	// cannot help), the second is not.
	for _, tc := range []struct {
		name     string
		answer   func(net.Conn)
		rejected bool
	}{
		{"answers plain text", func(c net.Conn) { _, _ = c.Write([]byte("-ERR unknown command\r\n")) }, true},
		{"closes", func(net.Conn) {}, false},
	} {
		addr := fakeServer(t, tc.answer)
		client, target, err := redisurl.NewClient("rediss://"+addr+"/0?dial_timeout=1s", redisurl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = redisurl.Ping(ctx, client, target)
		cancel()
		client.Close()
		if !errors.Is(err, redisurl.ErrUnreachable) || errors.Is(err, redisurl.ErrRejected) != tc.rejected ||
			!strings.Contains(err.Error(), "use redis:// instead of rediss://") {
			t.Errorf("Ping with rediss:// of a server that %s = %v; want ErrUnreachable (rejected: %v) with the hint to use redis://", tc.name, err, tc.rejected)
		}
	}
}

// fakeServer listens on loopback until the test ends; each connection
// gets answer (after the client's first bytes), then is closed.
func fakeServer(t *testing.T, answer func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Read(make([]byte, 4096))
				answer(c)
			}()
		}
	}()
	return l.Addr().String()
}
