package execproc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/fanin-dev/fanin/jobs"
)

// closeGrace is how long Close waits for a co-process to exit on its own.
const closeGrace = 5 * time.Second

func timeAfter() <-chan time.Time { return time.After(closeGrace) }

// Reducer returns a jobs.Reducer that runs command (with "sh -c") once per
// reduction, writes the job's outputs to its stdin as JSON lines and takes
// its stdout as the result. Its stderr is included in the error when it
// fails.
//
// The command runs as the leader of a process group of its own, killed
// whole when the reduction's context ends, as soon as the result passes
// Input.MaxResultSize (an error wrapping jobs.ErrResultTooLarge: a command
// that writes without end is not read for ever), and once the command has
// exited, so that nothing it started outlives it: its result is what it
// wrote until it exited, even if something it left running holds its
// stdout open (for at most waitDelay).
func Reducer(command string) (jobs.Reducer, error) {
	if strings.TrimSpace(command) == "" {
		return nil, fmt.Errorf("%w: an exec reducer needs a command", ErrInvalid)
	}
	return jobs.ReducerFunc(func(ctx context.Context, job jobs.JobInfo, in *jobs.Input) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		inGroup(cmd)
		cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
		cmd.WaitDelay = waitDelay
		cmd.Env = append(os.Environ(),
			"FANIN_JOB_ID="+job.ID, "FANIN_JOB_KIND="+job.Kind, "FANIN_JOB_NAME="+job.Name,
			"FANIN_JOB_OUTPUTS="+strconv.FormatInt(job.Outputs, 10),
			"FANIN_JOB_FAILED="+strconv.FormatInt(job.Failed, 10),
			"FANIN_JOB_MISSING="+strconv.FormatInt(job.Missing, 10))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		var stdout, stderr bytes.Buffer
		result := &limited{b: &stdout, n: in.MaxResultSize(), over: func() { _ = killGroup(cmd.Process.Pid) }}
		cmd.Stdout, cmd.Stderr = result, &limited{b: &stderr, n: 4096}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("execproc: start reducer %q: %w", command, err)
		}
		werr := writeOutputs(stdin, in)
		_ = stdin.Close()
		err = cmd.Wait()
		killLeftovers(cmd.Process.Pid) // whatever it left running
		if result.exceeded {
			return nil, fmt.Errorf("%w: the result of reducer %q exceeds %d bytes (it was stopped)", jobs.ErrResultTooLarge, command, in.MaxResultSize())
		}
		if errors.Is(err, exec.ErrWaitDelay) {
			// It exited successfully; a process it left running held its
			// stdout past waitDelay (and is killed above).
			err = nil
		}
		if werr != nil && err == nil {
			return nil, werr
		}
		if err != nil {
			return nil, fmt.Errorf("execproc: reducer %q: %w: %s", command, err, strings.TrimSpace(stderr.String()))
		}
		return stdout.Bytes(), nil
	}), nil
}

// writeOutputs writes the outputs of in as JSON lines to w.
func writeOutputs(w io.Writer, in *jobs.Input) error {
	enc := json.NewEncoder(w)
	for o, err := range in.Outputs() {
		if err != nil {
			return err
		}
		out := json.RawMessage(o.Value)
		if !json.Valid(o.Value) {
			s, _ := json.Marshal(string(o.Value))
			out = s
		}
		if err := enc.Encode(struct {
			ID     string          `json:"id"`
			Output json.RawMessage `json:"output"`
		}{o.EventID, out}); err != nil {
			// The command stopped reading (exited): its exit status says why.
			return fmt.Errorf("execproc: write outputs to reducer: %w", err)
		}
	}
	return nil
}

// limited keeps at most n bytes. Without over it discards the rest; with
// over, the first write past n calls it, records exceeded and fails, which
// ends the copy from the command.
type limited struct {
	b        *bytes.Buffer
	n        int
	over     func()
	exceeded bool
}

// errExceeded ends the copy of a result past its limit.
var errExceeded = errors.New("execproc: result over its limit")

func (l *limited) Write(p []byte) (int, error) {
	room := l.n - l.b.Len()
	if len(p) > room && l.over != nil {
		if !l.exceeded {
			l.exceeded = true
			l.over()
		}
		return 0, errExceeded
	}
	if room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
