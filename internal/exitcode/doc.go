// Package exitcode holds the exit codes of fanin's binaries and maps errors
// to them.
//
//	0  success
//	1  any other error
//	2  usage error: a bad flag or argument, an unreadable or malformed input
//	   file, a malformed Redis URL
//	3  the job failed, ended partial or was cancelled
//	4  Redis unreachable (refused, timed out, TLS or authentication failure)
//	5  not ready: the job has no result yet (collect without --wait), or
//	   --timeout passed first
package exitcode
