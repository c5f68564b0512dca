package refusal

import (
	"errors"
	"fmt"

	"github.com/fanin-dev/fanin/workoutput"
)

// NotFound names the namespace searched when err says a job was not found
// (workoutput.ErrJobNotFound), followed by hint (what sets the namespace,
// for whoever reads it); other errors are returned as they are. A job
// looked up under the wrong namespace is not found, and without the
// namespace the message reads as if the job never existed.
func NotFound(err error, namespace, hint string) error {
	if !errors.Is(err, workoutput.ErrJobNotFound) {
		return err
	}
	if hint != "" {
		hint = "; " + hint
	}
	return fmt.Errorf("%w; looked in namespace %q%s", err, namespace, hint)
}
