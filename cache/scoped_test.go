package cache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/cachetest"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

func newMemory(t *testing.T) *memorycache.Cache {
	t.Helper()
	m, err := memorycache.New(memorycache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newScoped(t *testing.T, c cache.Client, scope string) *cache.Scoped {
	t.Helper()
	s, err := cache.NewScoped(c, scope)
	if err != nil {
		t.Fatalf("NewScoped(%q): %v", scope, err)
	}
	return s
}

func TestScopedConformance(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cache.Client {
		inner := newMemory(t)
		// A key outside the scope that RemoveByPrefix("") must not touch;
		// its name also starts like the scope.
		if _, err := inner.Set(t.Context(), "tenant:abcd", "outsider", cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ok, err := inner.Exists(context.Background(), "tenant:abcd")
			if err != nil || !ok {
				t.Errorf("the key outside the scope is gone (exists=%v, err=%v)", ok, err)
			}
		})
		return newScoped(t, inner, "tenant:abc")
	}, cachetest.Options{Hashes: true})
}

func TestScopedNestedConformance(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cache.Client {
		return newScoped(t, newScoped(t, newMemory(t), "outer"), "inner")
	}, cachetest.Options{Hashes: true})
}

func TestNewScopedRejectsBadArguments(t *testing.T) {
	t.Parallel()
	if _, err := cache.NewScoped(newMemory(t), ""); !errors.Is(err, cache.ErrEmptyKey) {
		t.Errorf("NewScoped with an empty scope: error %v, want ErrEmptyKey", err)
	}
	if _, err := cache.NewScoped(nil, "s"); err == nil {
		t.Error("NewScoped(nil, s): no error, want one")
	}
}

func TestScopesDoNotSeeEachOther(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	inner := newMemory(t)
	a, b := newScoped(t, inner, "a"), newScoped(t, inner, "b")

	for _, s := range []*cache.Scoped{a, b} {
		if _, err := s.Set(ctx, "settings", "of "+s.Scope(), cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Increment(ctx, "count", 1, cache.Expiration{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.HashSet(ctx, "h", "f", s.Scope()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Set(ctx, "only-a", 1, cache.Expiration{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*cache.Scoped{a, b} {
		v, err := cache.Get[string](ctx, s, "settings")
		if err != nil || v.Value != "of "+s.Scope() {
			t.Fatalf("scope %s reads settings = %q, %v; want its own", s.Scope(), v.Value, err)
		}
	}
	if ok, _ := b.Exists(ctx, "only-a"); ok {
		t.Fatal("scope b sees a's key only-a")
	}
	raw, err := cache.Get[string](ctx, inner, "a:settings")
	if err != nil || raw.Value != "of a" {
		t.Fatalf("inner a:settings = %q, %v; want the scoped key stored under the prefix", raw.Value, err)
	}

	all, err := a.GetAll(ctx, []string{"settings", "only-a", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(len(all), all["settings"].HasValue(), all["only-a"].HasValue(), all["missing"].HasValue()); got != "3 true true false" {
		t.Fatalf("GetAll keys without the prefix: got %v", all)
	}
	exps, err := a.GetAllExpiration(ctx, []string{"settings", "missing"})
	if _, ok := exps["settings"]; err != nil || len(exps) != 1 || !ok {
		t.Fatalf("GetAllExpiration = %v, %v; want just settings, unprefixed", exps, err)
	}

	n, err := a.RemoveByPrefix(ctx, "")
	if err != nil || n != 4 {
		t.Fatalf(`a.RemoveByPrefix("") = %d, %v; want 4 (settings, count, h, only-a)`, n, err)
	}
	if got := inner.Len(); got != 3 {
		t.Fatalf("inner holds %d keys after clearing scope a, want b's 3", got)
	}
	v, err := cache.Get[int](ctx, b, "count")
	if err != nil || v.Value != 1 {
		t.Fatalf("b's count = %v, %v; want 1, untouched", v.Value, err)
	}
}

// plainClient is a cache.Client that does not implement cache.Hashes.
type plainClient struct{ cache.Client }

func TestScopedHashesNeedInnerHashes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newScoped(t, plainClient{newMemory(t)}, "s")
	if _, err := s.HashSet(ctx, "h", "f", 1); !errors.Is(err, cache.ErrUnsupported) {
		t.Errorf("HashSet over a client without hashes: error %v, want ErrUnsupported", err)
	}
	if _, err := s.HashLen(ctx, "h"); !errors.Is(err, cache.ErrUnsupported) {
		t.Errorf("HashLen over a client without hashes: error %v, want ErrUnsupported", err)
	}
	pairs := 0
	for _, err := range s.HashScan(ctx, "h", 10) {
		pairs++
		if !errors.Is(err, cache.ErrUnsupported) {
			t.Errorf("HashScan over a client without hashes yielded error %v, want ErrUnsupported", err)
		}
	}
	if pairs != 1 {
		t.Errorf("HashScan over a client without hashes yielded %d pairs, want 1", pairs)
	}
	if ok, err := s.Set(ctx, "k", 1, cache.Expiration{}); !ok || err != nil {
		t.Errorf("Set through the scope = %v, %v; want true, nil", ok, err)
	}
}
