package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables read by the harness.
const (
	// EnvURL names an existing Redis to test against.
	EnvURL = "FANIN_TEST_REDIS_URL"
	// EnvClusterURL names an existing Redis Cluster for NewCluster.
	EnvClusterURL = "FANIN_TEST_REDIS_CLUSTER_URL"
	// EnvMode forces a mode: "url", "docker" or "process".
	EnvMode = "FANIN_TEST_REDIS_MODE"
)

// Mode says where a test's Redis comes from.
type Mode string

// The modes, in the order New tries them.
const (
	ModeURL     Mode = "url"
	ModeDocker  Mode = "docker"
	ModeProcess Mode = "process"
)

const howToGetRedis = "fanin's tests need a real Redis. Provide one of:\n" +
	"  1. FANIN_TEST_REDIS_URL=redis://host:port/db  (an existing server; tests isolate themselves by key prefix)\n" +
	"  2. a running Docker engine (the tests start redis:7 through dockertest)\n" +
	"  3. redis-server on PATH (for example: apt-get install redis-server, or brew install redis);\n" +
	"     `make test` installs it when apt-get is available"

// Redis is one test's isolated view of a shared Redis.
type Redis struct {
	// Client is ready to use and closed when the test ends.
	Client redis.UniversalClient
	// Prefix is unique to the test; every key the test writes should start
	// with it, so tests sharing a server never see each other's keys.
	Prefix string
	// URL reaches the same server (for binaries started by the test).
	URL string
	// Mode says where the server came from.
	Mode Mode
}

// Key returns Prefix followed by parts joined with ":".
func (r *Redis) Key(parts ...string) string { return r.Prefix + strings.Join(parts, ":") }

// sharedServer is the server New hands out, started once per test binary.
type sharedServer struct {
	once    sync.Once
	mode    Mode
	url     string
	opts    func() redis.UniversalClient
	err     error
	stopper func()
}

var (
	single  sharedServer
	cluster sharedServer
)

// New returns an isolated view of the package's shared Redis, or fails the
// test with a message saying how to provide one.
func New(tb testing.TB) *Redis {
	tb.Helper()
	single.once.Do(single.startSingle)
	return single.view(tb)
}

// NewCluster returns an isolated view of the package's shared 3-master Redis
// Cluster: FANIN_TEST_REDIS_CLUSTER_URL when set, otherwise redis-server
// processes started once per test binary.
func NewCluster(tb testing.TB) *Redis {
	tb.Helper()
	cluster.once.Do(cluster.startCluster)
	return cluster.view(tb)
}

func (s *sharedServer) view(tb testing.TB) *Redis {
	tb.Helper()
	if s.err != nil {
		tb.Fatalf("redistest: %v", s.err)
	}
	client := s.opts()
	r := &Redis{Client: client, Prefix: newPrefix(), URL: s.url, Mode: s.mode}
	tb.Cleanup(func() {
		if s.mode == ModeURL { // a server we do not own: remove what this test wrote
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = deleteByPrefix(ctx, client, r.Prefix)
		}
		client.Close()
	})
	return r
}

func (s *sharedServer) startSingle() {
	s.mode, s.err = chooseMode()
	if s.err != nil {
		return
	}
	switch s.mode {
	case ModeURL:
		opts, err := redis.ParseURL(os.Getenv(EnvURL))
		if err != nil {
			s.err = fmt.Errorf("%s: %w", EnvURL, err)
			return
		}
		opts.ContextTimeoutEnabled = true
		s.url = os.Getenv(EnvURL)
		s.opts = func() redis.UniversalClient { return redis.NewClient(opts) }
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c := redis.NewClient(opts)
		defer c.Close()
		if err := c.Ping(ctx).Err(); err != nil {
			s.err = fmt.Errorf("%s=%s does not answer PING: %w", EnvURL, s.url, err)
		}
	case ModeDocker:
		var addr string
		addr, s.stopper, s.err = startDockerRedis()
		if s.err != nil {
			return
		}
		s.url = "redis://" + addr + "/0"
		s.opts = func() redis.UniversalClient {
			return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
		}
	case ModeProcess:
		var srv *Server
		srv, s.err = startServer(ServerOptions{})
		if s.err != nil {
			return
		}
		s.url, s.stopper = srv.URL(), srv.stop
		s.opts = func() redis.UniversalClient { return redis.NewClient(srv.Options()) }
	}
}

func (s *sharedServer) startCluster() {
	if u := os.Getenv(EnvClusterURL); u != "" {
		opts, err := redis.ParseClusterURL(u)
		if err != nil {
			s.err = fmt.Errorf("%s: %w", EnvClusterURL, err)
			return
		}
		opts.ContextTimeoutEnabled = true
		s.mode, s.url = ModeURL, u
		s.opts = func() redis.UniversalClient { return redis.NewClusterClient(opts) }
		return
	}
	c, err := startCluster(ClusterOptions{})
	if err != nil {
		if c != nil {
			c.stop()
		}
		s.err = err
		return
	}
	s.mode, s.url, s.stopper = ModeProcess, c.URL(), c.stop
	s.opts = func() redis.UniversalClient { return redis.NewClusterClient(c.ClusterOptions()) }
}

// chooseMode picks the first available source of a Redis.
func chooseMode() (Mode, error) {
	switch m := Mode(os.Getenv(EnvMode)); m {
	case ModeURL:
		if os.Getenv(EnvURL) == "" {
			return "", fmt.Errorf("%s=url but %s is empty", EnvMode, EnvURL)
		}
		return m, nil
	case ModeDocker:
		if err := dockerAvailable(); err != nil {
			return "", fmt.Errorf("%s=docker but no Docker engine answers: %v", EnvMode, err)
		}
		return m, nil
	case ModeProcess:
		if _, err := exec.LookPath("redis-server"); err != nil {
			return "", fmt.Errorf("%s=process but redis-server is not on PATH.\n%s", EnvMode, howToGetRedis)
		}
		return m, nil
	case "":
	default:
		return "", fmt.Errorf("%s=%q: want url, docker or process", EnvMode, m)
	}
	if os.Getenv(EnvURL) != "" {
		return ModeURL, nil
	}
	if dockerAvailable() == nil {
		return ModeDocker, nil
	}
	if _, err := exec.LookPath("redis-server"); err == nil {
		return ModeProcess, nil
	}
	return "", fmt.Errorf("no Redis available.\n%s", howToGetRedis)
}

func newPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + ":"
}

// deleteByPrefix removes the keys starting with prefix (which holds no glob
// characters: it comes from newPrefix), on every master of a cluster.
func deleteByPrefix(ctx context.Context, c redis.UniversalClient, prefix string) error {
	del := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := node.Unlink(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return del(ctx, m) })
	}
	return del(ctx, c)
}

// Main runs the tests of a package and then stops the shared servers and
// containers the harness started. Call it from TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	for _, s := range []*sharedServer{&single, &cluster} {
		if s.stopper != nil {
			s.stopper()
		}
	}
	os.Exit(code)
}
