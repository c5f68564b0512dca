// Command worker runs a fanin worker pool: it serves the Asynq queues that
// carry the events of fanin jobs, runs each event's handler and records its
// output in the job's Redis hash. The zombies example's handler
// (zombies.sighting) is built in; --exec KIND=COMMAND adds handlers written
// in any language (see --help).
//
// On SIGTERM or SIGINT the worker stops taking tasks, lets the events in
// flight finish for --shutdown-timeout, and puts the unfinished ones back
// in their queue: nothing is lost.
package main
