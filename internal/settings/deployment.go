package settings

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// CheckTimeout bounds WarnOtherDeployment's reads.
const CheckTimeout = 5 * time.Second

// WarnOtherDeployment warns once, on log, when a daemon can see it was
// started against another deployment than the one whose tasks it serves:
// its namespace (store's) has jobs but none of its queues exists in Asynq,
// or one of its queues holds tasks while its namespace has no job (the
// tasks of another namespace: their jobs would not be found). queues are
// the Asynq queues of the daemon's deployment it serves or hands work to;
// role names it ("worker", "coordinator"). It reads Redis for at most
// CheckTimeout; a read that fails is logged at debug and checks nothing.
func WarnOtherDeployment(ctx context.Context, client redis.UniversalClient, store *workoutput.Store, role string, queues []string, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	hasJobs := false
	for _, err := range store.Jobs(ctx) {
		if err != nil {
			log.Debug("deployment check: list jobs", "err", err)
			return
		}
		hasJobs = true
		break
	}
	insp := asynq.NewInspectorFromRedisClient(client)
	known, err := insp.Queues()
	if err != nil {
		log.Debug("deployment check: list queues", "err", err)
		return
	}
	ns := store.Config().Namespace
	var own []string
	for _, q := range queues {
		if slices.Contains(known, q) {
			own = append(own, q)
		}
	}
	if hasJobs && len(own) == 0 {
		log.Warn(role+" started against another deployment? namespace "+ns+" has jobs but none of its queues exists",
			"namespace", ns, "queues", strings.Join(queues, ","), "asynq_queues", strings.Join(known, ","),
			"hint", "check --namespace and the queue flags against the producers'")
		return
	}
	if hasJobs {
		return
	}
	for _, q := range own {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			log.Debug("deployment check: queue info", "queue", q, "err", err)
			return
		}
		if n := info.Pending + info.Scheduled + info.Retry + info.Active; n > 0 {
			log.Warn(role+" started against another deployment? queue "+q+" holds tasks but namespace "+ns+" has no job",
				"namespace", ns, "queue", q, "tasks", n,
				"hint", "their jobs are in another namespace: check --namespace and the queue flags against the producers'")
			return
		}
	}
}

// WarnCollectOverride warns once, on log, when collect, the collect queue
// a coordinator serves, is not d's own: producers must then name it too
// (--collect-queue), and an event chunk a producer sends to it by mistake
// (submit --queue with the same name) is handed to d's events queue, which
// only workers serving that queue process. Its own collect queue says
// nothing.
func WarnCollectOverride(d jobs.Deployment, collect string, log *slog.Logger) {
	if collect == d.CollectQueue() {
		return
	}
	log.Warn("collect queue "+collect+" is an override, not the deployment's own "+d.CollectQueue()+
		": event chunks sent to it by mistake are handed to the events queue "+d.EventsQueue()+", served only by workers of that queue",
		"namespace", d.Namespace(), "collect_queue", collect, "events_queue", d.EventsQueue(),
		"hint", "producers and workers must use --collect-queue "+collect+" too; workers that serve other queues leave such chunks waiting")
}
