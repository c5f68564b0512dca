package settings_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/fanin-dev/fanin/internal/redisurl"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/jobs"
)

func TestFlagWinsOverEnvWhichWinsOverDefault(t *testing.T) {
	t.Setenv(settings.EnvRedisURLShort, "redis://short:1")
	t.Setenv(settings.EnvNamespace, "env:")
	t.Setenv(settings.EnvLogLevel, "debug")
	var c settings.Common
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse([]string{"--log-level", "warn"}); err != nil {
		t.Fatal(err)
	}
	if err := settings.FromEnv(fs, settings.CommonEnv()); err != nil {
		t.Fatal(err)
	}
	if c.URL() != "redis://short:1" || c.Namespace != "env:" || c.LogLevel != "warn" || c.CollectQueue != "env:"+jobs.DefaultCollectQueue {
		t.Fatalf("settings = %+v", c)
	}
	t.Setenv(settings.EnvRedisURL, "redis://long:2")
	if err := settings.FromEnv(fs, settings.CommonEnv()); err != nil {
		t.Fatal(err)
	}
	if c.URL() != "redis://long:2" {
		t.Fatalf("URL = %s, want FANIN_REDIS_URL to win over REDIS_URL", c.URL())
	}
}

func TestDefaultURL(t *testing.T) {
	t.Parallel()
	var c settings.Common
	c.AddFlags(pflag.NewFlagSet("t", pflag.ContinueOnError))
	if c.URL() != settings.DefaultRedisURL {
		t.Fatalf("URL = %s, want the default", c.URL())
	}
}

func TestQueuesFollowTheNamespace(t *testing.T) {
	t.Setenv(settings.EnvNamespace, "")
	t.Setenv(settings.EnvCollectQueue, "")
	for _, tc := range []struct {
		args            []string
		collect, events string
		envCollect      string
	}{
		{nil, "fanin-collect", "default", ""},
		{[]string{"--namespace", "fanin:"}, "fanin-collect", "default", ""},
		{[]string{"--namespace", "acme:"}, "acme:fanin-collect", "acme:default", ""},
		{[]string{"--namespace", "acme"}, "acme:fanin-collect", "acme:default", ""},
		{[]string{"--namespace", "fanin"}, "fanin-collect", "default", ""},
		{[]string{"--namespace", "acme:", "--collect-queue", "c", "--queue", "q"}, "c", "q", ""},
		{[]string{"--namespace", "acme:"}, "from-env", "acme:default", "from-env"},
	} {
		t.Setenv(settings.EnvCollectQueue, tc.envCollect)
		var c settings.Common
		var queue string
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		c.AddFlags(fs)
		fs.StringVar(&queue, "queue", "default", "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if err := settings.FromEnv(fs, settings.CommonEnv()); err != nil {
			t.Fatal(err)
		}
		if c.CollectQueue != tc.collect || queue != tc.events {
			t.Errorf("%v (env collect %q): collect %q, events %q; want %q, %q", tc.args, tc.envCollect, c.CollectQueue, queue, tc.collect, tc.events)
		}
		if d, err := c.Deployment(); err != nil || tc.envCollect == "" && len(tc.args) == 2 && (d.EventsQueue() != tc.events || d.CollectQueue() != tc.collect) {
			t.Errorf("the deployment of %q = %v, %v", c.Namespace, d, err)
		}
	}
}

func TestWaitForRedisGivesUpAfterMaxWait(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := settings.Common{RedisURL: "redis://app:pw-wait-secret@" + addr + "/0"}
	client, target, err := c.Open("t")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	err = settings.WaitForRedis(context.Background(), client, target, log, 2*time.Second)
	if !errors.Is(err, redisurl.ErrUnreachable) || errors.Is(err, redisurl.ErrRejected) || !strings.Contains(err.Error(), "gave up after --redis-wait 2s") {
		t.Fatalf("WaitForRedis = %v; want ErrUnreachable after the wait", err)
	}
	if n := strings.Count(logs.String(), `msg="Redis unreachable, retrying"`); n < 1 {
		t.Fatalf("%d retry lines, want at least 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String()+err.Error(), "pw-wait-secret") {
		t.Fatalf("the password shows:\n%s\n%v", logs.String(), err)
	}
	// A cancelled context ends the wait with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := settings.WaitForRedis(ctx, client, target, log, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForRedis with a cancelled context = %v", err)
	}
}

// TestFromEnvRefusesBadValues: --redis given empty, negative int and
// duration flags (by flag or environment) and a bad namespace are errors;
// a negative int64 (a seed) is not.
func TestFromEnvRefusesBadValues(t *testing.T) {
	t.Setenv(settings.EnvNamespace, "")
	t.Setenv(settings.EnvRedisWait, "")
	for _, tc := range []struct {
		args []string
		env  string // FANIN_REDIS_WAIT
		want string // "" accepts
	}{
		{nil, "", ""},
		{[]string{"--seed", "-3"}, "", ""},
		{[]string{"--redis", ""}, "", "--redis is empty"},
		{[]string{"--redis", "  "}, "", "--redis is empty"},
		{[]string{"--redis-wait", "-1s"}, "", "--redis-wait -1s: must not be negative"},
		{nil, "-2s", "--redis-wait -2s: must not be negative"},
		{[]string{"--limit", "-1"}, "", "--limit -1: must not be negative"},
		{[]string{"--replica-acks", "-1"}, "", "--replica-acks -1: must not be negative"},
		{[]string{"--namespace", ""}, "", `namespace "": empty`},
		{[]string{"--namespace", "a b"}, "", `namespace "a b": has ' '`},
	} {
		t.Setenv(settings.EnvRedisWait, tc.env)
		var c settings.Common
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		c.AddFlags(fs)
		var wait time.Duration
		settings.AddWaitFlag(fs, &wait)
		fs.Int("limit", 0, "")
		fs.Int64("seed", 0, "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := settings.FromEnv(fs, settings.CommonEnv())
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q (FANIN_REDIS_WAIT=%q): %v; want %q", tc.args, tc.env, err, tc.want)
		}
	}
}

// TestEnvOfGivesEveryFlagAVariable: EnvOf derives a variable for every flag
// (known names kept, help and version left out), names it in the flag's
// help, and FromEnv reads it; a list flag takes one value per line.
func TestEnvOfGivesEveryFlagAVariable(t *testing.T) {
	t.Setenv("FANIN_RUN_SWEEP_INTERVAL", "3s")
	t.Setenv("FANIN_REDUCER", "a=count\n\n b=jsonl ")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var sweep time.Duration
	var reducers []string
	var help bool
	fs.DurationVar(&sweep, "sweep-interval", time.Second, "period of the sweep")
	fs.StringArrayVar(&reducers, "reducer", nil, "KIND=REDUCER")
	fs.BoolVar(&help, "help", false, "help")
	env := settings.EnvOf(fs, "RUN_", map[string][]string{"reducer": {"FANIN_REDUCER"}})
	if got := env["sweep-interval"]; len(got) != 1 || got[0] != "FANIN_RUN_SWEEP_INTERVAL" {
		t.Fatalf("sweep-interval variable = %v", got)
	}
	if _, ok := env["help"]; ok {
		t.Fatal("--help got a variable")
	}
	if u := fs.Lookup("sweep-interval").Usage; u != "period of the sweep (env FANIN_RUN_SWEEP_INTERVAL)" {
		t.Fatalf("usage = %q; want it to name the variable", u)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := settings.FromEnv(fs, env); err != nil {
		t.Fatal(err)
	}
	if sweep != 3*time.Second || len(reducers) != 2 || reducers[0] != "a=count" || reducers[1] != "b=jsonl" {
		t.Fatalf("from the environment: sweep %v, reducers %q", sweep, reducers)
	}
	if settings.EnvName("", "exec-procs") != "FANIN_EXEC_PROCS" {
		t.Fatal("EnvName")
	}
}
