package settings_test

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/fanin-dev/fanin/internal/settings"
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
	if c.URL() != "redis://short:1" || c.Namespace != "env:" || c.LogLevel != "warn" || c.CollectQueue != settings.DefaultCollectQueue {
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
