package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/fanin-dev/fanin/internal/progress"
	"github.com/fanin-dev/fanin/workoutput"
)

// streamJob answers GET /jobs/{id}/stream with Server-Sent Events: a
// "status" event (the job, as GET /jobs/{id} answers it) at once and at
// every change, read every Config.PollInterval; a comment line after
// Config.Heartbeat without change; an "error" event when a read fails (the
// stream goes on); and, once the job is terminal, its last "status" then an
// "end" event, and the stream closes. It also ends when the server stops.
func (s *Server) streamJob(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := s.status(ctx, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		w.Header().Set("Retry-After", "5")
		s.writeError(w, r, errorf(http.StatusServiceUnavailable, codeUnavailable, "too many streams at once (%d); poll GET %s/jobs/{id} instead, or retry later", s.cfg.MaxStreams, Prefix))
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	var last []byte
	quiet := time.Now()
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	failing := false
	// What the job waits for, from the heartbeats: read again at most every
	// progress.NotesEvery, as coordinator status --watch does, and when the
	// job's state changes.
	var waiting []string
	var waitedAt time.Time
	var waitedState workoutput.State
	for {
		if time.Since(waitedAt) >= progress.NotesEvery || st.State != waitedState {
			waiting, waitedAt, waitedState = s.waiting(ctx, st)[0], time.Now(), st.State
		}
		j := s.job(st, s.cfg.Now(), waiting)
		key, _ := json.Marshal(j.JSON)
		if !bytes.Equal(key, last) {
			if !send("status", j) {
				return
			}
			last, quiet = key, time.Now()
		}
		if st.State.Terminal() {
			send("end", map[string]string{"id": st.ID, "state": string(st.State)})
			return
		}
		if time.Since(quiet) >= s.cfg.Heartbeat {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
			quiet = time.Now()
		}
		select {
		case <-tick.C:
		case <-s.stopping:
			return
		case <-ctx.Done():
			return
		}
		next, err := s.cfg.Store.Status(ctx, st.ID)
		if err == nil {
			err = s.cfg.Store.SetFinalLastError(ctx, &next) // leaves a job not committed alone
		}
		switch {
		case err == nil:
			st, failing = next, false
		case ctx.Err() != nil:
			return
		case !failing:
			failing = true
			ae := s.classify(err)
			if !send("error", map[string]string{"error": ae.msg, "code": ae.code}) {
				return
			}
			if ae.code == codeJobNotFound { // expired meanwhile: nothing more will come
				return
			}
		}
	}
}
