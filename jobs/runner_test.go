package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunEventsTimesOutOneEventAndGoesOn runs a chunk whose second event
// waits for its context: it gets a TimeoutError after its timeout, having
// seen on its own context what a context.WithTimeout shows (the deadline,
// Err DeadlineExceeded, the cause ErrEventTimeout) and its IDs; the events
// before and after it run once each, with their own IDs.
func TestRunEventsTimesOutOneEventAndGoesOn(t *testing.T) {
	t.Parallel()
	const timeout = 50 * time.Millisecond
	var calls [3]atomic.Int32
	var seen atomic.Value
	h := RawHandler(func(ctx context.Context, p []byte) ([]byte, error) {
		i := int(p[0] - '0')
		calls[i].Add(1)
		if got := EventID(ctx); got != fmt.Sprint("e", i) || JobID(ctx) != "job" {
			return nil, fmt.Errorf("IDs %q, %q", JobID(ctx), got)
		}
		if i != 1 {
			return p, nil
		}
		dl, ok := ctx.Deadline()
		<-ctx.Done()
		seen.Store(fmt.Sprintf("%v %v %v", ok && time.Until(dl) < timeout, ctx.Err(), context.Cause(ctx)))
		return nil, ctx.Err()
	})
	res := runEvents(context.Background(), "job", []string{"e0", "e1", "e2"}, [][]byte{[]byte("0"), []byte("1"), []byte("2")}, nil, h, timeout)
	for i := range calls {
		if n := calls[i].Load(); n != 1 {
			t.Fatalf("event %d ran %d times, want once", i, n)
		}
	}
	if want := fmt.Sprintf("true %v %v", context.DeadlineExceeded, ErrEventTimeout); seen.Load() != want {
		t.Fatalf("the timed-out handler saw %q, want %q", seen.Load(), want)
	}
	if !res[0].ran || res[0].err != nil || string(res[0].out) != "0" || !res[2].ran || res[2].err != nil || string(res[2].out) != "2" {
		t.Fatalf("results = %+v; want events 0 and 2 done", res)
	}
	var te *TimeoutError
	if !res[1].ran || !errors.As(res[1].err, &te) || te.Abandoned || !errors.Is(res[1].err, ErrEventTimeout) || res[1].err.Error() != "timed out after 50ms" {
		t.Fatalf("event 1 = %+v; want %q", res[1], "timed out after 50ms")
	}
}

// TestRunEventsTimeoutThroughADerivedContext: a handler that waits on a
// context it derived from its own (context.WithCancel, as a client library
// does) gets context.Canceled from it when the event times out; the event's
// failure is still the timeout alone.
func TestRunEventsTimeoutThroughADerivedContext(t *testing.T) {
	t.Parallel()
	h := RawHandler(func(ctx context.Context, _ []byte) ([]byte, error) {
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		<-child.Done()
		return nil, child.Err()
	})
	res := runEvents(context.Background(), "job", []string{"e0"}, [][]byte{[]byte("0")}, nil, h, 20*time.Millisecond)
	if !res[0].ran || !errors.Is(res[0].err, ErrEventTimeout) || res[0].err.Error() != "timed out after 20ms" {
		t.Fatalf("event 0 = %+v; want %q", res[0], "timed out after 20ms")
	}
}

// TestRunEventsAbandonsAHandlerThatIgnoresItsContext: a handler deaf to its
// cancelled context is abandoned AbandonAfter past its timeout, and the rest
// of the chunk runs; what the abandoned handler returns later is dropped.
func TestRunEventsAbandonsAHandlerThatIgnoresItsContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var after atomic.Int32
	h := RawHandler(func(ctx context.Context, p []byte) ([]byte, error) {
		if string(p) == "deaf" {
			<-release
			return []byte("late"), nil
		}
		after.Add(1)
		return p, nil
	})
	res := runEvents(context.Background(), "job", []string{"a", "b", "c"}, [][]byte{[]byte("deaf"), []byte("b"), []byte("c")}, nil, h, 10*time.Millisecond)
	close(release)
	var te *TimeoutError
	if !res[0].ran || !errors.As(res[0].err, &te) || !te.Abandoned || !strings.HasPrefix(res[0].err.Error(), "timed out after 10ms; the handler ignored") {
		t.Fatalf("event a = %+v; want an abandoned TimeoutError", res[0])
	}
	if after.Load() != 2 || string(res[1].out) != "b" || string(res[2].out) != "c" {
		t.Fatalf("results = %+v, later events run %d times; want b and c done once", res, after.Load())
	}
	time.Sleep(10 * time.Millisecond) // the abandoned handler returns now
	if string(res[0].out) == "late" {
		t.Fatal("the abandoned handler's late output was recorded")
	}
}

// TestRunEventsLeavesTheRestWhenTheChunkEnds: when the chunk's context ends
// (a shutdown), the event in progress whose handler fails then and the
// events not started are left unrun, for the chunk's retry; the done
// events (skip) are not run, and the events before keep their outputs.
func TestRunEventsLeavesTheRestWhenTheChunkEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	h := RawHandler(func(ctx context.Context, p []byte) ([]byte, error) {
		ran.Add(1)
		if string(p) == "stop" {
			cancel()
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return p, nil
	})
	ids := []string{"a", "b", "c", "d"}
	res := runEvents(ctx, "job", ids, [][]byte{[]byte("a"), []byte("b"), []byte("stop"), []byte("d")}, []bool{false, true, false, false}, h, time.Minute)
	if ran.Load() != 2 || !res[0].ran || string(res[0].out) != "a" || res[1].ran || res[2].ran || res[3].ran {
		t.Fatalf("results = %+v after %d runs; want a done, b skipped, c and d left", res, ran.Load())
	}
}

// TestRunEventsTurnsAPanicIntoAnError: a panicking handler fails its event
// only.
func TestRunEventsTurnsAPanicIntoAnError(t *testing.T) {
	t.Parallel()
	h := RawHandler(func(ctx context.Context, p []byte) ([]byte, error) {
		if string(p) == "boom" {
			panic("boom")
		}
		return p, nil
	})
	res := runEvents(context.Background(), "job", []string{"a", "b"}, [][]byte{[]byte("boom"), []byte("b")}, nil, h, time.Minute)
	if res[0].err == nil || !strings.Contains(res[0].err.Error(), "handler of event a panicked: boom") || string(res[1].out) != "b" {
		t.Fatalf("results = %+v; want a's panic as its error, b done", res)
	}
}

// BenchmarkRunEvents is the cost of running trivial handlers, per event,
// over chunks of 500: runEvents (one goroutine and one timer per chunk)
// beside the baseline it replaced, a goroutine, a channel and a
// context.WithTimeout per event.
func BenchmarkRunEvents(b *testing.B) {
	const n = 500
	ids := make([]string, n)
	payloads := make([][]byte, n)
	for i := range ids {
		ids[i], payloads[i] = fmt.Sprint(i), []byte("x")
	}
	h := RawHandler(func(ctx context.Context, p []byte) ([]byte, error) { return p, nil })
	ctx := context.Background()
	b.Run("runEvents", func(b *testing.B) {
		for i := 0; i < b.N; i += n {
			runEvents(ctx, "job", ids, payloads, nil, h, time.Minute)
		}
	})
	b.Run("baseline=goroutine-per-event", func(b *testing.B) {
		type result struct {
			out []byte
			err error
		}
		for i := 0; i < b.N; i++ {
			ectx, cancel := context.WithTimeout(context.WithValue(context.WithValue(ctx, jobIDKey, "job"), eventIDKey, ids[i%n]), time.Minute)
			done := make(chan result, 1)
			go func() {
				out, err := run(ectx, h, payloads[i%n])
				done <- result{out, err}
			}()
			select {
			case <-done:
			case <-ectx.Done():
			}
			cancel()
		}
	})
}
