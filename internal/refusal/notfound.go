package refusal

import (
	"errors"
	"fmt"

	"github.com/fanin-dev/fanin/internal/settings"
	"github.com/fanin-dev/fanin/workoutput"
)

// NotFound names the namespace searched when err says a job was not found
// (workoutput.ErrJobNotFound), and how to choose another; other errors are
// returned as they are. A job looked up under the wrong namespace is not
// found, and without the namespace the message reads as if the job never
// existed. The CLI and the API (whose server takes the same flag) give
// the same text.
func NotFound(err error, namespace string) error {
	if !errors.Is(err, workoutput.ErrJobNotFound) {
		return err
	}
	return fmt.Errorf("%w; looked in namespace %q; check --namespace (env %s) against the producer's", err, namespace, settings.EnvNamespace)
}
