package locks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestFenceCommitIfFenced(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		f, err := NewFence(FenceConfig{Redis: r.Client, KeyPrefix: r.Prefix})
		if err != nil {
			t.Fatal(err)
		}
		res := "job:{42}" // a resource with its own hash tag
		if HashTag(res) != "{42}" || f.Key(res) != FenceKey(r.Prefix, res) {
			t.Fatalf("HashTag %q, Key %q", HashTag(res), f.Key(res))
		}
		sink := r.Prefix + "result:" + HashTag(res)
		if h, err := f.Highest(ctx, res); err != nil || h != 0 {
			t.Fatalf("Highest before any write = %d, %v; want 0", h, err)
		}
		steps := []struct {
			token int64
			value string
			want  error
		}{
			{2, "two", nil},
			{1, "one", ErrFenced}, // older than 2
			{2, "two again", nil}, // the same holder may write again
			{5, "five", nil},
			{3, "three", ErrFenced},
		}
		for _, s := range steps {
			err := f.CommitIfFenced(ctx, res, s.token, sink, []byte(s.value), 0)
			if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
				t.Fatalf("commit token %d: %v; want %v", s.token, err, s.want)
			}
		}
		if v := r.Client.Get(ctx, sink).Val(); v != "five" {
			t.Fatalf("sink = %q; want five", v)
		}
		if h, _ := f.Highest(ctx, res); h != 5 {
			t.Fatalf("Highest = %d; want 5", h)
		}
		mustBe(t, f.Check(ctx, res, 4, 0), ErrFenced, "Check with an old token")
		if err := f.Check(ctx, res, 6, 0); err != nil {
			t.Fatalf("Check with a new token: %v", err)
		}
		mustBe(t, f.CommitIfFenced(ctx, res, 5, sink, []byte("x"), 0), ErrFenced, "commit after a newer Check")

		// A sink key outside the resource's slot is refused before Redis.
		err = f.CommitIfFenced(ctx, res, 9, r.Prefix+"result:{other}", []byte("x"), 0)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "{42}") {
			t.Fatalf("commit to a key without the hash tag: %v; want ErrInvalid naming {42}", err)
		}
		for _, bad := range []struct {
			token int64
			ttl   time.Duration
		}{{0, 0}, {-1, 0}, {1, -time.Second}} {
			if err := f.CommitIfFenced(ctx, res, bad.token, sink, nil, bad.ttl); !errors.Is(err, ErrInvalid) {
				t.Fatalf("commit token %d ttl %v: %v; want ErrInvalid", bad.token, bad.ttl, err)
			}
		}
	})
}

func TestFenceTTL(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	f, err := NewFence(FenceConfig{Redis: r.Client, KeyPrefix: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	sink := r.Prefix + "out:" + HashTag("res")
	if err := f.CommitIfFenced(ctx, "res", 1, sink, []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if pttl := r.Client.PTTL(ctx, f.Key("res")).Val(); pttl <= 0 || pttl > time.Minute {
		t.Fatalf("fence PTTL %v; want the value's minute", pttl)
	}
	if pttl := r.Client.PTTL(ctx, sink).Val(); pttl <= 0 || pttl > time.Minute {
		t.Fatalf("sink PTTL %v; want a minute", pttl)
	}
	// A longer-lived value extends the fence; a value without TTL keeps it for ever.
	if err := f.CommitIfFenced(ctx, "res", 1, sink, []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if pttl := r.Client.PTTL(ctx, f.Key("res")).Val(); pttl <= time.Minute {
		t.Fatalf("fence PTTL %v after an hour-long commit; want above a minute", pttl)
	}
	if err := f.CommitIfFenced(ctx, "res", 1, sink, []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if pttl := r.Client.PTTL(ctx, f.Key("res")).Val(); pttl != -1 {
		t.Fatalf("fence PTTL %v after a commit without TTL; want none (-1)", pttl)
	}
	if _, err := NewFence(FenceConfig{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewFence without Redis: %v; want ErrInvalid", err)
	}
}

// TestFenceLuaReuse checks the exported fence check inside another script,
// as the job store's commit does with a hash field.
func TestFenceLuaReuse(t *testing.T) {
	eachRedis(t, func(t *testing.T, _ target, r *redistest.Redis) {
		ctx := context.Background()
		script := redis.NewScript(FenceLua() + `
local ok, seen = fanin_fence(KEYS[1], tonumber(ARGV[1]), 0)
if not ok then return seen end
redis.call('HSET', KEYS[2], 'result', ARGV[2])
return -1`)
		res := "job-7"
		keys := []string{FenceKey(r.Prefix, res), r.Prefix + "job:" + HashTag(res)}
		if n, err := script.Run(ctx, r.Client, keys, 3, "new").Int64(); err != nil || n != -1 {
			t.Fatalf("fenced HSET with token 3 = %d, %v; want accepted (-1)", n, err)
		}
		if n, err := script.Run(ctx, r.Client, keys, 2, "stale").Int64(); err != nil || n != 3 {
			t.Fatalf("fenced HSET with token 2 = %d, %v; want rejected, highest 3", n, err)
		}
		if v := r.Client.HGet(ctx, keys[1], "result").Val(); v != "new" {
			t.Fatalf("hash field = %q; want new", v)
		}
	})
}
