package httpapi

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fanin-dev/fanin/internal/eventfile"
	"github.com/fanin-dev/fanin/internal/jobfile"
	"github.com/fanin-dev/fanin/jobs"
)

// submitParams are the settings of POST /jobs, as query parameters (or
// headers, see param).
var submitParams = []string{"kind", "name", "deadline", "retention", "policy", "max_retry", "chunk", "event_timeout", "id_field"}

// param returns the value of a parameter of POST /jobs and whether it was
// given: a query parameter, or else its header (kind is Fanin-Kind,
// id_field Fanin-Id-Field).
func param(r *http.Request, name string) (string, bool) {
	if q := r.URL.Query(); q.Has(name) {
		return q.Get(name), true
	}
	h := "Fanin-" + strings.ReplaceAll(name, "_", "-")
	if vs := r.Header.Values(h); len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

// submitSettings reads the settings of a job from the request.
func submitSettings(r *http.Request) (jobfile.Settings, string, error) {
	get := func(name string) string { v, _ := param(r, name); return v }
	s := jobfile.Settings{Kind: strings.TrimSpace(get("kind")), Name: get("name"), Retention: get("retention"), Policy: get("policy")}
	if s.Kind == "" {
		return s, "", errorf(http.StatusBadRequest, codeBadRequest, "kind is required (the kind of the job: a query parameter ?kind=, or the header Fanin-Kind)")
	}
	if s.Policy == "" {
		s.Policy = "fail"
	}
	if v := get("deadline"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return s, "", errorf(http.StatusBadRequest, codeBadRequest, "deadline %q (want a positive duration like 1h)", v)
		}
		s.Deadline = d
	}
	if v := get("event_timeout"); v != "" {
		// As submit's --event-timeout: jobfile.Settings.Spec refuses a
		// negative one.
		d, err := time.ParseDuration(v)
		if err != nil {
			return s, "", errorf(http.StatusBadRequest, codeBadRequest, "event_timeout %q (want a duration like 30s, or 0 for the worker's)", v)
		}
		s.EventTimeout = d
	}
	var maxRetry int
	for name, dst := range map[string]*int{"max_retry": &maxRetry, "chunk": &s.Chunk} {
		if v := get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return s, "", errorf(http.StatusBadRequest, codeBadRequest, "%s %q (want a whole number, 0 or more)", name, v)
			}
			*dst = n
		}
	}
	if get("max_retry") != "" { // 0: no retry; absent: the producer's default
		s.MaxRetry = &maxRetry
	}
	idField, given := param(r, "id_field")
	if !given {
		idField = "id"
	}
	return s, idField, nil
}

// submitted is the answer of POST /jobs.
type submitted struct {
	ID     string `json:"id"`
	Events int    `json:"events"`
	// Warnings say what no live process does for the job's kind (the
	// warnings of coordinator submit): the job waits until one starts.
	Warnings []string `json:"warnings"`
}

// submitJob answers POST /jobs: the body is NDJSON, read as `coordinator
// submit` reads an events file, spooled to a temporary file and checked
// whole before anything is written, so a malformed line or a bad event
// creates nothing.
func (s *Server) submitJob(w http.ResponseWriter, r *http.Request) {
	body := newSlowBodyReader(w, http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), s.cfg.BodyStall, s.cfg.MinBodyRate)
	fail := func(err error) {
		// Read the rest of the body (up to MaxBody) before answering, so
		// that a client still sending it reads the answer instead of a
		// reset connection.
		_, _ = io.Copy(io.Discard, body)
		s.writeError(w, r, err)
	}
	settings, idField, err := submitSettings(r)
	if err != nil {
		fail(err)
		return
	}
	spec, err := settings.Spec(func(p string) string { return strings.ReplaceAll(p, "-", "_") })
	if err != nil {
		fail(err)
		return
	}
	ctx := r.Context()
	select {
	case s.submits <- struct{}{}:
		defer func() { <-s.submits }()
	case <-ctx.Done():
		return
	}
	events, err := jobfile.Spool(eventfile.LimitLines(body, "request body", s.cfg.MaxLine), "request body", idField)
	if err != nil {
		fail(err)
		return
	}
	defer events.Close()
	if err := events.Check(s.cfg.Store); err != nil {
		fail(err)
		return
	}
	pc := s.cfg.Producer
	if settings.Chunk > 0 {
		pc.ChunkSize = settings.Chunk
	}
	p, err := jobs.NewProducer(s.cfg.Client, s.cfg.Store, pc)
	if err != nil {
		fail(err)
		return
	}
	id, n, err := events.Submit(ctx, p, s.cfg.Store, spec, jobfile.Batch(pc.ChunkSize))
	if err != nil {
		fail(err)
		return
	}
	w.Header().Set("Location", Prefix+"/jobs/"+id)
	writeJSON(w, http.StatusCreated, submitted{ID: id, Events: n, Warnings: s.served(ctx, settings.Kind, pc.Queue)})
}

// served returns what no live process does for a job of kind on queue,
// as coordinator submit warns: "no worker serves kind "k"", "no
// coordinator reduces kind "k"". A failed read of the heartbeats is logged
// and warns of nothing.
func (s *Server) served(ctx context.Context, kind, queue string) []string {
	members, err := s.registry.Members(ctx)
	if err != nil {
		s.cfg.Logger.Debug("read heartbeats", "err", err)
		return []string{}
	}
	return append([]string{}, jobs.Gaps(members, kind, cmp.Or(queue, jobs.DefaultQueue))...)
}
