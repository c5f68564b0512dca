package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/heapfloor"
	"github.com/fanin-dev/fanin/internal/httpapi"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/jobs"
)

// Settings of coordinator serve.
const (
	// defaultServeAddr is where serve listens by default: loopback only.
	defaultServeAddr = "127.0.0.1:8080"
	// minTokenLen is the shortest --token accepted.
	minTokenLen = 16
	// serveGrace is how long requests in progress (a submission, a replay)
	// may take to finish once serve is asked to stop.
	serveGrace = 30 * time.Second
	// EnvAPIToken is --token; EnvAPIAddr is --addr.
	envAPIToken = "FANIN_API_TOKEN"
	envAPIAddr  = "FANIN_API_ADDR"
)

func (a *app) serveCmd() *cobra.Command {
	var (
		f                    coordinatorFlags
		addr, token          string
		maxBody              string
		insecure, withDaemon bool
		redisWait            time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API and the web dashboard (and, with --run, the daemon)",
		Long: `serve serves, from one port (--addr, default ` + defaultServeAddr + `):
  /api/v1/             the HTTP JSON API: submit jobs as NDJSON, list and follow them
                       (Server-Sent Events), read their results, failed and missing
                       events, cancel, replay and retry them; its OpenAPI document
                       is /api/v1/openapi.json
  /, /jobs/{id}        the dashboard: the jobs with live counts, a job's progress,
                       throughput, failures, missing events, what it waits for,
                       result and actions (cancel, replay, retry)
  /healthz             200 while Redis answers, 503 otherwise
With --run it also runs the coordinator daemon in the same process (as
coordinator run does, without /metrics). Replays use the reducers of --reducer.

Security: serve binds 127.0.0.1 by default. Any other address needs --token
(or FANIN_API_TOKEN, which keeps it out of the process list; at least 16
characters): every request under /api/ must then send "Authorization: Bearer
<token>", and the dashboard asks for it once. --insecure-no-auth serves another
address without a token, on purpose. Without a token, only the Host names
localhost, 127.0.0.1 and ::1 (and --addr's) are served (a defence against DNS
rebinding). Changes are POST only, and refused when a browser sends them from
another site. A request body is at most --max-body bytes and each of its lines
at most 1 MiB (the largest event): 413 past them. The Redis password never
appears in a page, an answer or a log.

SIGTERM or SIGINT stops it: streams end at once, submissions and replays in
progress get 30 s to finish, the daemon's collections are interrupted as
coordinator run's are.

` + reducersHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// --token and --addr read FANIN_API_TOKEN and FANIN_API_ADDR
			// with the other flags (sharedEnv, in PersistentPreRunE).
			hosts, err := checkServeAddr(addr, token, insecure)
			if err != nil {
				return err
			}
			limit, err := parseSize(maxBody)
			if err != nil {
				return usage("--max-body %q: %v (want a size like 1GiB, 512MiB or a number of bytes)", maxBody, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			client, target, store, err := a.common.OpenStore("fanin-coordinator")
			if err != nil {
				return err
			}
			defer client.Close()
			d, err := a.common.CheckQueues()
			if err != nil {
				return err
			}
			c, err := f.build(cmd.Context(), a, client, store, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			api, err := httpapi.New(httpapi.Config{
				Client:       client,
				Store:        store,
				Producer:     jobs.ProducerConfig{Queue: d.EventsQueue(), CollectQueue: a.common.CollectQueue},
				Coordinator:  c,
				Reducers:     c.Kinds(),
				Token:        token,
				AllowedHosts: hosts,
				MaxBody:      limit,
				Logger:       a.log,
			})
			if err != nil {
				return exitcode.With(exitcode.Usage, err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usage("--addr %s: %v", addr, err)
			}
			served := make(chan error, 1)
			go func() { served <- api.Serve(ctx, ln, serveGrace) }()
			auth := "bearer token"
			if token == "" {
				auth = "none (loopback only)"
				if insecure {
					auth = "none (--insecure-no-auth)"
				}
			}
			a.log.Info("serving the API and the dashboard", "url", "http://"+ln.Addr().String()+"/", "auth", auth,
				"redis", target.Redacted, "daemon", withDaemon, "pid", os.Getpid())
			err = settings.WaitForRedis(ctx, client, target, a.log, redisWait)
			switch {
			case err != nil && ctx.Err() == nil:
				stop()
			case err == nil && withDaemon:
				go heapfloor.Pretouch(heapfloor.Floor) // as settings.StartDaemon does
				var left func()
				if left, err = settings.Announce(ctx, client, store.Config().Namespace, jobs.RoleCoordinator, c.Kinds(), []string{a.common.CollectQueue}, a.log); err != nil {
					break
				}
				settings.WarnCollectOverride(d, a.common.CollectQueue, a.log)
				a.log.Info("coordinator started", "collect_queue", a.common.CollectQueue, "concurrency", f.concurrency)
				err = c.Run(ctx)
				left()
			case err == nil:
				<-ctx.Done()
			}
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				err = nil
			}
			if serr := <-served; err == nil {
				err = serr
			}
			a.log.Info("serve stopped")
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", defaultServeAddr, "host:port to serve on; any address but loopback needs --token or --insecure-no-auth (env "+envAPIAddr+")")
	fs.StringVar(&token, "token", "", "bearer token every API request must send, at least 16 characters (env "+envAPIToken+", which keeps it out of the process list)")
	fs.BoolVar(&insecure, "insecure-no-auth", false, "serve an address other than loopback without a token: anyone who reaches it can submit and cancel jobs")
	fs.BoolVar(&withDaemon, "run", false, "also run the coordinator daemon (coordinator run) in this process")
	fs.StringVar(&maxBody, "max-body", "1GiB", "largest request body (POST /jobs); larger ones get 413")
	f.addFlags(fs)
	settings.AddWaitFlag(fs, &redisWait)
	return cmd
}

// checkServeAddr checks --addr against the token flags and returns the
// Host names the server accepts (none: any), or a usage error.
func checkServeAddr(addr, token string, insecure bool) ([]string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usage("--addr %q: %v (want host:port, like %s)", addr, err, defaultServeAddr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, usage("--addr %q: port %q (want a number from 0 to 65535)", addr, port)
	}
	if token != "" && len(token) < minTokenLen {
		return nil, usage("--token has %d characters (want at least %d)", len(token), minTokenLen)
	}
	if token != "" && insecure {
		return nil, usage("--token and --insecure-no-auth contradict each other (give one)")
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || ip != nil && ip.IsLoopback()
	switch {
	case token != "" || insecure && !loopback:
		return nil, nil
	case !loopback:
		return nil, usage("--addr %s is not a loopback address: give --token (or %s) so that the API asks for it, or --insecure-no-auth to serve it to anyone who can reach it", addr, envAPIToken)
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h := strings.ToLower(host); !slices.Contains(hosts, h) {
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// parseSize reads a size in bytes: a number with an optional unit (B, KB,
// KiB, MB, MiB, GB, GiB).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	mult := map[string]float64{"": 1, "B": 1, "KB": 1e3, "KiB": 1 << 10, "MB": 1e6, "MiB": 1 << 20, "GB": 1e9, "GiB": 1 << 30}[unit]
	v, err := strconv.ParseFloat(num, 64)
	switch {
	case err != nil || num == "":
		return 0, fmt.Errorf("not a number")
	case mult == 0:
		return 0, fmt.Errorf("unknown unit %q", unit)
	case v*mult < 1 || v*mult > 1<<50:
		return 0, fmt.Errorf("out of range")
	}
	return int64(v * mult), nil
}
