package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/fanin-dev/fanin/workoutput"
)

// The calls of regressions_test.go whose shape changed with the lifecycle
// rewrite (issue 12) go through these helpers, so that the regression tests
// themselves also compile against the code before it: swapping this file
// for one with the older calls shows each test failing there.

// sweepSlack is how far past a job's deadline a sweep must look to find it.
const sweepSlack = workoutput.DefaultSweepDelay + time.Second

// tryWrite records outputs and failures and returns Write's answer.
func tryWrite(ctx context.Context, store *workoutput.Store, jobID string, outs []workoutput.Output, fails []workoutput.Failure) (workoutput.WriteResult, error) {
	return store.Write(ctx, jobID, workoutput.Record{Outputs: outs, Failures: fails})
}

// claimWith claims jobID with token in mode.
func claimWith(ctx context.Context, store *workoutput.Store, jobID string, token int64, mode workoutput.ClaimMode) (workoutput.State, error) {
	return store.Claim(ctx, workoutput.Claim{JobID: jobID, Token: token, Mode: mode})
}

// storeSweep runs the store's sweep at now.
func storeSweep(ctx context.Context, store *workoutput.Store, now time.Time) (workoutput.SweepResult, error) {
	return store.Sweep(ctx, now, time.Minute)
}

// isInternal reports whether err is of the class of a bug or foreign data.
func isInternal(err error) bool { return errors.Is(err, workoutput.ErrInternal) }

// isPermission reports whether err is a refusal for want of rights.
func isPermission(err error) bool { return errors.Is(err, workoutput.ErrPermission) }

// stateRunning is the state of a sealed job whose events are being
// processed.
const stateRunning = workoutput.StateRunning

// gatherBudget is a store configuration whose Gather holds at most budget
// bytes of outputs.
func gatherBudget(budget int) workoutput.Config { return workoutput.Config{GatherBudget: budget} }
