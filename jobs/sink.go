package jobs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Sink receives a committed result, after the commit. Redis holds the
// result of record (workoutput.Store.Result); a sink is a copy, written at
// least once per commit: a replay writes it again, and so may a takeover
// after a crash between commit and sink. A sink should therefore replace,
// not append, where it can.
type Sink interface {
	Write(ctx context.Context, out Outcome) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, out Outcome) error

// Write calls f.
func (f SinkFunc) Write(ctx context.Context, out Outcome) error { return f(ctx, out) }

// FileSink returns a Sink that writes each result to dir/<job ID>.result,
// atomically (a temporary file renamed into place), so a reader never sees
// a partial result and a replay replaces the file.
func FileSink(dir string) Sink {
	return SinkFunc(func(ctx context.Context, out Outcome) error {
		if dir == "" {
			return fmt.Errorf("%w: FileSink needs a directory", ErrInvalid)
		}
		f, err := os.CreateTemp(dir, out.JobID+".*.tmp")
		if err != nil {
			return fmt.Errorf("jobs: file sink: %w", err)
		}
		_, err = f.Write(out.Result)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), filepath.Join(dir, out.JobID+".result"))
		}
		if err != nil {
			_ = os.Remove(f.Name())
			return fmt.Errorf("jobs: file sink of job %s: %w", out.JobID, err)
		}
		return nil
	})
}

// WriterSink returns a Sink that writes each result to w (os.Stdout, for
// example), followed by a newline when it does not end with one. Writes of
// concurrent collections do not interleave.
func WriterSink(w io.Writer) Sink {
	var mu sync.Mutex
	return SinkFunc(func(ctx context.Context, out Outcome) error {
		if w == nil {
			return fmt.Errorf("%w: WriterSink needs a writer", ErrInvalid)
		}
		mu.Lock()
		defer mu.Unlock()
		b := out.Result
		if len(b) == 0 || b[len(b)-1] != '\n' {
			b = append(b[:len(b):len(b)], '\n')
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("jobs: writer sink of job %s: %w", out.JobID, err)
		}
		return nil
	})
}
