package cachetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/cache"
)

// Options says what the client under test can do, and sizes the suite.
// The zero Options runs every cache.Client test and nothing else.
type Options struct {
	// Hashes also runs the hash tests; every client from the factory must
	// then implement cache.Hashes. Default false.
	Hashes bool

	// NewSharedPair, when set, returns two clients over one store (two
	// processes' view of one Redis, say), isolated from every other test;
	// the cross-instance tests then check that writes through one are seen
	// through the other, waiting up to Eventually for clients that keep a
	// local copy. Default nil: those tests are not run.
	NewSharedPair func(t *testing.T) (cache.Client, cache.Client)

	// Goroutines is the number of goroutines of the concurrency tests.
	// 0 means 50.
	Goroutines int

	// HashScanFields is the number of fields of the big HashScan test.
	// 0 means 5000.
	HashScanFields int

	// Eventually bounds how long the cross-instance tests wait for a write
	// to become visible through the other client. 0 means 5s.
	Eventually time.Duration
}

func (o Options) withDefaults() Options {
	if o.Goroutines <= 0 {
		o.Goroutines = 50
	}
	if o.HashScanFields <= 0 {
		o.HashScanFields = 5000
	}
	if o.Eventually <= 0 {
		o.Eventually = 5 * time.Second
	}
	return o
}

// suite carries what every test needs.
type suite struct {
	newClient func(t *testing.T) cache.Client
	opts      Options
}

// test is one conformance test, given a fresh client.
type test struct {
	name string
	run  func(t *testing.T, s *suite, c cache.Client)
}

// Run runs the conformance suite as parallel subtests of t. newClient is
// called once per subtest and must return a fresh client that sees no key
// of any other subtest (for Redis, one under a unique key prefix), so that
// RemoveByPrefix(ctx, "") stays inside the subtest. Because the subtests are
// parallel they finish after the calling test function returns: release
// shared resources with t.Cleanup, not after Run.
func Run(t *testing.T, newClient func(t *testing.T) cache.Client, opts Options) {
	t.Helper()
	if newClient == nil {
		t.Fatal("cachetest.Run: newClient must not be nil")
	}
	s := &suite{newClient: newClient, opts: opts.withDefaults()}
	groups := []struct {
		name  string
		tests []test
	}{
		{"Values", valueTests},
		{"Expiration", expirationTests()},
		{"Numbers", numberTests},
		{"Lists", listTests},
		{"RemoveByPrefix", prefixTests()},
		{"Validation", validationTests},
		{"Concurrency", concurrencyTests},
	}
	if s.opts.Hashes {
		groups = append(groups, struct {
			name  string
			tests []test
		}{"Hashes", hashTests})
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, s, s.client(t))
				})
			}
		})
	}
	if s.opts.NewSharedPair != nil {
		t.Run("Shared", func(t *testing.T) {
			t.Parallel()
			for _, tc := range sharedTests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					a, b := s.opts.NewSharedPair(t)
					tc.run(t, s, a, b)
				})
			}
		})
	}
}

func (s *suite) client(t *testing.T) cache.Client {
	t.Helper()
	c := s.newClient(t)
	if c == nil {
		t.Fatal("cachetest: newClient returned nil")
	}
	return c
}

// hashes returns c as cache.Hashes, failing the test when it is not.
func hashes(t *testing.T, c cache.Client) cache.Hashes {
	t.Helper()
	h, ok := c.(cache.Hashes)
	if !ok {
		t.Fatalf("Options.Hashes is set but %T does not implement cache.Hashes", c)
	}
	return h
}

// --- assertion helpers ---

// must returns v once the test has checked err: must(c.Get(ctx, k))(t,
// "Get") fails the test with the message "Get: ..." on an error.
func must[T any](v T, err error) func(t *testing.T, what string) T {
	return func(t *testing.T, what string) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: unexpected error: %v", what, err)
		}
		return v
	}
}

// noErr fails the test on err.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// equal fails the test unless got equals want (reflect.DeepEqual).
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %#v, want %#v", what, got, want)
	}
}

// check is equal for a call returning a value and an error.
func check[T any](t *testing.T, what string, want T) func(T, error) {
	return func(got T, err error) {
		t.Helper()
		equal(t, what, must(got, err)(t, what), want)
	}
}

// isErr fails the test unless err wraps target.
func isErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want one wrapping %v", what, err, target)
	}
}

// get reads key as T.
func get[T any](t *testing.T, c cache.Client, key string) cache.Value[T] {
	t.Helper()
	return must(cache.Get[T](t.Context(), c, key))(t, fmt.Sprintf("Get[%T](%q)", *new(T), key))
}

// wantValue fails the test unless key holds want.
func wantValue[T any](t *testing.T, c cache.Client, key string, want T) {
	t.Helper()
	v := get[T](t, c, key)
	if !v.HasValue {
		t.Fatalf("Get(%q) is a miss, want %#v", key, want)
	}
	equal(t, fmt.Sprintf("Get(%q)", key), v.Value, want)
}

// wantMiss fails the test unless key is missing.
func wantMiss(t *testing.T, c cache.Client, key string) {
	t.Helper()
	it := must(c.Get(t.Context(), key))(t, fmt.Sprintf("Get(%q)", key))
	if it.HasValue() {
		v, _ := it.Value()
		t.Fatalf("Get(%q) = %#v, want a miss", key, v)
	}
	wantExists(t, c, key, false)
}

// wantExists fails the test unless Exists(key) is want.
func wantExists(t *testing.T, c cache.Client, key string, want bool) {
	t.Helper()
	check[bool](t, fmt.Sprintf("Exists(%q)", key), want)(c.Exists(t.Context(), key))
}

// wantTTL fails the test unless key exists with a TTL in (lo, hi].
func wantTTL(t *testing.T, c cache.Client, key string, lo, hi time.Duration) {
	t.Helper()
	wantExists(t, c, key, true)
	e := must(c.GetExpiration(t.Context(), key))(t, fmt.Sprintf("GetExpiration(%q)", key))
	if e.IsNone() || e.TTL() <= lo || e.TTL() > hi {
		t.Fatalf("GetExpiration(%q) = %v, want a TTL in (%v, %v]", key, e, lo, hi)
	}
}

// wantNoTTL fails the test unless key exists without a TTL.
func wantNoTTL(t *testing.T, c cache.Client, key string) {
	t.Helper()
	wantExists(t, c, key, true)
	e := must(c.GetExpiration(t.Context(), key))(t, fmt.Sprintf("GetExpiration(%q)", key))
	if !e.IsNone() {
		t.Fatalf("GetExpiration(%q) = %v, want no expiration", key, e)
	}
}

// list reads the whole list at key as T.
func list[T any](t *testing.T, c cache.Client, key string, page cache.Page) []T {
	t.Helper()
	return must(cache.GetList[T](t.Context(), c, key, page))(t, fmt.Sprintf("GetList(%q, %+v)", key, page))
}

// sleep waits for short TTLs to pass.
func sleep(d time.Duration) { time.Sleep(d) }

// eventually polls cond until it holds or s.opts.Eventually has passed;
// cond returns a description of what it saw, for the failure message.
func (s *suite) eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(s.opts.Eventually)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %v; last saw %s", what, s.opts.Eventually, saw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cancelled returns a context that is already cancelled.
func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// Short TTLs for the tests that wait for expiry, and how long they wait.
const (
	shortTTL  = 150 * time.Millisecond
	mediumTTL = 300 * time.Millisecond
	pastShort = 450 * time.Millisecond
	pastBoth  = 700 * time.Millisecond
)

// payload is the struct the suite round-trips.
type payload struct {
	Name   string             `json:"name"`
	Count  int                `json:"count"`
	Tags   []string           `json:"tags"`
	Scores map[string]float64 `json:"scores"`
	Inner  *inner             `json:"inner,omitempty"`
}

type inner struct {
	OK bool `json:"ok"`
}

func samplePayload(name string) payload {
	return payload{
		Name:   name,
		Count:  42,
		Tags:   []string{"a", "b"},
		Scores: map[string]float64{"x": 1.5, "y": -2},
		Inner:  &inner{OK: true},
	}
}
