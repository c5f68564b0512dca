package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/internal/refusal"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// jobJSON is a job as the API shows it: its status (progress.JSON, the
// form `coordinator status --json` prints), with its rate, ETA and the
// actions it offers.
type jobJSON struct {
	progress.JSON
	// Rate is the mean rate since the job was created, in events per
	// second, up to its completion.
	Rate float64 `json:"rate"`
	// ETASeconds is the time left at Rate, for a sealed job still running.
	ETASeconds *float64 `json:"eta_seconds,omitempty"`
	// Actions are the POST operations the job's state allows here
	// (cancel, replay, retry): the dashboard shows a button for each.
	Actions []string `json:"actions"`
	// ObservedAt is when the status was read.
	ObservedAt time.Time `json:"observed_at"`
}

// job returns the JSON form of st, read at now, waiting for what waiting
// says (see waiting). Its texts read as the CLI prints them
// (exitcode.Humanize).
func (s *Server) job(st workoutput.Status, now time.Time, waiting []string) jobJSON {
	j := jobJSON{JSON: progress.NewJSON(st), Actions: []string{}, ObservedAt: now.UTC()}
	j.Waiting = waiting
	j.Error, j.Stalled = exitcode.Humanize(j.Error), exitcode.Humanize(j.Stalled)
	if j.LastError != nil {
		j.LastError.Reason = exitcode.Humanize(j.LastError.Reason)
	}
	end := now
	switch {
	case !st.Completed.IsZero():
		end = st.Completed
	case !st.Finished.IsZero():
		end = st.Finished
	}
	if secs := end.Sub(st.Created).Seconds(); secs > 0 {
		j.Rate = float64(st.Done+st.Failed) / secs
	}
	if st.Sealed && !st.State.Terminal() && st.State != workoutput.StateCollecting && j.Rate > 0 {
		eta := float64(st.Pending) / j.Rate
		j.ETASeconds = &eta
	}
	if _, ok := workoutput.CanMove(st.State, workoutput.StateCancelled); ok {
		j.Actions = append(j.Actions, "cancel")
	}
	if st.State.Committed() && st.Retained && s.cfg.Coordinator != nil && s.reduces[st.Kind] {
		j.Actions = append(j.Actions, "replay")
	}
	if st.CanRetry() {
		j.Actions = append(j.Actions, "retry")
	}
	return j
}

// waiting returns, for each job of sts, what it waits for that no live
// process does ("no worker serves kind "k"", "no coordinator reduces kind
// "k""), from one read of the heartbeats: the waiting of `coordinator
// status`. A failed read is logged and shows nothing.
func (s *Server) waiting(ctx context.Context, sts ...workoutput.Status) [][]string {
	if !slices.ContainsFunc(sts, func(st workoutput.Status) bool { return !st.State.Terminal() }) {
		return make([][]string, len(sts)) // a finished job waits for nothing
	}
	out, err := s.registry.Waiting(ctx, sts...)
	if err != nil {
		s.cfg.Logger.Debug("read heartbeats", "err", err)
		return make([][]string, len(sts))
	}
	return out
}

// jobID returns the job ID of the request's path, or a 400.
func jobID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if err := workoutput.ValidateJobID(id); err != nil {
		return "", errorf(http.StatusBadRequest, codeBadRequest, "%s", exitcode.Message(err))
	}
	return id, nil
}

// statusOf reads the status of the request's job, as Store.Status gives
// it: for the answers that do not show its last error.
func (s *Server) statusOf(ctx context.Context, r *http.Request) (workoutput.Status, error) {
	id, err := jobID(r)
	if err != nil {
		return workoutput.Status{}, err
	}
	return s.cfg.Store.Status(ctx, id)
}

// status reads the status of the request's job to show it: a committed
// job's last error is its latest failure, as the CLI shows it
// (Store.SetFinalLastError, which reads every failure of the job).
func (s *Server) status(ctx context.Context, r *http.Request) (workoutput.Status, error) {
	st, err := s.statusOf(ctx, r)
	if err != nil {
		return st, err
	}
	return st, s.cfg.Store.SetFinalLastError(ctx, &st)
}

// getJob answers GET /jobs/{id}.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context(), r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.job(st, s.cfg.Now(), s.waiting(r.Context(), st)[0]))
}

// cancelJob answers POST /jobs/{id}/cancel with the cancelled job.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err == nil {
		err = s.cfg.Store.Cancel(r.Context(), id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.getJob(w, r)
}

// outcomeJSON is the answer of POST /jobs/{id}/replay.
type outcomeJSON struct {
	ID        string `json:"id"`
	State     string `json:"state"`
	Token     int64  `json:"token"`
	Outputs   int64  `json:"outputs"`
	Failed    int64  `json:"failed"`
	Missing   int64  `json:"missing"`
	Error     string `json:"error,omitempty"`
	Attempts  int    `json:"attempts"`
	SinkError string `json:"sink_error,omitempty"`
}

// replayJob answers POST /jobs/{id}/replay: it reduces the job again with
// the server's reducers, and answers once the new result is committed. The
// replay goes on if the client goes away (its claim would otherwise wait
// for a takeover).
func (s *Server) replayJob(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.cfg.Coordinator == nil {
		s.writeError(w, r, errorf(http.StatusNotImplemented, codeNotImplemented, "this server replays no job: start coordinator serve with --reducer KIND=... for the job's kind"))
		return
	}
	st, err := s.cfg.Store.Status(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.reduces[st.Kind] {
		s.writeError(w, r, errorf(http.StatusConflict, codeConflict, "no reducer for kind %q on this server (start coordinator serve with --reducer %s=...)", st.Kind, st.Kind))
		return
	}
	o, err := s.cfg.Coordinator.Replay(context.WithoutCancel(r.Context()), id)
	out := outcomeJSON{ID: id, State: string(o.State), Token: o.Token, Outputs: o.Outputs, Failed: o.Failed, Missing: o.Missing,
		Error: exitcode.Humanize(o.Error), Attempts: o.Attempts}
	if errors.Is(err, jobs.ErrSink) {
		out.SinkError = exitcode.Message(err) // committed, but a sink failed
	} else if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// retriedJSON is the answer of POST /jobs/{id}/retry.
type retriedJSON struct {
	ID string `json:"id"`
	// Events is the number of events put back to work.
	Events int64 `json:"events"`
	// Deadline is the job's new deadline.
	Deadline time.Time `json:"deadline"`
	// Again reports that the job was retried already by this request's
	// retry (nothing changed).
	Again bool `json:"again"`
}

// retryJob answers POST /jobs/{id}/retry: the failed and missing events of
// a failed or partial job go back to work (jobs.Producer.Retry), with the
// job's outputs kept; the job is collected and committed again once they
// are done. A job whose data is gone, or some of whose events have no kept
// payload, is refused (409).
func (s *Server) retryJob(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := jobs.NewProducer(s.cfg.Client, s.cfg.Store, s.cfg.Producer)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := context.WithoutCancel(r.Context())
	res, err := p.Retry(ctx, id)
	if err != nil {
		s.writeError(w, r, refusal.Retry(ctx, s.cfg.Store, id, err))
		return
	}
	writeJSON(w, http.StatusOK, retriedJSON{ID: id, Events: res.Events, Deadline: res.Deadline.UTC(), Again: res.Again})
}

// getOpenAPI answers the OpenAPI document.
func (s *Server) getOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI)
}
