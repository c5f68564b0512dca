package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
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

// ServerOptions configures a redis-server process started by StartServer.
// The zero value is a plain server without persistence, password or TLS.
type ServerOptions struct {
	// AppendFsync turns on AOF persistence with this appendfsync policy:
	// "always" or "everysec". Empty (the default) means no persistence.
	AppendFsync string
	// Password is required of the default user when set (requirepass).
	// Default: none.
	Password string
	// Users are ACL users created at start. Default: none.
	Users []ACLUser
	// TLS serves TLS only, with a CA and certificates generated for the
	// test. Default: plain TCP.
	TLS bool
	// Args are extra configuration lines, such as "maxmemory 64mb".
	Args []string

	cluster bool
}

// ACLUser is a Redis ACL user.
type ACLUser struct {
	// Name is the user name.
	Name string
	// Password is the user's password.
	Password string
	// Rules are the ACL rules; default "~* &* +@all".
	Rules string
}

// Server is a redis-server process owned by a test.
type Server struct {
	opts ServerOptions
	dir  string
	port int
	ca   *testCA

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartServer starts a dedicated redis-server on a free loopback port. It
// needs redis-server on PATH. The server is stopped and its directory removed
// when the test ends.
func StartServer(tb testing.TB, opts ServerOptions) *Server {
	tb.Helper()
	s, err := startServer(opts)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(s.stop)
	return s
}

func startServer(opts ServerOptions) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is not on PATH: %s", howToGetRedis)
	}
	switch opts.AppendFsync {
	case "", "always", "everysec":
	default:
		return nil, fmt.Errorf("AppendFsync %q: want \"\", \"always\" or \"everysec\"", opts.AppendFsync)
	}
	dir, err := makeTempDir()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, dir: dir}
	if opts.TLS {
		if s.ca, err = newTestCA(dir); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("generate test certificates: %w", err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ { // a free port can be taken between probe and bind
		if s.port, err = freePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err = s.writeConfig(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if lastErr = s.launch(bin); lastErr == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func (s *Server) writeConfig() error {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("bind 127.0.0.1")
	if s.opts.TLS {
		line("port 0")
		line("tls-port %d", s.port)
		line("tls-cert-file %s", s.ca.certFile)
		line("tls-key-file %s", s.ca.keyFile)
		line("tls-ca-cert-file %s", s.ca.caFile)
		line("tls-auth-clients optional")
		if s.opts.cluster {
			line("tls-cluster yes")
		}
	} else {
		line("port %d", s.port)
	}
	line("dir %s", s.dir)
	line("logfile %s", filepath.Join(s.dir, "redis.log"))
	line("daemonize no")
	line("protected-mode no")
	line(`save ""`)
	if s.opts.AppendFsync != "" {
		line("appendonly yes")
		line("appendfsync %s", s.opts.AppendFsync)
	} else {
		line("appendonly no")
	}
	if s.opts.Password != "" {
		line("requirepass %s", s.opts.Password)
	}
	for _, u := range s.opts.Users {
		rules := u.Rules
		if rules == "" {
			rules = "~* &* +@all"
		}
		line("user %s on >%s %s", u.Name, u.Password, rules)
	}
	if s.opts.cluster {
		line("cluster-enabled yes")
		line("cluster-config-file nodes.conf")
		line("cluster-node-timeout 2000")
		line("cluster-require-full-coverage yes")
	}
	for _, a := range s.opts.Args {
		line("%s", a)
	}
	return os.WriteFile(filepath.Join(s.dir, "redis.conf"), []byte(b.String()), 0o600)
}

// launch starts the process and waits until it answers PING.
func (s *Server) launch(bin string) error {
	cmd := exec.Command(bin, filepath.Join(s.dir, "redis.conf"))
	cmd.Dir = s.dir
	if err := startChild(cmd); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	client := redis.NewClient(s.Options())
	defer client.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := client.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start (port %d): %s", s.port, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redis-server on port %d did not answer PING within 15s: %v: %s", s.port, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logTail returns the last lines of the server's log, for error messages.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's port.
func (s *Server) Port() int { return s.port }

// Dir returns the server's data directory (it holds redis.conf, redis.log
// and the AOF files).
func (s *Server) Dir() string { return s.dir }

// PID returns the process ID of the running server, or 0 when it is not
// running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	select {
	case <-s.done:
		return 0
	default:
		return s.cmd.Process.Pid
	}
}

// TLSConfig returns a client TLS configuration that trusts the test CA, or
// nil for a plain server.
func (s *Server) TLSConfig() *tls.Config {
	if s.ca == nil {
		return nil
	}
	return s.ca.clientConfig()
}

// CAFile returns the path of the test CA certificate (PEM), or "" for a plain
// server.
func (s *Server) CAFile() string {
	if s.ca == nil {
		return ""
	}
	return s.ca.caFile
}

// URL returns a redis:// (or rediss://) URL for the server, with the default
// user's password when one is set. A TLS client also needs the CA (CAFile).
func (s *Server) URL() string {
	u := url.URL{Scheme: "redis", Host: s.Addr(), Path: "/0"}
	if s.opts.TLS {
		u.Scheme = "rediss"
	}
	if s.opts.Password != "" {
		u.User = url.UserPassword("default", s.opts.Password)
	}
	return u.String()
}

// Options returns go-redis options for the server as the default user, with
// context deadlines honoured.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Addr:                  s.Addr(),
		Password:              s.opts.Password,
		TLSConfig:             s.TLSConfig(),
		DialTimeout:           2 * time.Second,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
	}
}

// Client returns a client for the server, closed when the test ends.
func (s *Server) Client(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	c := redis.NewClient(s.Options())
	tb.Cleanup(func() { c.Close() })
	return c
}

// Kill stops the server with SIGKILL and waits until it has exited.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	if !s.kill() {
		tb.Fatalf("redistest: Kill: server on port %d is not running", s.port)
	}
}

func (s *Server) kill() bool {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused server must not linger
	_ = cmd.Process.Kill()
	<-done
	return true
}

// Restart starts the server again on the same port and data directory, after
// Kill or Stop (it kills a running server first).
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.kill()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redistest: Restart: %v", err)
	}
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ { // the port may linger briefly
		if lastErr = s.launch(bin); lastErr == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("redistest: Restart on port %d: %v", s.port, lastErr)
}

// Pause stops the server process with SIGSTOP: connections stay open but
// nothing is answered.
func (s *Server) Pause(tb testing.TB) { tb.Helper(); s.signal(tb, syscall.SIGSTOP) }

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume(tb testing.TB) { tb.Helper(); s.signal(tb, syscall.SIGCONT) }

func (s *Server) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil || s.PID() == 0 {
		tb.Fatalf("redistest: signal %v: server on port %d is not running", sig, s.port)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("redistest: signal %v: %v", sig, err)
	}
}

// stop kills the server and removes its directory.
func (s *Server) stop() {
	s.kill()
	os.RemoveAll(s.dir)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tempPrefix names the temporary directories of this package; the PID in
// the name lets a later run remove what a killed run left behind.
const tempPrefix = "fanin-redistest-"

var sweepOnce sync.Once

func makeTempDir() (string, error) {
	sweepOnce.Do(sweepStaleDirs)
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", tempPrefix, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("make temp dir: %w", err)
	}
	return dir, nil
}

// sweepStaleDirs removes directories left by test binaries that are gone.
func sweepStaleDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), tempPrefix)
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(m)
		}
	}
}
