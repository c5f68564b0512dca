package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/workoutput"
)

// jobList is the answer of GET /jobs.
type jobList struct {
	Jobs []jobJSON `json:"jobs"`
	// Next is the cursor of the next page; absent on the last page.
	Next string `json:"next,omitempty"`
	// States counts the jobs of each state among those of the kind filter
	// (every state filter ignored), for the dashboard's filters.
	States map[string]int `json:"states"`
}

// jobCursor is a position in the list of jobs, newest first: a job's
// creation time and ID.
type jobCursor struct {
	created int64 // Unix ms
	id      string
}

// parseJobCursor reads a cursor "<created Unix ms>.<job ID>".
func parseJobCursor(v string) (jobCursor, error) {
	ms, id, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || workoutput.ValidateJobID(id) != nil {
		return jobCursor{}, errorf(http.StatusBadRequest, codeBadRequest, "cursor %q (want the next value of a previous page)", v)
	}
	return jobCursor{n, id}, nil
}

func (c jobCursor) String() string { return strconv.FormatInt(c.created, 10) + "." + c.id }

// before reports whether c comes before d: newest first, then by ID.
func (c jobCursor) before(d jobCursor) bool {
	if c.created != d.created {
		return c.created > d.created
	}
	return c.id < d.id
}

func cursorOf(st workoutput.Status) jobCursor { return jobCursor{st.Created.UnixMilli(), st.ID} }

// listFilter reads a comma-separated filter; check returns the error for a
// value that is not allowed (nil accepts anything).
func listFilter(r *http.Request, name string, check func(string) error) (map[string]bool, error) {
	want := map[string]bool{}
	for _, v := range r.URL.Query()[name] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			if check != nil {
				if err := check(part); err != nil {
					return nil, err
				}
			}
			want[part] = true
		}
	}
	return want, nil
}

// checkState accepts the name of a state.
func checkState(v string) error {
	if slices.Contains(workoutput.States(), workoutput.State(v)) {
		return nil
	}
	names := make([]string, 0, 8)
	for _, s := range workoutput.States() {
		names = append(names, string(s))
	}
	return errorf(http.StatusBadRequest, codeBadRequest, "state %q (want one of %s)", v, strings.Join(names, ", "))
}

// listJobs answers GET /jobs: the jobs whose data Redis still holds, newest
// first, filtered by state and kind, a page at a time.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	states, err := listFilter(r, "state", checkState)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	kinds, _ := listFilter(r, "kind", nil)
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cur *jobCursor
	if v := r.URL.Query().Get("cursor"); v != "" {
		c, err := parseJobCursor(v)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		cur = &c
	}
	ctx := r.Context()
	counts := map[string]int{}
	for _, st := range workoutput.States() {
		counts[string(st)] = 0
	}
	page, more, err := firstAfter(s.statuses(ctx, kinds, counts),
		func(st workoutput.Status) bool {
			return (len(states) == 0 || states[string(st.State)]) && (cur == nil || cur.before(cursorOf(st)))
		},
		func(a, b workoutput.Status) bool { return cursorOf(a).before(cursorOf(b)) },
		limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := jobList{Jobs: make([]jobJSON, len(page)), States: counts}
	now := s.cfg.Now()
	waiting := s.waiting(ctx, page...)
	for i, st := range page {
		// A committed job's last error, as GET /jobs/{id} and the CLI give it.
		if err := s.cfg.Store.SetFinalLastError(ctx, &st); err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Jobs[i] = s.job(st, now, waiting[i])
	}
	if more {
		out.Next = cursorOf(page[len(page)-1]).String()
	}
	writeJSON(w, http.StatusOK, out)
}

// statuses yields the status of every job of the store whose kind is in
// kinds (every kind when empty), counting them by state in counts. A job
// that expires while it is listed is left out.
func (s *Server) statuses(ctx context.Context, kinds map[string]bool, counts map[string]int) iter.Seq2[workoutput.Status, error] {
	return func(yield func(workoutput.Status, error) bool) {
		for id, err := range s.cfg.Store.Jobs(ctx) {
			if err != nil {
				yield(workoutput.Status{}, err)
				return
			}
			st, err := s.cfg.Store.Status(ctx, id)
			if errors.Is(err, workoutput.ErrJobNotFound) {
				continue
			}
			if err != nil {
				yield(workoutput.Status{}, err)
				return
			}
			if len(kinds) > 0 && !kinds[st.Kind] {
				continue
			}
			counts[string(st.State)]++
			if !yield(st, nil) {
				return
			}
		}
	}
}

// failureJSON is a failed event.
type failureJSON struct {
	ID       string    `json:"id"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// eventPage pages through a job's events (failed or missing) by event ID:
// the events after the request's "after" parameter, in the order of their
// IDs. key names the list in the answer.
func eventPage[T any](s *Server, w http.ResponseWriter, r *http.Request, key string, list func(ctx context.Context, id string) iter.Seq2[T, error], idOf func(T) string, conv func(T) any) {
	ctx := r.Context()
	st, err := s.statusOf(ctx, r) // the job exists; its last error is not shown
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := pageLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after := r.URL.Query().Get("after")
	page, more, err := firstAfter(list(ctx, st.ID),
		func(v T) bool { return idOf(v) > after },
		func(a, b T) bool { return idOf(a) < idOf(b) },
		limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]any, len(page))
	for i, v := range page {
		items[i] = conv(v)
	}
	out := map[string]any{key: items}
	if more {
		out["next"] = idOf(page[len(page)-1])
	}
	writeJSON(w, http.StatusOK, out)
}

// listFailed answers GET /jobs/{id}/failed.
func (s *Server) listFailed(w http.ResponseWriter, r *http.Request) {
	eventPage(s, w, r, "failed", s.cfg.Store.Failures,
		func(f workoutput.Failure) string { return f.EventID },
		func(f workoutput.Failure) any {
			return failureJSON{ID: f.EventID, Reason: exitcode.Humanize(f.Reason), Attempts: f.Attempts, At: f.Time.UTC()}
		})
}

// listMissing answers GET /jobs/{id}/missing.
func (s *Server) listMissing(w http.ResponseWriter, r *http.Request) {
	eventPage(s, w, r, "missing", s.cfg.Store.Missing,
		func(id string) string { return id },
		func(id string) any { return id })
}

// waitParam reads the wait parameter of a long poll: a duration ("30s") or
// a number of seconds, at most Config.MaxWait.
func (s *Server) waitParam(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, ferr := strconv.ParseFloat(v, 64)
		d, err = time.Duration(secs*float64(time.Second)), ferr
	}
	if err != nil || d < 0 || d > s.cfg.MaxWait {
		return 0, errorf(http.StatusBadRequest, codeBadRequest, "wait %q (want a duration like 30s, or seconds, from 0 to %v)", v, s.cfg.MaxWait)
	}
	return d, nil
}

// getResult answers GET /jobs/{id}/result: exactly the committed bytes of
// a done or partial job (`coordinator collect --out` writes the same), 404
// while there is none yet (after waiting up to ?wait= for the job to end),
// 409 for a job that ended without one (failed, cancelled). A Range header
// gets those bytes only (206; 416 for a range past the end): the
// dashboard previews a result without downloading it whole.
func (s *Server) getResult(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	wait, err := s.waitParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := s.statusOf(ctx, r)
	if err == nil && !st.State.Terminal() && wait > 0 {
		st, err = s.follow(ctx, st, wait)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	extra := map[string]any{"state": string(st.State)}
	switch st.State {
	case workoutput.StateDone, workoutput.StatePartial:
	case workoutput.StateFailed, workoutput.StateCancelled:
		e := errorf(http.StatusConflict, codeNoResult, "job %s is %s and has no result: %s", st.ID, st.State, cmp.Or(exitcode.Humanize(st.Error), "cancelled"))
		e.extra = extra
		s.writeError(w, r, e)
		return
	default:
		e := errorf(http.StatusNotFound, codeNotReady, "job %s is %s (%d of %d events finished): no result yet (add ?wait=30s to wait for it)", st.ID, st.State, st.Done+st.Failed, st.Total)
		e.extra = extra
		s.writeError(w, r, e)
		return
	}
	res, err := s.cfg.Store.Result(ctx, st.ID)
	if errors.Is(err, workoutput.ErrNoResult) || errors.Is(err, workoutput.ErrJobNotFound) {
		e := errorf(http.StatusNotFound, codeNoResult, "job %s is %s but its result is no longer kept (retention)", st.ID, st.State)
		e.extra = extra
		s.writeError(w, r, e)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	ext := ".result"
	if json.Valid(res) {
		h.Set("Content-Type", "application/json")
		ext = ".json"
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Fanin-Job-State", string(st.State))
	if r.URL.Query().Get("download") != "" {
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", st.ID+ext))
	}
	// ServeContent answers the ranges; its 416 is made a JSON error.
	http.ServeContent(&rangeErrors{ResponseWriter: w, s: s, r: r, size: len(res)}, r, "", time.Time{}, bytes.NewReader(res))
}

// rangeErrors answers the 416 of http.ServeContent (a range past the end
// of the result) as an API error, JSON, instead of its plain text.
type rangeErrors struct {
	http.ResponseWriter
	s       *Server
	r       *http.Request
	size    int
	refused bool
}

func (w *rangeErrors) WriteHeader(status int) {
	if status != http.StatusRequestedRangeNotSatisfiable {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.refused = true
	w.Header().Del("Fanin-Job-State")
	w.Header().Del("Content-Disposition")
	rng := w.r.Header.Get("Range")
	switch {
	case !byteRanges.MatchString(rng):
		w.s.writeError(w.ResponseWriter, w.r, errorf(status, codeBadRange, "range %q is not a byte range (want bytes=FIRST-LAST, like bytes=0-4095)", rng))
	case w.size == 0:
		w.s.writeError(w.ResponseWriter, w.r, errorf(status, codeBadRange, "range %q: the result is empty (0 bytes): ask for it without a Range", rng))
	default:
		w.s.writeError(w.ResponseWriter, w.r, errorf(status, codeBadRange, "range %q is past the end of the result (%d bytes): ask for bytes=0-%d at most", rng, w.size, w.size-1))
	}
}

// byteRanges matches a well-formed Range header of byte ranges (RFC 9110):
// what ServeContent refuses besides it is past the end of the result.
var byteRanges = regexp.MustCompile(`^bytes=\s*(\d+-\d*|-\d+)\s*(,\s*(\d+-\d*|-\d+)\s*)*$`)

func (w *rangeErrors) Write(b []byte) (int, error) {
	if w.refused {
		return len(b), nil // ServeContent's text: the error is written
	}
	return w.ResponseWriter.Write(b)
}

// follow polls the job of st until it is terminal, wait passes, the client
// goes or the server stops, and returns its last status.
func (s *Server) follow(ctx context.Context, st workoutput.Status, wait time.Duration) (workoutput.Status, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for !st.State.Terminal() {
		select {
		case <-tick.C:
		case <-timer.C:
			return st, nil
		case <-s.stopping:
			return st, nil
		case <-ctx.Done():
			return st, ctx.Err()
		}
		next, err := s.cfg.Store.Status(ctx, st.ID)
		if err != nil {
			return st, err
		}
		st = next
	}
	return st, nil
}
