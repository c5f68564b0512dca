package settings_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/jobs"
)

// TestWarnCollectOverride: a coordinator whose collect queue is an
// override is told, once, where event chunks sent to it by mistake go; its
// deployment's own collect queue says nothing.
func TestWarnCollectOverride(t *testing.T) {
	t.Parallel()
	a, err := jobs.ParseDeployment("a")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d       jobs.Deployment
		collect string
		want    string // "" says nothing
	}{
		{jobs.Deployment{}, "fanin-collect", ""},
		{a, "a:fanin-collect", ""},
		{jobs.Deployment{}, "q1", "collect queue q1 is an override, not the deployment's own fanin-collect: event chunks sent to it by mistake are handed to the events queue default"},
		{a, "a:done", "collect queue a:done is an override, not the deployment's own a:fanin-collect: event chunks sent to it by mistake are handed to the events queue a:default"},
	} {
		var b bytes.Buffer
		settings.WarnCollectOverride(tc.d, tc.collect, slog.New(slog.NewTextHandler(&b, nil)))
		switch {
		case tc.want == "" && b.Len() > 0:
			t.Errorf("%s, collect queue %s: logged %q; want nothing", tc.d, tc.collect, b.String())
		case tc.want != "" && (strings.Count(b.String(), "\n") != 1 || !strings.Contains(b.String(), tc.want) || !strings.Contains(b.String(), "level=WARN")):
			t.Errorf("%s, collect queue %s: logged %q; want one warning %q", tc.d, tc.collect, b.String(), tc.want)
		}
	}
}
