package execproc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
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
	// MaxOutputSize is the largest output the caller accepts
	// (workoutput.Config.MaxOutputSize): a response line longer than it
	// plus ResponseOverhead is not read further, and is a protocol error.
	// Default workoutput.DefaultMaxOutputSize.
	MaxOutputSize int
	// Logger receives the co-processes' stderr and restarts. Default:
	// discarded.
	Logger *slog.Logger
}

// ResponseOverhead is what a response line may hold beyond its output: the
// JSON envelope and an error message. A line past MaxOutputSize plus this
// could only be an output the caller would refuse, and reading it whole
// would take memory without bound (a co-process writing without a newline).
const ResponseOverhead = 64 << 10

// request is one line to a co-process.
type request struct {
	Job     string          `json:"job"`
	Event   string          `json:"event"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

// response is one line from a co-process. Event is optional: a
// co-process that echoes the request's event ID has every answer checked
// against its request, so that one extra or missing line cannot shift
// answers onto the wrong events.
type response struct {
	Event     string          `json:"event"`
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
	stderr *tail
}

// NewHandler returns a Handler; co-processes start on first use.
func NewHandler(cfg Config) (*Handler, error) {
	if strings.TrimSpace(cfg.Command) == "" || strings.TrimSpace(cfg.Kind) == "" {
		return nil, fmt.Errorf("%w: an exec handler needs a kind and a command (kind %q)", ErrInvalid, cfg.Kind)
	}
	if cfg.Procs < 0 {
		return nil, fmt.Errorf("%w: %d co-processes (want >= 1)", ErrInvalid, cfg.Procs)
	}
	if cfg.MaxOutputSize < 0 {
		return nil, fmt.Errorf("%w: MaxOutputSize %d (want >= 1, or 0 for the default)", ErrInvalid, cfg.MaxOutputSize)
	}
	if cfg.Procs == 0 {
		cfg.Procs = 1
	}
	if cfg.MaxOutputSize == 0 {
		cfg.MaxOutputSize = workoutput.DefaultMaxOutputSize
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

// Handle processes one event; it is a jobs.RawHandler. When ctx ends first
// (the event's timeout, a shutdown), the co-process is killed with its
// whole process group and restarted for the next event; the error then
// wraps ctx's and says what was killed.
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
	resp, err := h.roundTrip(ctx, p, jobs.EventID(ctx), append(line, '\n'))
	if err != nil {
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

// roundTrip sends one request for event to p (starting it when needed) and
// reads the response, giving up when ctx ends. A response that names
// another event is a protocol error. On any failure the co-process is
// stopped, and the error says how it ended and what it last wrote on
// stderr.
func (h *Handler) roundTrip(ctx context.Context, p *proc, event string, line []byte) (response, error) {
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
		limit := h.cfg.MaxOutputSize + ResponseOverhead
		out, err := readLine(p.stdout, limit)
		if errors.Is(err, errLineTooLong) {
			done <- result{err: fmt.Errorf("%w: %q answered a line over %d bytes (want a response of at most the largest output, %d bytes, and its envelope)", ErrProtocol, h.cfg.Command, limit, h.cfg.MaxOutputSize)}
			return
		}
		if err != nil {
			done <- result{err: fmt.Errorf("%w: %q exited or closed its stdout before answering", ErrProtocol, h.cfg.Command)}
			return
		}
		var r response
		if err := json.Unmarshal(out, &r); err != nil {
			done <- result{err: fmt.Errorf("%w: %q answered %.200q, not a JSON response: %v", ErrProtocol, h.cfg.Command, out, err)}
			return
		}
		if r.Event != "" && r.Event != event {
			done <- result{err: fmt.Errorf("%w: %q answered for event %.100q, not %q: it wrote more or fewer lines than it was sent", ErrProtocol, h.cfg.Command, r.Event, event)}
			return
		}
		done <- result{resp: r}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			end := h.stop(p, "broke the protocol")
			return response{}, fmt.Errorf("%w (%s)", r.err, end)
		}
		return r.resp, nil
	case <-ctx.Done():
		end := h.stop(p, "killed: "+context.Cause(ctx).Error()) // unblocks the goroutine
		<-done
		return response{}, &killedError{msg: "co-process " + end, cause: ctx.Err()}
	}
}

// errLineTooLong reports a line longer than readLine's limit.
var errLineTooLong = errors.New("line too long")

// readLine reads one line ending in '\n' from r, at most limit bytes
// before the newline; a longer line is errLineTooLong, its rest unread.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > limit+1 { // +1: the newline
			return nil, errLineTooLong
		}
		line = append(line, frag...)
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// killedError is a co-process killed because its event's context ended: it
// reads as what was killed, and wraps the context's error.
type killedError struct {
	msg   string
	cause error
}

func (e *killedError) Error() string { return e.msg }
func (e *killedError) Unwrap() error { return e.cause }

// start starts the co-process of p, in a process group of its own.
func (h *Handler) start(p *proc) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("execproc: handler of kind %s is closed", h.cfg.Kind)
	}
	cmd := exec.Command("sh", "-c", h.cfg.Command)
	inGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	tl := &tail{}
	cmd.Stderr = tl
	// The stderr copy ends when every process holding the pipe has ended;
	// a grandchild left behind must not hold Wait for long.
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("execproc: start %q: %w", h.cfg.Command, err)
	}
	tl.mu.Lock()
	tl.log = h.log.With("pid", cmd.Process.Pid)
	tl.mu.Unlock()
	h.log.Info("exec handler started", "pid", cmd.Process.Pid, "command", h.cfg.Command)
	p.cmd, p.stdin, p.stdout, p.stderr = cmd, stdin, bufio.NewReaderSize(stdout, 64<<10), tl
	return nil
}

// waitDelay bounds the wait for a co-process's stderr once it has exited.
const waitDelay = 2 * time.Second

// stop kills the co-process of p with its process group, if it runs, and
// returns how it ended, for errors: its PID, its exit status and its last
// lines of stderr. The next event restarts it. why goes to the log.
func (h *Handler) stop(p *proc, why string) string {
	h.mu.Lock()
	cmd, tl := p.cmd, p.stderr
	p.cmd = nil
	h.mu.Unlock()
	if cmd == nil {
		return "not running"
	}
	_ = killGroup(cmd.Process.Pid)
	_ = cmd.Wait()
	end := fmt.Sprintf("pid %d ended (%s)", cmd.Process.Pid, cmd.ProcessState)
	last := tl.lines()
	if len(last) > 0 {
		end += "; last stderr: " + strings.Join(quoteAll(last), " ")
	}
	h.log.Warn("exec handler stopped with its process group; it restarts with the next event", "pid", cmd.Process.Pid,
		"why", why, "exit", cmd.ProcessState.String(), "stderr", strings.Join(last, "\n"))
	return end
}

// quoteAll quotes each line.
func quoteAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strconv.Quote(l)
	}
	return out
}

// Close stops every co-process: their stdin is closed, so a well-behaved
// command exits, within closeGrace; then its whole process group is killed,
// so that nothing it started outlives the worker (a handler started
// through sh -c, and its children). Call it after the worker has stopped
// serving.
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
		}
		_ = killGroup(cmd.Process.Pid)
		<-done
		h.log.Info("exec handler stopped", "pid", cmd.Process.Pid, "exit", cmd.ProcessState.String())
	}
	return nil
}

// Stderr lines kept per co-process, for the reason of a failure, and the
// longest line kept.
const (
	tailLines = 5
	tailWidth = 300
)

// tail receives a co-process's stderr: it logs each line and keeps the
// last tailLines.
type tail struct {
	log  *slog.Logger
	mu   sync.Mutex
	part []byte
	last []string
}

// Write implements io.Writer.
func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, b...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	if len(t.part) > 4*tailWidth { // a very long line: keep its start
		t.add(string(t.part[:tailWidth]))
		t.part = t.part[:0]
	}
	return len(b), nil
}

// add keeps and logs one line.
func (t *tail) add(line string) {
	line = strings.TrimRight(line, "\r")
	if t.log != nil {
		t.log.Warn("exec handler stderr", "line", line)
	}
	if len(line) > tailWidth {
		line = strings.ToValidUTF8(line[:tailWidth], "") + "…"
	}
	if t.last = append(t.last, line); len(t.last) > tailLines {
		t.last = t.last[1:]
	}
}

// lines returns the last lines, and a final line without newline.
func (t *tail) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.last...)
	if len(t.part) > 0 {
		out = append(out, string(t.part))
	}
	return out[max(0, len(out)-tailLines):]
}
