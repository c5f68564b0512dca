package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fanin-dev/fanin/internal/httpapi/dashboard"
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
}

// routes returns every route the server answers. The test of the OpenAPI
// document checks it has exactly the operations listed here.
func routes() []route {
	return []route{
		{"GET", "/jobs", "listJobs", (*Server).listJobs},
		{"POST", "/jobs", "submitJob", (*Server).submitJob},
		{"GET", "/jobs/{id}", "getJob", (*Server).getJob},
		{"GET", "/jobs/{id}/result", "getResult", (*Server).getResult},
		{"GET", "/jobs/{id}/failed", "listFailed", (*Server).listFailed},
		{"GET", "/jobs/{id}/missing", "listMissing", (*Server).listMissing},
		{"GET", "/jobs/{id}/stream", "streamJob", (*Server).streamJob},
		{"POST", "/jobs/{id}/cancel", "cancelJob", (*Server).cancelJob},
		{"POST", "/jobs/{id}/replay", "replayJob", (*Server).replayJob},
		{"POST", "/jobs/{id}/retry", "retryJob", (*Server).retryJob},
		{"GET", "/openapi.json", "getOpenAPI", (*Server).getOpenAPI},
	}
}

// Server is the API and the dashboard. It is an http.Handler; Serve runs it
// on a listener until its context ends.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler
	reduces map[string]bool
	streams chan struct{}
	submits chan struct{}
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
	s := &Server{
		cfg:      c,
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
		h := rt.handler
		s.mux.HandleFunc(rt.method+" "+Prefix+rt.path, func(w http.ResponseWriter, r *http.Request) { h(s, w, r) })
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
