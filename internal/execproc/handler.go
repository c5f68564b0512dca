package execproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"sync"

	"github.com/fanin-dev/fanin/jobs"
)

// ErrInvalid is returned for a bad configuration.
var ErrInvalid = errors.New("execproc: invalid configuration")

// ErrProtocol is returned (and the event retried) when a co-process exits
// or answers with something that is not a response.
var ErrProtocol = errors.New("execproc: co-process broke the protocol")

// Config configures a Handler.
type Config struct {
	// Kind is the kind the handler serves; sent with each request.
	Kind string
	// Command is run with "sh -c".
	Command string
	// Procs is the number of co-processes. Default 1.
	Procs int
	// Logger receives the co-processes' stderr and restarts. Default:
	// discarded.
	Logger *slog.Logger
}

// request is one line to a co-process.
type request struct {
	Job     string          `json:"job"`
	Event   string          `json:"event"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// response is one line from a co-process.
type response struct {
	Output    json.RawMessage `json:"output"`
	Error     string          `json:"error"`
	Permanent bool            `json:"permanent"`
}

// Handler is a pool of co-processes serving one kind.
type Handler struct {
	cfg  Config
	log  *slog.Logger
	pool chan *proc

	mu     sync.Mutex
	closed bool
	all    []*proc
}

// proc is one co-process; nil cmd means not started.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// NewHandler returns a Handler; co-processes start on first use.
func NewHandler(cfg Config) (*Handler, error) {
	if strings.TrimSpace(cfg.Command) == "" || strings.TrimSpace(cfg.Kind) == "" {
		return nil, fmt.Errorf("%w: an exec handler needs a kind and a command (kind %q)", ErrInvalid, cfg.Kind)
	}
	if cfg.Procs < 0 {
		return nil, fmt.Errorf("%w: %d co-processes (want >= 1)", ErrInvalid, cfg.Procs)
	}
	if cfg.Procs == 0 {
		cfg.Procs = 1
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, log: log.With("kind", cfg.Kind), pool: make(chan *proc, cfg.Procs)}
	for range cfg.Procs {
		p := &proc{}
		h.all = append(h.all, p)
		h.pool <- p
	}
	return h, nil
}

// Handle processes one event; it is a jobs.RawHandler.
func (h *Handler) Handle(ctx context.Context, payload []byte) ([]byte, error) {
	var p *proc
	select {
	case p = <-h.pool:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { h.pool <- p }()
	if !json.Valid(payload) {
		payload, _ = json.Marshal(string(payload))
	}
	line, err := json.Marshal(request{Job: jobs.JobID(ctx), Event: jobs.EventID(ctx), Kind: h.cfg.Kind, Payload: payload})
	if err != nil {
		return nil, fmt.Errorf("%w: encode request: %v", jobs.ErrBadInput, err)
	}
	resp, err := h.roundTrip(ctx, p, append(line, '\n'))
	if err != nil {
		h.stop(p)
		return nil, err
	}
	if resp.Error != "" {
		if resp.Permanent {
			return nil, fmt.Errorf("%w: %s", jobs.ErrBadInput, resp.Error)
		}
		return nil, errors.New(resp.Error)
	}
	if len(resp.Output) == 0 {
		return nil, fmt.Errorf("%w: response to event %s has neither output nor error", ErrProtocol, jobs.EventID(ctx))
	}
	return resp.Output, nil
}

// roundTrip sends one request to p (starting it when needed) and reads the
// response, giving up when ctx ends.
func (h *Handler) roundTrip(ctx context.Context, p *proc, line []byte) (response, error) {
	if p.cmd == nil {
		if err := h.start(p); err != nil {
			return response{}, err
		}
	}
	type result struct {
		resp response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		if _, err := p.stdin.Write(line); err != nil {
			done <- result{err: fmt.Errorf("%w: write to %q: %v", ErrProtocol, h.cfg.Command, err)}
			return
		}
		out, err := p.stdout.ReadBytes('\n')
		if err != nil {
			done <- result{err: fmt.Errorf("%w: %q exited or closed its stdout: %v", ErrProtocol, h.cfg.Command, err)}
			return
		}
		var r response
		if err := json.Unmarshal(out, &r); err != nil {
			done <- result{err: fmt.Errorf("%w: %q answered %.200q, not a JSON response: %v", ErrProtocol, h.cfg.Command, out, err)}
			return
		}
		done <- result{resp: r}
	}()
	select {
	case r := <-done:
		return r.resp, r.err
	case <-ctx.Done():
		h.stop(p) // unblocks the goroutine
		<-done
		return response{}, ctx.Err()
	}
}

// start starts the co-process of p.
func (h *Handler) start(p *proc) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("execproc: handler of kind %s is closed", h.cfg.Kind)
	}
	cmd := exec.Command("sh", "-c", h.cfg.Command)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("execproc: start %q: %w", h.cfg.Command, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			h.log.Warn("exec handler stderr", "pid", cmd.Process.Pid, "line", sc.Text())
		}
	}()
	h.log.Info("exec handler started", "pid", cmd.Process.Pid, "command", h.cfg.Command)
	p.cmd, p.stdin, p.stdout = cmd, stdin, bufio.NewReaderSize(stdout, 64<<10)
	return nil
}

// stop kills the co-process of p, if any; the next event restarts it.
func (h *Handler) stop(p *proc) {
	h.mu.Lock()
	cmd := p.cmd
	p.cmd = nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	h.log.Warn("exec handler stopped; it restarts with the next event", "pid", cmd.Process.Pid)
}

// Close stops every co-process: their stdin is closed, so a well-behaved
// command exits; then they are killed. Call it after the worker has
// stopped serving.
func (h *Handler) Close() error {
	h.mu.Lock()
	h.closed = true
	procs := h.all
	h.mu.Unlock()
	for _, p := range procs {
		h.mu.Lock()
		cmd, stdin := p.cmd, p.stdin
		p.cmd = nil
		h.mu.Unlock()
		if cmd == nil {
			continue
		}
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-timeAfter():
			_ = cmd.Process.Kill()
			<-done
		}
	}
	return nil
}
