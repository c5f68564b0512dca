package redistest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MainThreadCPU returns the CPU time (user and system) the main thread of
// server has used so far (used_cpu_user_main_thread and
// used_cpu_sys_main_thread of INFO cpu): what bounds Redis's throughput,
// the network I/O of the commands included, each command counted once
// (INFO commandstats counts the commands a script calls twice).
func MainThreadCPU(ctx context.Context, server redis.UniversalClient) (time.Duration, error) {
	return infoCPU(ctx, server, "used_cpu_user_main_thread", "used_cpu_sys_main_thread")
}

// ServerCPU returns the CPU time (user and system) of every thread of
// server so far (used_cpu_user and used_cpu_sys of INFO cpu); an error
// fails tb.
func ServerCPU(tb testing.TB, server redis.UniversalClient) time.Duration {
	tb.Helper()
	cpu, err := infoCPU(context.Background(), server, "used_cpu_user", "used_cpu_sys")
	if err != nil {
		tb.Fatal(err)
	}
	return cpu
}

// infoCPU returns the sum of the fields of INFO cpu named, in seconds.
func infoCPU(ctx context.Context, server redis.UniversalClient, fields ...string) (time.Duration, error) {
	info, err := server.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("redistest: INFO cpu: %w", err)
	}
	var sec float64
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && slices.Contains(fields, k) {
			f, _ := strconv.ParseFloat(v, 64)
			sec += f
		}
	}
	return time.Duration(sec * float64(time.Second)), nil
}

// CommandTimes returns the server time spent so far in each command, in
// microseconds (the usec field of INFO commandstats), summed over servers
// (the masters of a cluster). Keys are the command names Redis reports
// ("hset", "evalsha", "client|setname"). A command called from a script or
// within MULTI/EXEC counts for itself and again within the EVALSHA or EXEC
// that ran it.
func CommandTimes(ctx context.Context, servers ...redis.UniversalClient) (map[string]int64, error) {
	times := map[string]int64{}
	for _, s := range servers {
		info, err := s.Info(ctx, "commandstats").Result()
		if err != nil {
			return nil, fmt.Errorf("redistest: INFO commandstats: %w", err)
		}
		for line := range strings.Lines(info) {
			name, stats, ok := strings.Cut(line, ":")
			if !ok || !strings.HasPrefix(name, "cmdstat_") {
				continue
			}
			for field := range strings.SplitSeq(strings.TrimSpace(stats), ",") {
				if v, ok := strings.CutPrefix(field, "usec="); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					times[strings.TrimPrefix(name, "cmdstat_")] += n
				}
			}
		}
	}
	return times, nil
}

// CommandTimeLines returns one line per command whose time grew from before
// to after (two CommandTimes), with that growth in µs and per event,
// sorted by command name.
func CommandTimeLines(before, after map[string]int64, events int) []string {
	var lines []string
	for cmd, usec := range after {
		if d := usec - before[cmd]; d > 0 {
			lines = append(lines, fmt.Sprintf("%-24s %9d µs %7.3f µs/event", cmd, d, float64(d)/float64(max(events, 1))))
		}
	}
	slices.Sort(lines)
	return lines
}
