package refusal

import (
	"context"
	"errors"
	"fmt"

	"github.com/fanin-dev/fanin/workoutput"
)

// Retryable says which jobs a retry takes.
const Retryable = "only a failed or partial job whose outputs are still retained can be retried"

// Retry explains a refused retry of job id: besides why (its state, its
// outputs gone), which jobs can be retried, and what to do instead. It
// reads the job's status for that; other errors are returned as they are.
func Retry(ctx context.Context, store *workoutput.Store, id string, err error) error {
	switch {
	case errors.Is(err, workoutput.ErrState):
		hint := ""
		if st, serr := store.Status(ctx, id); serr == nil {
			switch {
			case st.State == workoutput.StateDone:
				hint = " (it has every output: coordinator replay reduces it again)"
			case !st.State.Terminal():
				hint = " (it has not ended yet: coordinator status --watch follows it)"
			}
		}
		return fmt.Errorf("%w; %s%s", err, Retryable, hint)
	case errors.Is(err, workoutput.ErrNotRetained):
		why := fmt.Sprintf("job %s: its outputs are no longer all in Redis", id)
		if st, serr := store.Status(ctx, id); serr == nil && !st.Retained && st.Retention == 0 {
			why = fmt.Sprintf("job %s is %s and had no retention (--retention none): its outputs were deleted when it was committed", id, st.State)
		}
		return fmt.Errorf("%w: %s; %s: submit its events again as a new job", workoutput.ErrNotRetained, why, Retryable)
	}
	return err
}
