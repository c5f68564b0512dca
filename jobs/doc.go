// Package jobs is the Asynq side of fanin: task types, the producer, the
// worker runtime, the sweeper and the coordinator.
//
// A Producer submits a job: Submit for a known list of events, or Open,
// Job.Add (as many calls as needed) and Job.Seal for a stream. Events travel
// as Asynq tasks of type TypeEvents, several per task (ProducerConfig.
// ChunkSize), enqueued with Asynq's public client API so asynqmon and the
// Inspector see them.
//
// A Mux is the worker runtime, an asynq.Handler: register typed handlers
// with Handle (JSON in, JSON out) or raw ones with HandleRaw, and serve it
// for TypeEvents:
//
//	mux, _ := jobs.NewMux(redisClient, store, jobs.MuxConfig{})
//	_ = jobs.Handle(mux, "zombies.sighting", func(ctx context.Context, s Sighting) (Analysis, error) {
//		return analyse(jobs.JobID(ctx), jobs.EventID(ctx), s)
//	})
//	srv := asynq.NewServerFromRedisClient(redisClient, asynq.Config{})
//	_ = srv.Run(mux)
//
// # Delivery
//
// Asynq delivers a task at least once: a task whose lease expires runs
// again, possibly while the first run is still going. fanin makes the
// recorded outcome exactly once: an event's first output wins, a retried
// chunk skips the events that have an output, and the job's completion is
// detected by exactly one atomic script call, whose caller hands the job to
// the coordinator (handoff.go: an announcement, then the collect task,
// TypeCollect, task ID "collect:<job ID>"). A handler's side effects outside
// fanin (an e-mail, a payment) may still happen twice and must be idempotent
// on their own, for example keyed by JobID and EventID.
//
// A worker that crashes after completing a job but before its hand-off loses
// nothing: Asynq redelivers the chunk, and the Mux, finding the job
// complete, hands it off again; the coordinator's sweep collects any job
// whose hand-off was lost. A Redis outage is ridden out by the producer,
// the worker and the coordinator alike (outage.go): every store call that
// changes a job is idempotent.
//
// # Coordinator
//
// A Coordinator turns a job's outputs into one result, committed exactly
// once however many coordinators run. Register a Reducer per kind (a
// one-method interface, ReducerFunc, or the built-ins JSONLines, Count and
// Fold) and run the daemon:
//
//	c, _ := jobs.NewCoordinator(redisClient, store, jobs.CoordinatorConfig{})
//	_ = c.Handle("zombies.sighting", jobs.Fold(newTally, addSighting, nil))
//	_ = c.Run(ctx)
//
// Per job it takes the job's lock (locks, renewed by a watchdog) and its
// fencing token, claims the job (complete → collecting; writes stop),
// streams the outputs into the reducer page by page (Input.Outputs,
// Outputs[T], which decodes a large job's outputs on every CPU while the
// reducer folds them), and commits the result with one Lua call that checks the
// token, moves the job to done, partial or failed and applies its retention.
// A coordinator that lost its lock is rejected (locks.ErrFenced). A job past
// its deadline is collected with what it has; its failure policy makes it
// partial or failed, and so does a job never sealed; a job whose kind no
// coordinator reduces by its deadline fails. Replay reduces a collected job
// again while its outputs are retained.
//
// The worker that completes a job announces it on a pub/sub channel, so an
// idle coordinator starts at once; the collect task (TypeCollect) and the
// coordinator's sweep are the durable fallbacks.
//
// # Operations
//
// Each event runs under a timeout (MuxConfig.EventTimeout, or the job's
// workoutput.Spec.EventTimeout): past it the attempt fails with a
// TimeoutError and is retried. A failed attempt is noted at once for
// status (workoutput.Store.Note); an event failed for good keeps its
// payload, and Producer.Retry puts a failed or partial job's failed events
// back to work. Workers and coordinators announce the kinds they serve with
// a heartbeat (Registry); Gaps and JobGaps say what nobody serves.
package jobs
