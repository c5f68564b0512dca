// Package execproc runs handlers and reducers written in any language as
// external commands.
//
// A Handler runs a command as a long-lived co-process (through "sh -c"): it
// writes one request per event to the command's stdin as a JSON line,
//
//	{"job":"<job ID>","event":"<event ID>","kind":"<kind>","payload":<the event, JSON>}
//
// and reads one JSON line back from its stdout, either
//
//	{"output":<any JSON>}                  the event's output
//	{"error":"why","permanent":true}       a failure; permanent fails the event at once,
//	                                       otherwise the event is retried
//
// Requests to one co-process are strictly sequential (one line in, one line
// out), so a shell loop is a valid handler; Config.Procs co-processes serve
// in parallel. A co-process that exits, or writes something that is not a
// response, is restarted, and its event is retried. Its stderr goes to the
// worker's log.
//
// A Reducer runs its command once per reduction: the job's outputs go to
// its stdin as JSON lines {"id":"<event ID>","output":<output>}, its stdout
// is the result, and a non-zero exit fails the attempt. The command sees
// the job in FANIN_JOB_ID, FANIN_JOB_KIND, FANIN_JOB_NAME,
// FANIN_JOB_OUTPUTS, FANIN_JOB_FAILED and FANIN_JOB_MISSING.
package execproc
