package workoutput_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// BenchmarkGatherByID measures Store.Gather's HMGET path in this process:
// the time, bytes and allocations per output of reading 100,000 outputs of
// 100 bytes, by caller-given and by generated IDs (jobs.BenchmarkGather
// measures the whole reduce in a child process against one HVALS).
//
//	go test -run '^$' -bench GatherByID -benchmem ./workoutput/
func BenchmarkGatherByID(b *testing.B) {
	const n = 100_000
	srv := redistest.StartServer(b, redistest.ServerOptions{})
	store, err := workoutput.New(srv.Client(b), workoutput.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), 100)
	for _, given := range []bool{true, false} {
		id := func(i int) string { return workoutput.GeneratedID(int64(i)) }
		batch := workoutput.Batch{Generated: n}
		if given {
			id = func(i int) string { return "sighting-" + strconv.Itoa(i) }
			batch = workoutput.Batch{IDs: make([]string, n)}
			for i := range n {
				batch.IDs[i] = id(i)
			}
		}
		job, err := store.Open(ctx, workoutput.Spec{Kind: "bench"}, batch, true)
		if err != nil {
			b.Fatal(err)
		}
		outs := make([]workoutput.Output, 0, 5000)
		for i := range n {
			outs = append(outs, workoutput.Output{EventID: id(i), Value: value})
			if len(outs) == cap(outs) {
				if _, err := store.Write(ctx, job.ID, workoutput.Record{Outputs: outs}); err != nil {
					b.Fatal(err)
				}
				outs = outs[:0]
			}
		}
		b.Run("ids="+map[bool]string{true: "given", false: "generated"}[given], func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				got := 0
				for o, err := range store.Gather(ctx, job.ID, n) {
					if err != nil {
						b.Fatal(err)
					}
					if len(o.Value) != len(value) {
						b.Fatalf("output of %s is %d bytes, want %d", o.EventID, len(o.Value), len(value))
					}
					got++
				}
				if got != n {
					b.Fatalf("gathered %d outputs, want %d", got, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/output")
		})
	}
}
