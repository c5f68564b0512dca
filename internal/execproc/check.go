package execproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"regexp"
	"strings"
)

// plainWord is a first word of a command that the shell takes as it is:
// no quoting, expansion or assignment, so it names the program to run.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./+@%:,-]+$`)

// CheckCommand finds the mistakes of a co-process or reducer command (run
// with "sh -c") that would otherwise fail every event or job of its kind,
// one by one, once work arrives: a syntax error (sh -n), and a first word
// that names no program sh can run: a path that is missing, a directory or
// not executable, or a name that is neither in PATH nor a builtin or
// keyword of sh. A first word that is quoted, expanded or an assignment is
// not looked at. Nothing of the command runs. The error wraps ErrInvalid.
func CheckCommand(ctx context.Context, command string) error {
	if ok, stderr, err := runSh(ctx, "-n", "-c", command); err != nil {
		return fmt.Errorf("%w: cannot run sh to check %q: %v", ErrInvalid, command, err)
	} else if !ok {
		return fmt.Errorf("%w: %q is not a valid sh command: %s", ErrInvalid, command, stderr)
	}
	fields := strings.Fields(command)
	if len(fields) == 0 {
		return fmt.Errorf("%w: the command is empty", ErrInvalid)
	}
	word := fields[0]
	if !plainWord.MatchString(word) {
		return nil
	}
	if strings.Contains(word, "/") {
		// A path: sh runs it only if it is an executable file.
		if _, err := exec.LookPath(word); err != nil {
			reason := errors.Unwrap(err) // of exec.Error
			var path *fs.PathError
			if errors.As(err, &path) {
				reason = path.Err
			}
			return fmt.Errorf("%w: %q runs %s, which is not an executable file: %v", ErrInvalid, command, word, reason)
		}
		return nil
	}
	// A name: in PATH, or a builtin, keyword or alias of sh.
	if ok, _, err := runSh(ctx, "-c", `command -v "$1" >/dev/null`, "sh", word); err != nil {
		return fmt.Errorf("%w: cannot run sh to check %q: %v", ErrInvalid, command, err)
	} else if !ok {
		return fmt.Errorf("%w: %q runs %s, which sh does not find (not in PATH, nor a builtin)", ErrInvalid, command, word)
	}
	return nil
}

// runSh runs sh with args and reports whether it exited 0, with its
// stderr otherwise; err is for an sh that could not run at all.
func runSh(ctx context.Context, args ...string) (ok bool, stderr string, err error) {
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", args...)
	cmd.Stderr = &buf
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return false, "", err
		}
		return false, strings.TrimSpace(buf.String()), nil
	}
	return true, "", nil
}
