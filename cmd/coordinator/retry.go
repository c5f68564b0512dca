package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/fanin-dev/fanin/internal/refusal"
	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

func (a *app) retryCmd() *cobra.Command {
	var (
		queue       string
		replicaWait time.Duration
		f           follow
	)
	cmd := &cobra.Command{
		Use:   "retry JOB",
		Short: "Run the failed events of a failed or partial job again",
		Long: `retry puts the failed events of JOB, a failed or partial job, back to work:
each runs again on the workers with a fresh count of attempts, from the
payload the worker kept with its failure; the outputs already written stay.
The job runs again (a new deadline, as long as its first) and, once every
event has an output or a failure, is reduced and committed again, under a
new fencing token, by a coordinator. It prints how many events were put back
(with --wait, it follows the job to its result, like collect --wait).

Refused (exit 1, nothing changes) for a job that is not failed or partial,
whose data is no longer retained (--retention, 24h by default), that was
never sealed, or that has missing events: events that never ran (their
chunk lost, no worker before the deadline) have no payload kept, and only
their producer can submit them again.`,
		Args: cobra.ExactArgs(1),
		RunE: a.withJob(func(ctx context.Context, id string, client redis.UniversalClient, store *workoutput.Store) error {
			if _, err := a.common.CheckQueues(queue); err != nil {
				return err
			}
			if err := checkOut(f.out); err != nil {
				return err // before putting events back to work
			}
			p, err := jobs.NewProducer(client, store, jobs.ProducerConfig{Queue: queue, CollectQueue: a.common.CollectQueue,
				ReplicaWait: replicaWait, OnRetry: a.waitingLine(replicaWait)})
			if err != nil {
				return usage("%v", err)
			}
			res, err := p.Retry(ctx, id)
			if err != nil {
				return statusErr(refusal.Retry(ctx, store, id, err))
			}
			if !f.wait {
				if a.json {
					return json.NewEncoder(a.stdout).Encode(map[string]any{"job": id, "events": res.Events, "deadline": res.Deadline.UTC(), "again": res.Again})
				}
				_, err := fmt.Fprintf(a.stdout, "job %s runs again: %d events put back to work (deadline %s)\n", id, res.Events, res.Deadline.UTC().Format(time.RFC3339))
				return err
			}
			fmt.Fprintf(a.stderr, "job %s runs again: %d events put back to work\n", id, res.Events)
			return a.collect(ctx, client, store, id, f)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&queue, "queue", jobs.DefaultQueue, "Asynq queue to put the events on (workers serve it with --queues; default NAMESPACE:default under a --namespace other than fanin:)")
	fs.DurationVar(&replicaWait, "replica-wait", jobs.DefaultReplicaWait, "how long each step is retried while Redis, or with --replica-acks its replicas, do not acknowledge it (env "+settings.EnvReplicaWait+")")
	f.addFlags(fs)
	return cmd
}
