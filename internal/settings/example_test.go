package settings_test

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/fanin-dev/fanin/internal/settings"
)

// The common flags, parsed from a command line.
func ExampleCommon() {
	var c settings.Common
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	c.AddFlags(fs)
	_ = fs.Parse([]string{"--namespace", "demo"})
	_ = settings.FromEnv(fs, settings.CommonEnv()) // derives the queue names
	d, _ := c.Deployment()
	fmt.Println(c.URL(), d.Namespace(), c.CollectQueue, d.EventsQueue(), d.Channel())
	// Output: redis://127.0.0.1:6379/0 demo: demo:fanin-collect demo:default demo:completed
}
