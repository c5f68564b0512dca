package locks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// alignToPeriod sleeps until just after the start of a period on the Redis
// server's clock, so a burst of acquisitions falls inside one period.
func alignToPeriod(t *testing.T, r *redistest.Redis, period time.Duration) {
	t.Helper()
	now, err := r.Client.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	ms := now.UnixMilli()
	next := (ms/period.Milliseconds() + 1) * period.Milliseconds()
	time.Sleep(time.Duration(next-ms)*time.Millisecond + 20*time.Millisecond)
}

func TestThrottling(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		const period = 2 * time.Second
		th, err := NewThrottling(ThrottlingConfig{Redis: r.Client, KeyPrefix: r.Prefix, MaxHits: 25, Period: period})
		if err != nil {
			t.Fatal(err)
		}
		alignToPeriod(t, r, period)
		for i := range 25 {
			if err := th.TryAcquire(ctx, "api"); err != nil {
				t.Fatalf("acquisition %d of 25: %v", i+1, err)
			}
		}
		first := r.Client.HGet(ctx, th.keys.throttle("api"), "p").Val()
		err = th.TryAcquire(ctx, "api")
		if !errors.Is(err, ErrNotObtained) || !strings.Contains(err.Error(), `"api"`) {
			t.Fatalf("26th TryAcquire: %v; want ErrNotObtained naming api", err)
		}
		if locked, err := th.IsLocked(ctx, "api"); err != nil || !locked {
			t.Fatalf("IsLocked after 25 = %v, %v; want true", locked, err)
		}
		if locked, _ := th.IsLocked(ctx, "other"); locked {
			t.Fatal("IsLocked of an untouched resource = true")
		}
		// The 26th waits for the next period and is its first hit.
		if err := th.Acquire(ctx, "api", 10*time.Second); err != nil {
			t.Fatalf("26th Acquire: %v", err)
		}
		got, err := r.Client.HMGet(ctx, th.keys.throttle("api"), "p", "n").Result()
		if err != nil {
			t.Fatal(err)
		}
		if got[0] == first || got[1] != "1" {
			t.Fatalf("after the 26th: period %v hits %v; want a new period (not %s) with 1 hit", got[0], got[1], first)
		}
		// Timeout 0: one attempt; a cancelled context ends the wait.
		for range 24 {
			_ = th.TryAcquire(ctx, "api")
		}
		mustBe(t, th.Acquire(ctx, "api", 0), ErrNotObtained, "Acquire(timeout 0) on a full period")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		mustBe(t, th.Acquire(cctx, "api", -1), context.Canceled, "Acquire with a cancelled context")
	})
}

func TestThrottlingConfig(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	for _, c := range []struct {
		cfg  ThrottlingConfig
		want string
	}{
		{ThrottlingConfig{}, "Redis or Cache"},
		{ThrottlingConfig{Redis: r.Client, MaxHits: -1}, "MaxHits"},
		{ThrottlingConfig{Redis: r.Client, Period: time.Microsecond}, "Period"},
		{ThrottlingConfig{Redis: r.Client, KeyPrefix: "{x}"}, "KeyPrefix"},
	} {
		if _, err := NewThrottling(c.cfg); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewThrottling(%+v): %v; want ErrInvalid naming %s", c.cfg, err, c.want)
		}
	}
	th, err := NewThrottling(ThrottlingConfig{Redis: r.Client})
	if err != nil {
		t.Fatal(err)
	}
	if th.max != DefaultMaxHits || th.period != DefaultPeriod {
		t.Fatalf("defaults %d per %v; want %d per %v", th.max, th.period, DefaultMaxHits, DefaultPeriod)
	}
	if err := th.TryAcquire(context.Background(), ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("TryAcquire(\"\"): %v; want ErrInvalid", err)
	}
}
