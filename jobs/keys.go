package jobs

// The Redis key names jobs builds. Asynq owns its keys: jobs only names the
// slot of a queue, so that workoutput.Store.SyncReplicas can wait for the
// replicas of the master holding the queue's tasks. The live processes of a
// deployment (Registry) are under its key prefix; every other key is
// workoutput's.

// asynqQueueKey is a key in the slot of Asynq queue queue: Asynq names
// every key of a queue "asynq:{<queue>}:...", with the queue as hash tag.
func asynqQueueKey(queue string) string { return "asynq:{" + queue + "}:pending" }

// servedKey is the hash of the live processes of the deployment of key
// prefix ns (see Registry): field = a process's instance ID, value = its
// Member as JSON, with the time its heartbeat expires. The key has a TTL,
// renewed by every heartbeat: it goes once no process beats.
func servedKey(ns string) string { return ns + "served" }
