package jobs

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"sync"

	json "github.com/goccy/go-json"

	"github.com/fanin-dev/fanin/workoutput"
)

// The batches decodeOutputs decodes: at most decodeBatch outputs and about
// decodeBatchBytes of them (one larger output is a batch of its own); and
// the most goroutines that decode them for one Outputs (memory: about
// maxDecoders + 3 batches).
const (
	decodeBatch      = 256
	decodeBatchBytes = 256 << 10
	maxDecoders      = 8
)

// decodeOutput decodes one output from JSON into T; an output that does not
// decode is an error wrapping ErrBadOutput that names the event.
func decodeOutput[T any](o workoutput.Output) (TypedOutput[T], error) {
	var v T
	if err := json.Unmarshal(o.Value, &v); err != nil {
		return TypedOutput[T]{}, fmt.Errorf("%w: output of event %q does not decode into %T: %v", ErrBadOutput, o.EventID, v, err)
	}
	return TypedOutput[T]{EventID: o.EventID, Value: v}, nil
}

// decodeBatchOf is a batch of outputs read in order, decoded by one of
// decodeOutputs' goroutines.
type decodeBatchOf[T any] struct {
	raw     []workoutput.Output
	readErr error // the error the read ended with after raw, if any
	out     []TypedOutput[T]
	err     error         // the first output of raw that does not decode
	done    chan struct{} // closed once out and err are set
}

// decode decodes b.raw into b.out up to the first output that does not
// decode (b.err), and closes b.done. A panic of the decoder (a T whose
// UnmarshalJSON panics) is b.err, as a panic of the reducer is an error
// of its attempt: it must not end the process from this goroutine.
func (b *decodeBatchOf[T]) decode() {
	defer close(b.done)
	var id string
	defer func() {
		if r := recover(); r != nil {
			b.err = fmt.Errorf("%w: decoding the output of event %q panicked: %v", ErrBadOutput, id, r)
		}
	}()
	b.out = make([]TypedOutput[T], 0, len(b.raw))
	for _, o := range b.raw {
		id = o.EventID
		v, err := decodeOutput[T](o)
		if err != nil {
			b.err = err
			return
		}
		b.out = append(b.out, v)
	}
}

// decodeOutputs is Outputs decoding in workers goroutines: one goroutine
// reads the outputs into batches, the workers decode the batches, and the
// caller gets them in the order read, so that the first output that does
// not decode (in that order) ends the sequence. Every goroutine ends before
// the sequence does, also when the caller stops early. Memory: at most
// workers + 3 batches are held at once (queued for the caller, decoded or
// decoding; one the reader is handing over, one it fills, one the caller
// has).
func decodeOutputs[T any](in *Input, workers int) iter.Seq2[TypedOutput[T], error] {
	return func(yield func(TypedOutput[T], error) bool) {
		ctx, cancel := context.WithCancel(in.ctx)
		todo := make(chan *decodeBatchOf[T])           // to the decoders
		order := make(chan *decodeBatchOf[T], workers) // to the caller, in the order read
		read := false                                  // the reader handed over every output and error; set before order closes
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for b := range todo {
					b.decode()
				}
			})
		}
		wg.Go(func() {
			defer close(order)
			defer close(todo)
			// send hands b to a decoder, then queues it for the caller: a
			// batch the caller waits for is always decoded.
			send := func(b *decodeBatchOf[T]) bool {
				select {
				case todo <- b:
				case <-ctx.Done():
					return false
				}
				select {
				case order <- b:
					return true
				case <-ctx.Done():
					return false
				}
			}
			b, size := &decodeBatchOf[T]{done: make(chan struct{})}, 0
			for o, err := range in.Outputs() {
				if err != nil {
					b.readErr = err
					read = send(b)
					return
				}
				b.raw = append(b.raw, o)
				if size += len(o.Value); len(b.raw) == decodeBatch || size >= decodeBatchBytes {
					if !send(b) {
						return
					}
					b, size = &decodeBatchOf[T]{done: make(chan struct{})}, 0
				}
			}
			read = len(b.raw) == 0 || send(b)
		})
		defer func() {
			cancel()
			for range order { // let the reader end
			}
			wg.Wait()
		}()
		for b := range order {
			<-b.done
			for _, v := range b.out {
				if !yield(v, nil) {
					return
				}
			}
			if err := cmp.Or(b.err, b.readErr); err != nil {
				yield(TypedOutput[T]{}, err)
				return
			}
		}
		if !read {
			// The reader stopped before the end: ctx ended while it
			// waited for a decoder or for the caller.
			err := fmt.Errorf("outputs of job %s: %w", in.jobID, context.Cause(ctx))
			in.readFailed(err)
			yield(TypedOutput[T]{}, err)
		}
	}
}
