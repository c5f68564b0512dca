package jobs

// The one Redis key name jobs builds: Asynq owns its keys, and jobs only
// names the slot of a queue, so that workoutput.Store.SyncReplicas can wait
// for the replicas of the master holding the queue's tasks.

// asynqQueueKey is a key in the slot of Asynq queue queue: Asynq names
// every key of a queue "asynq:{<queue>}:...", with the queue as hash tag.
func asynqQueueKey(queue string) string { return "asynq:{" + queue + "}:pending" }
