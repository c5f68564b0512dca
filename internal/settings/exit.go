package settings

import (
	"strings"

	"github.com/fanin-dev/fanin/internal/exitcode"
)

// ExitCode returns the exit code of a command's error: exitcode.Of, except
// that the errors cobra makes itself about the command line (an unknown
// command or extra argument, a wrong number of arguments, a missing
// required flag), which carry no code, are usage errors too.
func ExitCode(err error) int {
	code := exitcode.Of(err)
	if code != exitcode.Failure {
		return code
	}
	msg := err.Error()
	for _, p := range []string{"unknown command ", "accepts ", "requires at least ", "requires at most ", "required flag", "invalid argument "} {
		if strings.Contains(msg, p) {
			return exitcode.Usage
		}
	}
	return code
}
