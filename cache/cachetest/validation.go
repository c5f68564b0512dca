package cachetest

import (
	"context"
	"testing"

	"github.com/fanin-dev/fanin/cache"
)

// op is one call of the Client or Hashes method set, on key.
type op struct {
	name string
	call func(ctx context.Context, c cache.Client, key string) error
}

// ops lists a call of every method, on key, with arguments that are valid
// whatever key holds (or is missing).
func ops(withHashes bool) []op {
	none := cache.Expiration{}
	out := []op{
		{"Get", func(ctx context.Context, c cache.Client, k string) error { _, err := c.Get(ctx, k); return err }},
		{"GetAll", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.GetAll(ctx, []string{"ok", k})
			return err
		}},
		{"Add", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.Add(ctx, k, 1, none)
			return err
		}},
		{"Set", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.Set(ctx, k, 1, none)
			return err
		}},
		{"SetAll", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.SetAll(ctx, map[string]any{"ok": 1, k: 1}, none)
			return err
		}},
		{"Replace", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.Replace(ctx, k, 1, none)
			return err
		}},
		{"ReplaceIfEqual", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.ReplaceIfEqual(ctx, k, 1, 2, none)
			return err
		}},
		{"Remove", func(ctx context.Context, c cache.Client, k string) error { _, err := c.Remove(ctx, k); return err }},
		{"RemoveIfEqual", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.RemoveIfEqual(ctx, k, 1)
			return err
		}},
		{"RemoveAll", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.RemoveAll(ctx, []string{"ok", k})
			return err
		}},
		{"Exists", func(ctx context.Context, c cache.Client, k string) error { _, err := c.Exists(ctx, k); return err }},
		{"Increment", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.Increment(ctx, k, 1, none)
			return err
		}},
		{"IncrementFloat", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.IncrementFloat(ctx, k, 1.5, none)
			return err
		}},
		{"SetIfHigher", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.SetIfHigher(ctx, k, 1, none)
			return err
		}},
		{"SetIfHigherFloat", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.SetIfHigherFloat(ctx, k, 1, none)
			return err
		}},
		{"SetIfLower", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.SetIfLower(ctx, k, 1, none)
			return err
		}},
		{"SetIfLowerFloat", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.SetIfLowerFloat(ctx, k, 1, none)
			return err
		}},
		{"GetExpiration", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.GetExpiration(ctx, k)
			return err
		}},
		{"GetAllExpiration", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.GetAllExpiration(ctx, []string{"ok", k})
			return err
		}},
		{"SetExpiration", func(ctx context.Context, c cache.Client, k string) error { return c.SetExpiration(ctx, k, none) }},
		{"SetAllExpiration", func(ctx context.Context, c cache.Client, k string) error {
			return c.SetAllExpiration(ctx, map[string]cache.Expiration{"ok": none, k: none})
		}},
		{"ListAdd", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.ListAdd(ctx, k, []any{"v"}, none)
			return err
		}},
		{"ListRemove", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.ListRemove(ctx, k, []any{"v"})
			return err
		}},
		{"GetList", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.GetList(ctx, k, cache.Page{})
			return err
		}},
	}
	if !withHashes {
		return out
	}
	return append(out,
		op{"HashSet", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.(cache.Hashes).HashSet(ctx, k, "f", 1)
			return err
		}},
		op{"HashGet", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.(cache.Hashes).HashGet(ctx, k, "f")
			return err
		}},
		op{"HashGetMany", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.(cache.Hashes).HashGetMany(ctx, k, []string{"f"})
			return err
		}},
		op{"HashLen", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.(cache.Hashes).HashLen(ctx, k)
			return err
		}},
		op{"HashDelete", func(ctx context.Context, c cache.Client, k string) error {
			_, err := c.(cache.Hashes).HashDelete(ctx, k, "f")
			return err
		}},
		op{"HashScan", func(ctx context.Context, c cache.Client, k string) error {
			for _, err := range c.(cache.Hashes).HashScan(ctx, k, 10) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
	)
}

var validationTests = []test{
	{"EmptyKey", func(t *testing.T, s *suite, c cache.Client) {
		for _, o := range ops(s.opts.Hashes) {
			isErr(t, o.name+` with key ""`, o.call(t.Context(), c, ""), cache.ErrEmptyKey)
		}
		wantExists(t, c, "ok", false)
	}},
	{"NilValue", func(t *testing.T, s *suite, c cache.Client) {
		ctx := t.Context()
		check[bool](t, "Set", true)(c.Set(ctx, "k", 1, cache.Expiration{}))
		_, err := c.ReplaceIfEqual(ctx, "k", 2, nil, cache.Expiration{})
		isErr(t, "ReplaceIfEqual with expected nil", err, cache.ErrNilValue)
		_, err = c.RemoveIfEqual(ctx, "k", nil)
		isErr(t, "RemoveIfEqual with expected nil", err, cache.ErrNilValue)
		wantValue(t, c, "k", 1)
		_, err = c.ListAdd(ctx, "l", []any{"a", nil}, cache.Expiration{})
		isErr(t, "ListAdd with a nil value", err, cache.ErrNilValue)
		wantExists(t, c, "l", false)
		check[int64](t, "ListAdd", 1)(c.ListAdd(ctx, "l", []any{"a"}, cache.Expiration{}))
		_, err = c.ListRemove(ctx, "l", []any{"a", nil})
		isErr(t, "ListRemove with a nil value", err, cache.ErrNilValue)
		equal(t, "GetList", list[string](t, c, "l", cache.Page{}), []string{"a"})
	}},
	{"NilCollections", func(t *testing.T, s *suite, c cache.Client) {
		// nil is refused where the specification wants a collection; an
		// empty one is valid and does nothing, whatever the key holds.
		ctx := t.Context()
		check[bool](t, "Set(v)", true)(c.Set(ctx, "v", 1, cache.Expiration{}))
		none := cache.Expiration{}
		for name, call := range map[string]func() error{
			"GetAll(nil)":           func() error { _, err := c.GetAll(ctx, nil); return err },
			"GetAllExpiration(nil)": func() error { _, err := c.GetAllExpiration(ctx, nil); return err },
			"RemoveAll(nil)":        func() error { _, err := c.RemoveAll(ctx, nil); return err },
			"SetAll(nil)":           func() error { _, err := c.SetAll(ctx, nil, none); return err },
			"SetAll(nil, expired)":  func() error { _, err := c.SetAll(ctx, nil, cache.ExpiresIn(0)); return err },
			"SetAllExpiration(nil)": func() error { return c.SetAllExpiration(ctx, nil) },
			"ListAdd(nil)":          func() error { _, err := c.ListAdd(ctx, "l", nil, none); return err },
			"ListAdd(nil, expired)": func() error { _, err := c.ListAdd(ctx, "l", nil, cache.ExpiresIn(0)); return err },
			"ListRemove(nil)":       func() error { _, err := c.ListRemove(ctx, "l", nil); return err },
		} {
			isErr(t, name, call(), cache.ErrInvalidArgument)
		}
		check[int64](t, "ListAdd(v, empty)", 0)(c.ListAdd(ctx, "v", []any{}, none))
		check[int64](t, "ListRemove(v, empty)", 0)(c.ListRemove(ctx, "v", []any{}))
		wantValue(t, c, "v", 1)
		wantExists(t, c, "l", false)
	}},
	{"CancelledContext", func(t *testing.T, s *suite, c cache.Client) {
		ctx := cancelled(t)
		for _, o := range ops(s.opts.Hashes) {
			isErr(t, o.name+" with a cancelled context", o.call(ctx, c, "k"), context.Canceled)
		}
		_, err := c.RemoveByPrefix(ctx, "")
		isErr(t, "RemoveByPrefix with a cancelled context", err, context.Canceled)
		wantExists(t, c, "k", false)
	}},
}
