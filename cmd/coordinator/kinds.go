package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

func (a *app) kindsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "kinds",
		Short: "List the live workers and coordinators and the kinds they serve",
		Long: `kinds lists the live processes of the deployment, from their heartbeats: each
worker with the kinds it handles and the queues it serves, each coordinator
(coordinator run) with the kinds it reduces. A process announces itself when
it starts and every 5 s; it is gone when it stops, or 15 s after it died.
submit warns (or, with --require-served, refuses) when no live process would
handle or reduce a job's kind; status, inspect and list say what a job waits
for.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			client, store, _, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			members, err := a.members(ctx, client, store)
			if err != nil {
				return err
			}
			if a.json {
				if members == nil {
					members = []jobs.Member{}
				}
				return json.NewEncoder(a.stdout).Encode(members)
			}
			if len(members) == 0 {
				_, err := fmt.Fprintln(a.stdout, "no live worker or coordinator in namespace "+store.Config().Namespace)
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ROLE\tKINDS\tQUEUES\tHOST\tPID\tSEEN\tVERSION")
			for _, m := range members {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s ago\t%s\n", m.Role, strings.Join(m.Kinds, ","), strings.Join(m.Queues, ","),
					m.Host, m.PID, time.Since(m.Seen).Round(time.Second), m.Version)
			}
			return tw.Flush()
		},
	}
}

// members reads the live processes of the deployment.
func (a *app) members(ctx context.Context, client redis.UniversalClient, store *workoutput.Store) ([]jobs.Member, error) {
	reg, err := jobs.NewRegistry(client, jobs.RegistryConfig{Namespace: store.Config().Namespace})
	if err != nil {
		return nil, err
	}
	return reg.Members(ctx)
}

// waiting returns what no live process does for the jobs in sts, per job
// (nil for a job that waits for nothing of the kind), reading the heartbeats
// once. A failed read is logged and shows nothing.
func (a *app) waiting(ctx context.Context, client redis.UniversalClient, store *workoutput.Store, sts ...workoutput.Status) [][]string {
	reg, err := jobs.NewRegistry(client, jobs.RegistryConfig{Namespace: store.Config().Namespace})
	var out [][]string
	if err == nil {
		out, err = reg.Waiting(ctx, sts...)
	}
	if err != nil {
		a.log.Debug("read heartbeats", "err", err)
		return make([][]string, len(sts))
	}
	return out
}
