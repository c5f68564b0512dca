package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fanin-dev/fanin/internal/httpapi/dashboard"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// Prefix is the path of the API.
const Prefix = "/api/v1"

// route is one operation of the API or one page of the dashboard.
type route struct {
	// method and path, as in the OpenAPI document (paths of the API are
	// relative to Prefix).
	method, path string
	// op is the operationId in the OpenAPI document; empty for the pages
	// of the dashboard, which are not part of the API.
	op      string
	handler func(*Server, http.ResponseWriter, *http.Request)
	// params are the query parameters the operation accepts, as the
	// OpenAPI document lists them: any other is refused (400).
	params []string
}

// routes returns every route the server answers. The test of the OpenAPI
// document checks it has exactly the operations listed here.
func routes() []route {
	return []route{
		{"GET", "/jobs", "listJobs", (*Server).listJobs, []string{"state", "kind", "limit", "cursor"}},
		{"POST", "/jobs", "submitJob", (*Server).submitJob, submitParams},
		{"GET", "/jobs/{id}", "getJob", (*Server).getJob, nil},
		{"GET", "/jobs/{id}/result", "getResult", (*Server).getResult, []string{"wait", "download"}},
		{"GET", "/jobs/{id}/failed", "listFailed", (*Server).listFailed, []string{"limit", "after"}},
		{"GET", "/jobs/{id}/missing", "listMissing", (*Server).listMissing, []string{"limit", "after"}},
		{"GET", "/jobs/{id}/stream", "streamJob", (*Server).streamJob, nil},
		{"POST", "/jobs/{id}/cancel", "cancelJob", (*Server).cancelJob, nil},
		{"POST", "/jobs/{id}/replay", "replayJob", (*Server).replayJob, nil},
		{"POST", "/jobs/{id}/retry", "retryJob", (*Server).retryJob, nil},
		{"GET", "/openapi.json", "getOpenAPI", (*Server).getOpenAPI, nil},
	}
}

// checkParams refuses a request with a query parameter the operation does
// not accept (a misspelt setting would otherwise be ignored), naming it
// and the accepted ones.
func (rt route) checkParams(r *http.Request) error {
	var unknown []string
	for name := range r.URL.Query() {
		if !slices.Contains(rt.params, name) {
			unknown = append(unknown, fmt.Sprintf("%q", name))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	what := "unknown query parameter " + unknown[0]
	if len(unknown) > 1 {
		what = "unknown query parameters " + strings.Join(unknown, ", ")
	}
	if len(rt.params) == 0 {
		return errorf(http.StatusBadRequest, codeBadRequest, "%s: %s %s takes no query parameter", what, rt.method, Prefix+rt.path)
	}
	return errorf(http.StatusBadRequest, codeBadRequest, "%s: %s %s accepts %s", what, rt.method, Prefix+rt.path, strings.Join(rt.params, ", "))
}

// Server is the API and the dashboard. It is an http.Handler; Serve runs it
// on a listener until its context ends.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler
	reduces map[string]bool
	// registry reads the heartbeats of the live workers and coordinators:
	// what a job waits for, what a submission is warned of.
	registry *jobs.Registry
	streams  chan struct{}
	submits  chan struct{}
	// stopping is closed when Serve begins its shutdown: streams and long
	// polls end, so that the shutdown does not wait for them.
	stopping chan struct{}
}

// New returns the server of cfg, or an error wrapping ErrConfig.
func New(cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	registry, err := jobs.NewRegistry(c.Client, jobs.RegistryConfig{Namespace: c.Store.Config().Namespace})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := &Server{
		cfg:      c,
		registry: registry,
		mux:      http.NewServeMux(),
		reduces:  map[string]bool{},
		streams:  make(chan struct{}, c.MaxStreams),
		submits:  make(chan struct{}, c.MaxSubmits),
		stopping: make(chan struct{}),
	}
	for _, k := range c.Reducers {
		s.reduces[k] = true
	}
	for _, rt := range routes() {
		s.mux.HandleFunc(rt.method+" "+Prefix+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if err := rt.checkParams(r); err != nil {
				if r.Method == http.MethodPost {
					// Read the body (up to MaxBody) before answering, so
					// that a client still sending it reads the answer.
					_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
				}
				s.writeError(w, r, err)
				return
			}
			rt.handler(s, w, r)
		})
	}
	s.mux.HandleFunc("/api/", s.notFound)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	pages := dashboard.Handler()
	s.mux.Handle("GET /{$}", pages)
	s.mux.Handle("GET /assets/", pages)
	s.mux.HandleFunc("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if workoutput.ValidateJobID(r.PathValue("id")) != nil {
			http.NotFound(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	})
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusForbidden, codeForbidden, "cross-origin %s refused: the API accepts changes only from its own pages or from clients that are not browsers", r.Method))
	}))
	s.handler = s.secure(csrf.Handler(s.mux))
	return s, nil
}

// ServeHTTP serves the API and the dashboard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// secure sets the security headers of every answer, and checks the Host
// and, under /api/, the token before next runs.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if len(s.cfg.AllowedHosts) > 0 {
			host := r.Host
			if hh, _, err := net.SplitHostPort(host); err == nil {
				host = hh
			}
			if !slices.Contains(s.cfg.AllowedHosts, strings.ToLower(strings.Trim(host, "[]"))) {
				s.writeError(w, r, errorf(http.StatusMisdirectedRequest, codeMisdirected, "host %q is not served here (want one of %s; a server on another address needs --token)", r.Host, strings.Join(s.cfg.AllowedHosts, ", ")))
				return
			}
		}
		if s.cfg.Token != "" && strings.HasPrefix(r.URL.Path, "/api/") && !s.authorized(r) {
			h.Set("WWW-Authenticate", `Bearer realm="fanin"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, codeUnauthorized, "missing or wrong bearer token (send Authorization: Bearer <token>, the server's --token)"))
			return
		}
		start := s.cfg.Now()
		next.ServeHTTP(w, r)
		s.cfg.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "took", s.cfg.Now().Sub(start))
	})
}

// authorized reports whether r carries the token.
func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.Token)) == 1
}

// notFound answers a path under /api/ that no route has: 405 with the
// methods it has when another method matches, 404 otherwise.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/api/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "%s %s: method not allowed (want %s)", r.Method, r.URL.Path, strings.Join(allow, " or ")))
		return
	}
	s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "%s %s: no such endpoint (see %s/openapi.json)", r.Method, r.URL.Path, Prefix))
}

// healthz answers 200 while Redis answers a PING, 503 otherwise.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.cfg.Client.Ping(ctx).Err(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "error": "Redis does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Serve serves on l until ctx ends, then shuts down: streams and long
// polls end at once, other requests (a submission, a replay) get up to
// grace to finish. It returns nil after a shutdown, or the error that
// stopped serving.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	close(s.stopping)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
