package asynqfanin

import (
	"context"
	"strconv"
	"testing"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// TestRun runs the baseline over 200 events on a real server: every output
// is in the hash the reduce reads, and the result is written once.
func TestRun(t *testing.T) {
	t.Parallel()
	client := redistest.StartServer(t, redistest.ServerOptions{}).Client(t)
	var payloads [][]byte
	for i := range 200 {
		payloads = append(payloads, []byte(strconv.Itoa(i)))
	}
	var reduced int
	_, err := Run(context.Background(), Config{
		Client: client, Concurrency: 4,
		Handle: func(_ context.Context, _ string, p []byte) (string, []byte, error) { return "e" + string(p), p, nil },
		Reduce: func(outputs []string) ([]byte, error) {
			reduced++
			sum := 0
			for _, o := range outputs {
				n, err := strconv.Atoi(o)
				if err != nil {
					return nil, err
				}
				sum += n
			}
			return []byte(strconv.Itoa(sum)), nil
		},
	}, payloads)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := client.Get(context.Background(), ResultKey).Result(); err != nil || got != "19900" || reduced != 1 {
		t.Fatalf("result %q, %v, reduced %d times; want 19900 (0 + ... + 199), reduced once", got, err, reduced)
	}
}

// TestRunNeedsItsParts checks that a config without its parts is an error,
// not a panic.
func TestRunNeedsItsParts(t *testing.T) {
	t.Parallel()
	if _, err := Run(context.Background(), Config{}, [][]byte{[]byte("x")}); err == nil {
		t.Fatal("Run with an empty Config: no error")
	}
}
