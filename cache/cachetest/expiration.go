package cachetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// writeMethod is one write method of the expiration table, reduced to what
// the table needs: how to prepare the key so the write would succeed, and
// the write itself, reporting whether it returned its success value.
type writeMethod struct {
	name string
	// keys are the keys the write touches; "k" unless set.
	keys []string
	// prepare creates the key with expiration exp so the write would
	// succeed; nil when the write needs the key missing (Add).
	prepare func(ctx context.Context, c cache.Client, exp cache.Expiration) error
	// write performs the call; ok is true when it returned its success
	// value, failure tells what the failure value would be.
	write func(ctx context.Context, c cache.Client, exp cache.Expiration) (ok bool, got any, err error)
}

func setK(v any) func(ctx context.Context, c cache.Client, exp cache.Expiration) error {
	return func(ctx context.Context, c cache.Client, exp cache.Expiration) error {
		_, err := c.Set(ctx, "k", v, exp)
		return err
	}
}

func writeMethods() []writeMethod {
	return []writeMethod{
		{name: "Set", prepare: setK("old"), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			ok, err := c.Set(ctx, "k", "v", exp)
			return ok, ok, err
		}},
		{name: "Add", write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			ok, err := c.Add(ctx, "k", "v", exp)
			return ok, ok, err
		}},
		{name: "SetAll", keys: []string{"k", "k2"}, prepare: func(ctx context.Context, c cache.Client, exp cache.Expiration) error {
			_, err := c.SetAll(ctx, map[string]any{"k": "old", "k2": "old"}, exp)
			return err
		}, write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.SetAll(ctx, map[string]any{"k": "v", "k2": "w"}, exp)
			return n == 2, n, err
		}},
		{name: "Replace", prepare: setK("old"), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			ok, err := c.Replace(ctx, "k", "v", exp)
			return ok, ok, err
		}},
		{name: "ReplaceIfEqual", prepare: setK("old"), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			ok, err := c.ReplaceIfEqual(ctx, "k", "v", "old", exp)
			return ok, ok, err
		}},
		{name: "Increment", prepare: setK(1), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.Increment(ctx, "k", 2, exp)
			return n == 3, n, err
		}},
		{name: "IncrementFloat", prepare: setK(1), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.IncrementFloat(ctx, "k", 1.5, exp)
			return n == 2.5, n, err
		}},
		{name: "SetIfHigher", prepare: setK(1), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.SetIfHigher(ctx, "k", 5, exp)
			return n == 4, n, err
		}},
		{name: "SetIfHigherFloat", prepare: setK(1), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.SetIfHigherFloat(ctx, "k", 5.5, exp)
			return n == 4.5, n, err
		}},
		{name: "SetIfLower", prepare: setK(10), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.SetIfLower(ctx, "k", 4, exp)
			return n == 6, n, err
		}},
		{name: "SetIfLowerFloat", prepare: setK(10), write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.SetIfLowerFloat(ctx, "k", 4.5, exp)
			return n == 5.5, n, err
		}},
		{name: "ListAdd", prepare: func(ctx context.Context, c cache.Client, exp cache.Expiration) error {
			_, err := c.ListAdd(ctx, "k", []any{"old"}, exp)
			return err
		}, write: func(ctx context.Context, c cache.Client, exp cache.Expiration) (bool, any, error) {
			n, err := c.ListAdd(ctx, "k", []any{"old", "v"}, exp)
			return n == 1, n, err
		}},
	}
}

// expirationTests builds one test per row of the specification's table
// "TTL Behavior by Method", plus the expiration methods.
func expirationTests() []test {
	var out []test
	for _, m := range writeMethods() {
		keys := m.keys
		if keys == nil {
			keys = []string{"k"}
		}
		out = append(out,
			test{m.name + "/NoExpirationRemovesExistingTTL", func(t *testing.T, s *suite, c cache.Client) {
				ctx := t.Context()
				if m.prepare != nil {
					noErr(t, "prepare with a TTL", m.prepare(ctx, c, cache.ExpiresIn(time.Hour)))
					wantTTL(t, c, keys[0], 0, time.Hour)
				}
				ok, got, err := m.write(ctx, c, cache.Expiration{})
				noErr(t, m.name, err)
				if !ok {
					t.Fatalf("%s with no expiration returned %v, want success", m.name, got)
				}
				for _, k := range keys {
					wantNoTTL(t, c, k)
				}
			}},
			test{m.name + "/PositiveSetsTTL", func(t *testing.T, s *suite, c cache.Client) {
				ctx := t.Context()
				if m.prepare != nil {
					noErr(t, "prepare without TTL", m.prepare(ctx, c, cache.Expiration{}))
					wantNoTTL(t, c, keys[0])
				}
				ok, got, err := m.write(ctx, c, cache.ExpiresIn(time.Hour))
				noErr(t, m.name, err)
				if !ok {
					t.Fatalf("%s with a 1h expiration returned %v, want success", m.name, got)
				}
				for _, k := range keys {
					wantTTL(t, c, k, 0, time.Hour)
				}
			}},
		)
		for _, d := range []time.Duration{0, -time.Second} {
			out = append(out, test{fmt.Sprintf("%s/Expired(%v)RemovesKey", m.name, d), func(t *testing.T, s *suite, c cache.Client) {
				ctx := t.Context()
				prepare := m.prepare
				if prepare == nil {
					prepare = setK("old")
				}
				noErr(t, "prepare", prepare(ctx, c, cache.Expiration{}))
				ok, got, err := m.write(ctx, c, cache.ExpiresIn(d))
				noErr(t, m.name, err)
				if ok || !isFailureValue(got) {
					t.Fatalf("%s with expiration %v returned %v, want the failure value (false or 0)", m.name, d, got)
				}
				for _, k := range keys {
					wantMiss(t, c, k)
				}
			}})
		}
	}
	return append(out, expirationMethodTests...)
}

// isFailureValue reports whether v is false or a zero number.
func isFailureValue(v any) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case int:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	}
	return false
}

var expirationMethodTests = []test{
	{"GetExpiration", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		equal(t, "GetExpiration(missing)", must(c.GetExpiration(ctx, "missing"))(t, "GetExpiration"), cache.Expiration{})
		check[bool](t, "Set(none)", true)(c.Set(ctx, "none", 1, cache.Expiration{}))
		equal(t, "GetExpiration(no TTL)", must(c.GetExpiration(ctx, "none"))(t, "GetExpiration"), cache.Expiration{})
		check[bool](t, "Set(ttl)", true)(c.Set(ctx, "ttl", 1, cache.ExpiresIn(30*time.Minute)))
		wantTTL(t, c, "ttl", 0, 30*time.Minute)
	}},
	{"GetAllExpiration", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set(ttl)", true)(c.Set(ctx, "ttl", 1, cache.ExpiresIn(time.Hour)))
		check[bool](t, "Set(none)", true)(c.Set(ctx, "none", 1, cache.Expiration{}))
		got := must(c.GetAllExpiration(ctx, []string{"ttl", "none", "missing"}))(t, "GetAllExpiration")
		if _, ok := got["missing"]; ok || len(got) != 2 {
			t.Fatalf("GetAllExpiration = %v, want exactly ttl and none (missing keys absent)", got)
		}
		if e := got["ttl"]; e.IsNone() || e.TTL() <= 0 || e.TTL() > time.Hour {
			t.Fatalf("GetAllExpiration[ttl] = %v, want a TTL in (0, 1h]", e)
		}
		equal(t, "GetAllExpiration[none]", got["none"], cache.Expiration{})
		equal(t, "len(GetAllExpiration(empty))", len(must(c.GetAllExpiration(ctx, []string{}))(t, "GetAllExpiration(empty)")), 0)
	}},
	{"SetExpiration", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set", true)(c.Set(ctx, "k", "v", cache.Expiration{}))
		noErr(t, "SetExpiration(30m)", c.SetExpiration(ctx, "k", cache.ExpiresIn(30*time.Minute)))
		wantTTL(t, c, "k", 0, 30*time.Minute)
		noErr(t, "SetExpiration(2h)", c.SetExpiration(ctx, "k", cache.ExpiresIn(2*time.Hour)))
		wantTTL(t, c, "k", time.Hour, 2*time.Hour)
		noErr(t, "SetExpiration(none)", c.SetExpiration(ctx, "k", cache.Expiration{}))
		wantNoTTL(t, c, "k")
		wantValue(t, c, "k", "v")
		noErr(t, "SetExpiration(0)", c.SetExpiration(ctx, "k", cache.ExpiresIn(0)))
		wantMiss(t, c, "k")
		noErr(t, "SetExpiration(missing)", c.SetExpiration(ctx, "missing", cache.ExpiresIn(time.Hour)))
		wantMiss(t, c, "missing")
	}},
	{"SetExpirationShortTTLExpires", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set", true)(c.Set(ctx, "k", "v", cache.Expiration{}))
		noErr(t, "SetExpiration(short)", c.SetExpiration(ctx, "k", cache.ExpiresIn(shortTTL)))
		sleep(pastShort)
		wantMiss(t, c, "k")
	}},
	{"SetAllExpiration", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[int](t, "SetAll(1h)", 3)(c.SetAll(ctx, map[string]any{"a": 1, "b": 2, "c": 3}, cache.ExpiresIn(time.Hour)))
		check[bool](t, "Set(d)", true)(c.Set(ctx, "d", 4, cache.Expiration{}))
		noErr(t, "SetAllExpiration", c.SetAllExpiration(ctx, map[string]cache.Expiration{
			"a":       {},
			"b":       cache.ExpiresIn(10 * time.Minute),
			"c":       cache.ExpiresIn(-time.Second),
			"d":       cache.ExpiresIn(2 * time.Hour),
			"missing": cache.ExpiresIn(time.Hour),
		}))
		wantNoTTL(t, c, "a")
		wantTTL(t, c, "b", 0, 10*time.Minute)
		wantMiss(t, c, "c")
		wantTTL(t, c, "d", time.Hour, 2*time.Hour)
		wantMiss(t, c, "missing")
		noErr(t, "SetAllExpiration(empty)", c.SetAllExpiration(ctx, map[string]cache.Expiration{}))
	}},
}
