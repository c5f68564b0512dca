package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/workoutput"
)

// decodeJob opens a sealed job of n generated events and writes output
// {"n":i} for event #i, or value for #bad when bad >= 0; it returns an
// Input over it.
func decodeJob(t *testing.T, ctx context.Context, env testEnv, n, bad int, value string) *Input {
	t.Helper()
	job, err := env.store.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: n}, true)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]workoutput.Output, n)
	for i := range outs {
		v := `{"n":` + strconv.Itoa(i) + `}`
		if i == bad {
			v = value
		}
		outs[i] = workoutput.Output{EventID: workoutput.GeneratedID(int64(i)), Value: []byte(v)}
	}
	for len(outs) > 0 {
		k := min(len(outs), 1000)
		if _, err := env.store.Write(ctx, job.ID, workoutput.Record{Outputs: outs[:k]}); err != nil {
			t.Fatal(err)
		}
		outs = outs[k:]
	}
	return &Input{ctx: ctx, store: env.store, jobID: job.ID, outputs: int64(n), maxResultSize: DefaultMaxResultSize}
}

type decoded struct {
	N int `json:"n"`
}

// TestDecodeOutputs checks Outputs' parallel decoding (decodeOutputs) on
// a real job: every output once, decoded; the first output that does not
// decode ends the sequence with an error naming it, after the outputs read
// before it; a caller that stops early; and a context that ends while the
// outputs are read.
func TestDecodeOutputs(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	ctx := context.Background()
	const n = 3*decodeBatch + 17

	for _, workers := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("all/workers=%d", workers), func(t *testing.T) {
			in := decodeJob(t, ctx, env, n, -1, "")
			seen := make([]int, n)
			for o, err := range decodeOutputs[decoded](in, workers) {
				if err != nil {
					t.Fatal(err)
				}
				if o.EventID != workoutput.GeneratedID(int64(o.Value.N)) {
					t.Fatalf("event %s decoded %+v; want n = its number", o.EventID, o.Value)
				}
				seen[o.Value.N]++
			}
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("output of #%d yielded %d times; want once", i, c)
				}
			}
			if err := in.readError(); err != nil {
				t.Fatalf("readError = %v; want nil", err)
			}
		})
	}

	t.Run("bad output", func(t *testing.T) {
		const bad = 2*decodeBatch + 5
		in := decodeJob(t, ctx, env, n, bad, `{"n":"x"}`)
		seen := map[string]bool{}
		var err error
		for o, e := range decodeOutputs[decoded](in, 3) {
			if err != nil {
				t.Fatalf("output of %s yielded after the error %v", o.EventID, err)
			}
			if err = e; e == nil {
				if seen[o.EventID] {
					t.Fatalf("output of %s yielded twice", o.EventID)
				}
				seen[o.EventID] = true
			}
		}
		badID := workoutput.GeneratedID(bad)
		want := fmt.Sprintf(`jobs: output does not decode: output of event %q does not decode into jobs.decoded: `, badID)
		if !errors.Is(err, ErrBadOutput) || !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("error = %v; want ErrBadOutput starting %q", err, want)
		}
		if seen[badID] || len(seen) >= n {
			t.Fatalf("%d outputs yielded, the bad one %v; want fewer than %d, not the bad one", len(seen), seen[badID], n)
		}
	})

	t.Run("caller stops early", func(t *testing.T) {
		in := decodeJob(t, ctx, env, n, -1, "")
		got := 0
		for _, err := range decodeOutputs[decoded](in, 2) {
			if err != nil {
				t.Fatal(err)
			}
			if got++; got == 10 {
				break
			}
		}
		if got != 10 {
			t.Fatalf("%d outputs; want 10", got)
		}
		// The sequence can be read again, whole.
		again := 0
		for _, err := range decodeOutputs[decoded](in, 2) {
			if err != nil {
				t.Fatal(err)
			}
			again++
		}
		if again != n {
			t.Fatalf("a second read yielded %d outputs; want %d", again, n)
		}
	})

	t.Run("context ends", func(t *testing.T) {
		cause := errors.New("the lock was lost")
		cctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		in := decodeJob(t, cctx, env, n, -1, "")
		got := 0
		var err error
		for _, e := range decodeOutputs[decoded](in, 2) {
			if e != nil {
				err = e
				break
			}
			if got++; got == 5 {
				cancel(cause)
			}
		}
		if got == n || err == nil {
			t.Fatalf("%d outputs, error %v; want the sequence to end with an error once its context ended", got, err)
		}
		if !errors.Is(err, cause) && !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v; want the context's", err)
		}
		if in.readError() == nil {
			t.Fatal("readError = nil; want the read recorded as failed, so that no result built on it is committed")
		}
	})
}

// TestHandleHostilePayloads feeds a typed handler payloads built to hurt a
// JSON decoder (deep nesting, a truncated document, invalid UTF-8, numbers
// out of range, the wrong types): each fails its event with ErrBadInput,
// and none reaches the handler or panics.
func TestHandleHostilePayloads(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	mux, err := NewMux(env.client, env.store, MuxConfig{CollectQueue: collectQueue})
	if err != nil {
		t.Fatal(err)
	}
	type in struct {
		ID    string  `json:"id"`
		N     int8    `json:"n"`
		F     float64 `json:"f"`
		Items []int   `json:"items"`
	}
	called := false
	if err := Handle(mux, "k", func(_ context.Context, v in) (in, error) { called = true; return v, nil }); err != nil {
		t.Fatal(err)
	}
	handler := mux.handlers["k"]
	for name, payload := range map[string]string{
		"nested arrays":            `{"items":` + strings.Repeat("[", 1_000_000),
		"nested objects":           `{"id":"a","x":` + strings.Repeat(`{"a":`, 200_000),
		"truncated":                `{"id":"a","n":`,
		"invalid UTF-8, truncated": "{\"id\":\"\xff\xfe\",\"n\":1,",
		"int8 overflow":            `{"n":300}`,
		"float overflow":           `{"f":1e999}`,
		"wrong type":               `{"items":{"a":1}}`,
		"not JSON at all":          "\x00\x01\x02",
		"empty":                    ``,
	} {
		out, err := handler(context.Background(), []byte(payload))
		if !errors.Is(err, ErrBadInput) || out != nil {
			t.Errorf("%s: output %q, error %v; want no output and ErrBadInput", name, out, err)
		}
	}
	if called {
		t.Error("the handler was called with a payload that does not decode")
	}
}

// panicky panics when it is decoded.
type panicky struct{}

func (*panicky) UnmarshalJSON([]byte) error { panic("boom") }

// TestDecodeOutputsPanic: a T whose decoding panics ends the sequence with
// an error naming the event, on the decoders' goroutines as on the
// caller's; the process goes on.
func TestDecodeOutputsPanic(t *testing.T) {
	t.Parallel()
	env := newEnv(t, false, workoutput.Config{})
	in := decodeJob(t, context.Background(), env, 3*decodeBatch, -1, "")
	var err error
	for _, e := range decodeOutputs[panicky](in, 2) {
		if e != nil {
			err = e
		}
	}
	if !errors.Is(err, ErrBadOutput) || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("error = %v; want ErrBadOutput saying the decoding panicked", err)
	}
}
