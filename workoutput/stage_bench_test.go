package workoutput

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// BenchmarkOpenStall opens jobs of 20,000 and 100,000 caller-given IDs on a
// fresh server each, "staged" as Open does (pieces of 1,000 before
// open.lua) against "inline" (every ID an argument of one open.lua call,
// as Open did before), and reports what the Open cost: the longest command
// Redis ran (SLOWLOG of every command over 500 µs; 0 for none), the longest
// reply of a PING sent about every 200 µs meanwhile on a connection of its
// own, Open's wall time, and Redis's CPU time per ID (INFO cpu).
//
//	go test -run '^$' -bench OpenStall -benchtime 3x ./workoutput/
func BenchmarkOpenStall(b *testing.B) {
	for _, n := range []int{20_000, 100_000} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("sighting-%08d", i)
		}
		for _, mode := range []string{"inline", "staged"} {
			b.Run(fmt.Sprintf("ids=%d/%s", n, mode), func(b *testing.B) {
				ctx := context.Background()
				srv := redistest.StartServer(b, redistest.ServerOptions{})
				c := srv.Client(b)
				store, err := New(c, Config{})
				if err != nil {
					b.Fatal(err)
				}
				if mode == "inline" {
					store.stagePiece = n // every ID an argument of open.lua
				}
				for _, kv := range [][2]string{{"slowlog-log-slower-than", "500"}, {"slowlog-max-len", "1000000"}} {
					if err := c.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
						b.Fatal(err)
					}
				}
				pinger := srv.Client(b)
				var longest, ping, wall, cpu time.Duration
				for range b.N {
					if err := c.SlowLogReset(ctx).Err(); err != nil {
						b.Fatal(err)
					}
					cpu0 := redisCPU(b, store)
					stop, pinged := make(chan struct{}), make(chan time.Duration)
					go func() {
						var most time.Duration
						for {
							select {
							case <-stop:
								pinged <- most
								return
							default:
							}
							start := time.Now()
							if err := pinger.Ping(ctx).Err(); err != nil {
								b.Error(err)
							}
							most = max(most, time.Since(start))
							time.Sleep(200 * time.Microsecond)
						}
					}()
					start := time.Now()
					_, err := store.Open(ctx, Spec{Kind: "k"}, Batch{IDs: ids}, true)
					wall += time.Since(start)
					close(stop)
					ping = max(ping, <-pinged)
					if err != nil {
						b.Fatal(err)
					}
					cpu += redisCPU(b, store) - cpu0
					slow, err := c.SlowLogGet(ctx, -1).Result()
					if err != nil {
						b.Fatal(err)
					}
					for _, s := range slow {
						if !strings.EqualFold(s.Args[0], "slowlog") {
							longest = max(longest, s.Duration)
						}
					}
				}
				b.ReportMetric(float64(longest.Microseconds()), "longest-cmd-µs")
				b.ReportMetric(float64(ping.Microseconds())/1000, "max-ping-ms")
				b.ReportMetric(float64(wall.Microseconds())/1000/float64(b.N), "open-ms")
				b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(n*b.N), "redis-cpu-µs/id")
			})
		}
	}
}

// redisCPU returns the CPU time of the store's server's main thread.
func redisCPU(b *testing.B, s *Store) time.Duration {
	b.Helper()
	cpu, err := redistest.MainThreadCPU(context.Background(), s.client)
	if err != nil {
		b.Fatal(err)
	}
	return cpu
}
