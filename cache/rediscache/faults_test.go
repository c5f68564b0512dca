package rediscache

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
)

// everyOperation calls each method of c once on key and returns the errors,
// by method name.
func everyOperation(ctx context.Context, c *Cache, key string) map[string]error {
	errs := map[string]error{}
	call := func(name string, err error) { errs[name] = err }
	e := cache.ExpiresIn(time.Hour)
	_, err := c.Get(ctx, key)
	call("Get", err)
	_, err = c.GetAll(ctx, []string{key, key + "2"})
	call("GetAll", err)
	_, err = c.Add(ctx, key, 1, e)
	call("Add", err)
	_, err = c.Set(ctx, key, 1, e)
	call("Set", err)
	_, err = c.SetAll(ctx, map[string]any{key: 1}, e)
	call("SetAll", err)
	_, err = c.Replace(ctx, key, 1, e)
	call("Replace", err)
	_, err = c.ReplaceIfEqual(ctx, key, 2, 1, e)
	call("ReplaceIfEqual", err)
	_, err = c.Remove(ctx, key)
	call("Remove", err)
	_, err = c.RemoveIfEqual(ctx, key, 1)
	call("RemoveIfEqual", err)
	_, err = c.RemoveAll(ctx, []string{key})
	call("RemoveAll", err)
	_, err = c.RemoveByPrefix(ctx, key)
	call("RemoveByPrefix", err)
	_, err = c.Exists(ctx, key)
	call("Exists", err)
	_, err = c.Increment(ctx, key, 1, e)
	call("Increment", err)
	_, err = c.IncrementFloat(ctx, key, 1.5, e)
	call("IncrementFloat", err)
	_, err = c.SetIfHigher(ctx, key, 1, e)
	call("SetIfHigher", err)
	_, err = c.SetIfLowerFloat(ctx, key, 1, e)
	call("SetIfLowerFloat", err)
	_, err = c.GetExpiration(ctx, key)
	call("GetExpiration", err)
	_, err = c.GetAllExpiration(ctx, []string{key})
	call("GetAllExpiration", err)
	call("SetExpiration", c.SetExpiration(ctx, key, e))
	call("SetAllExpiration", c.SetAllExpiration(ctx, map[string]cache.Expiration{key: e}))
	_, err = c.ListAdd(ctx, key, []any{1}, e)
	call("ListAdd", err)
	_, err = c.ListRemove(ctx, key, []any{1})
	call("ListRemove", err)
	_, err = c.GetList(ctx, key, cache.Page{})
	call("GetList", err)
	_, err = c.HashSet(ctx, key, "f", 1)
	call("HashSet", err)
	_, err = c.HashGet(ctx, key, "f")
	call("HashGet", err)
	_, err = c.HashGetMany(ctx, key, []string{"f"})
	call("HashGetMany", err)
	_, err = c.HashLen(ctx, key)
	call("HashLen", err)
	_, err = c.HashDelete(ctx, key, "f")
	call("HashDelete", err)
	err = nil
	for _, e := range c.HashScan(ctx, key, 10) {
		if e != nil {
			err = e
		}
	}
	call("HashScan", err)
	return errs
}

func TestKilledServerIsUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	opts := srv.Options()
	opts.DialerRetries, opts.DialerRetryTimeout = 1, time.Millisecond // fail fast once killed
	client := redis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	c, err := New(client, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Set(ctx, "k", 1, cache.Expiration{}); err != nil {
		t.Fatalf("Set before Kill: %v", err)
	}
	srv.Kill(t)
	for op, err := range everyOperation(ctx, c, "k") {
		var netErr *net.OpError
		if !errors.Is(err, cache.ErrUnavailable) || !errors.As(err, &netErr) {
			t.Errorf("%s on a killed server: %v; want ErrUnavailable wrapping the network error", op, err)
		}
	}
}

func TestDeadlineOnPausedServer(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	c, err := New(srv.Client(t), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set(context.Background(), "k", 1, cache.Expiration{}); err != nil {
		t.Fatalf("Set before Pause: %v", err)
	}
	srv.Pause(t)
	t.Cleanup(func() { srv.Resume(t) })
	for _, op := range []string{"Get", "Set", "Increment", "ListAdd", "HashScan", "RemoveByPrefix", "GetAll"} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := oneOperation(ctx, c, "k", op)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s on a paused server: %v; want DeadlineExceeded and ErrUnavailable", op, err)
		}
	}
}

// oneOperation runs one operation, by name, of the kinds that reach Redis
// differently: a command, a script, a scan, a pipeline.
func oneOperation(ctx context.Context, c *Cache, key, op string) error {
	e := cache.ExpiresIn(time.Hour)
	switch op {
	case "Get":
		_, err := c.Get(ctx, key)
		return err
	case "Set":
		_, err := c.Set(ctx, key, 1, e)
		return err
	case "Increment":
		_, err := c.Increment(ctx, key, 1, e)
		return err
	case "ListAdd":
		_, err := c.ListAdd(ctx, key, []any{1}, e)
		return err
	case "HashScan":
		for _, err := range c.HashScan(ctx, key, 10) {
			if err != nil {
				return err
			}
		}
		return nil
	case "RemoveByPrefix":
		_, err := c.RemoveByPrefix(ctx, key)
		return err
	case "GetAll":
		_, err := c.GetAll(ctx, []string{key, key + "2"})
		return err
	}
	panic("unknown operation " + op)
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	c := newCache(t, r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for op, err := range everyOperation(ctx, c, "k") {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v; want context.Canceled", op, err)
		}
	}
	if r.Client.Exists(context.Background(), r.Key("k")).Val() != 0 {
		t.Errorf("a key was written with a canceled context")
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	c := newCache(t, r)
	ctx := context.Background()
	for op, err := range everyOperation(ctx, c, "") {
		if op == "RemoveByPrefix" { // "" is a valid prefix: everything under KeyPrefix
			if err != nil {
				t.Errorf("RemoveByPrefix(\"\"): %v", err)
			}
			continue
		}
		if !errors.Is(err, cache.ErrEmptyKey) {
			t.Errorf("%s with an empty key: %v; want ErrEmptyKey", op, err)
		}
	}
	var typedNil *int
	for name, err := range map[string]error{
		"ReplaceIfEqual nil expected": func() error { _, err := c.ReplaceIfEqual(ctx, "k", 1, nil, cache.Expiration{}); return err }(),
		"RemoveIfEqual nil expected":  func() error { _, err := c.RemoveIfEqual(ctx, "k", nil); return err }(),
		"ListAdd nil value":           func() error { _, err := c.ListAdd(ctx, "l", []any{1, nil}, cache.Expiration{}); return err }(),
		"ListAdd typed nil value":     func() error { _, err := c.ListAdd(ctx, "l", []any{typedNil}, cache.Expiration{}); return err }(),
		"ListRemove nil value":        func() error { _, err := c.ListRemove(ctx, "l", []any{nil}); return err }(),
	} {
		if !errors.Is(err, cache.ErrNilValue) {
			t.Errorf("%s: %v; want ErrNilValue", name, err)
		}
	}
	if _, err := c.HashSet(ctx, "h", "", 1); !errors.Is(err, cache.ErrEmptyKey) {
		t.Errorf("HashSet with an empty field: %v; want ErrEmptyKey", err)
	}
	if _, err := c.GetList(ctx, "l", cache.Page{Number: -1, Size: 10}); err == nil {
		t.Errorf("GetList with page -1: no error")
	}
	if _, err := c.Set(ctx, "ch", make(chan int), cache.Expiration{}); err == nil || errors.Is(err, cache.ErrUnavailable) {
		t.Errorf("Set of a channel: %v; want an encoding error", err)
	}
	// A key of another type: WRONGTYPE, not "unavailable".
	if _, err := c.ListAdd(ctx, "l", []any{1}, cache.Expiration{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "l"); !errors.Is(err, ErrWrongType) || errors.Is(err, cache.ErrUnavailable) {
		t.Errorf("Get of a list: %v; want ErrWrongType", err)
	}
	if _, err := c.Increment(ctx, "l", 1, cache.Expiration{}); !errors.Is(err, ErrWrongType) {
		t.Errorf("Increment of a list: %v; want ErrWrongType", err)
	}
}
