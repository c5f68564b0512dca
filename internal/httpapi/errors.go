package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/eventfile"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/jobfile"
	"github.com/fanin-dev/fanin/internal/refusal"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// Error codes of the API's error bodies ({"error": "...", "code": "..."}).
const (
	codeBadRequest       = "bad_request"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeJobNotFound      = "job_not_found"
	codeNotReady         = "not_ready"
	codeNoResult         = "no_result"
	codeMethodNotAllowed = "method_not_allowed"
	codeConflict         = "conflict"
	codeTooLarge         = "too_large"
	codeSlowBody         = "request_timeout"
	codeBadRange         = "bad_range"
	codeMisdirected      = "misdirected"
	codeNotImplemented   = "not_implemented"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
)

// apiError is an error answered with a status and a code.
type apiError struct {
	status int
	code   string
	msg    string
	// extra fields of the body (the job's state, say).
	extra map[string]any
}

func (e *apiError) Error() string { return e.msg }

// errorf returns an apiError.
func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// classify maps an error of the store, the producer, the coordinator or
// the input to its answer. Its message reads as the CLI prints the same
// error (exitcode.Message): no Go package prefixes, flags for fields.
func classify(err error) *apiError {
	var ae *apiError
	var mb *http.MaxBytesError
	var ll *eventfile.LineTooLongError
	msg := exitcode.Message(err)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, errSlowBody):
		return errorf(http.StatusRequestTimeout, codeSlowBody, "%s", msg)
	case errors.As(err, &mb):
		return errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "the request body is over %d bytes (the server's --max-body)", mb.Limit)
	case errors.As(err, &ll), errors.Is(err, workoutput.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "%s", msg)
	case errors.Is(err, jobfile.ErrInput), errors.Is(err, jobfile.ErrSettings),
		errors.Is(err, workoutput.ErrInvalid), errors.Is(err, workoutput.ErrDuplicateEvent), errors.Is(err, jobs.ErrInvalid):
		return errorf(http.StatusBadRequest, codeBadRequest, "%s", msg)
	case errors.Is(err, workoutput.ErrJobNotFound):
		return errorf(http.StatusNotFound, codeJobNotFound, "%s", msg)
	case errors.Is(err, workoutput.ErrState), errors.Is(err, workoutput.ErrNotRetained), errors.Is(err, workoutput.ErrJobExists),
		errors.Is(err, workoutput.ErrNotRetriable),
		errors.Is(err, jobs.ErrBusy), errors.Is(err, jobs.ErrNoReducer):
		return errorf(http.StatusConflict, codeConflict, "%s", msg)
	case errors.Is(err, cache.ErrUnavailable), errors.Is(err, workoutput.ErrPermission):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "Redis is unavailable: %s", msg)
	}
	return errorf(http.StatusInternalServerError, codeInternal, "internal error: %s", msg)
}

// classify is the package's classify, with the namespace searched named
// in a job-not-found error (a server of another namespace than the job's
// does not find it).
func (s *Server) classify(err error) *apiError {
	return classify(refusal.NotFound(err, s.cfg.Store.Config().Namespace))
}

// writeError answers err, logging the server's own failures.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := s.classify(err)
	if ae.status >= 500 {
		s.cfg.Logger.Warn("request failed", "method", r.Method, "path", r.URL.Path, "status", ae.status, "err", err)
	}
	body := map[string]any{"error": ae.msg, "code": ae.code}
	for k, v := range ae.extra {
		body[k] = v
	}
	writeJSON(w, ae.status, body)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
