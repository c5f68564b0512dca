package cachetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fanin-dev/fanin/cache"
)

// parallel runs fn(i) on n goroutines at once and waits for them; the first
// error fails the test.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			if err := fn(i); err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

const perGoroutine = 20

var concurrencyTests = []test{
	{"Increment", func(t *testing.T, s *suite, c cache.Client) {
		n := s.opts.Goroutines
		parallel(t, n, func(int) error {
			for range perGoroutine {
				if _, err := c.Increment(t.Context(), "counter", 1, cache.Expiration{}); err != nil {
					return err
				}
			}
			return nil
		})
		wantValue(t, c, "counter", int64(n*perGoroutine))
	}},
	{"IncrementFloat", func(t *testing.T, s *suite, c cache.Client) {
		n := s.opts.Goroutines
		parallel(t, n, func(int) error {
			for range perGoroutine {
				if _, err := c.IncrementFloat(t.Context(), "counter", 0.5, cache.Expiration{}); err != nil {
					return err
				}
			}
			return nil
		})
		wantValue(t, c, "counter", float64(n*perGoroutine)/2)
	}},
	{"AddSucceedsOnce", func(t *testing.T, s *suite, c cache.Client) {
		var wins atomic.Int64
		parallel(t, s.opts.Goroutines, func(i int) error {
			ok, err := c.Add(t.Context(), "lock", i, cache.Expiration{})
			if ok {
				wins.Add(1)
			}
			return err
		})
		equal(t, "successful Adds", wins.Load(), int64(1))
	}},
	{"SetIfHigherDifferencesAddUp", func(t *testing.T, s *suite, c cache.Client) {
		// Each success returns new minus old, so the differences telescope
		// to the final value.
		n := s.opts.Goroutines
		var sum atomic.Int64
		parallel(t, n, func(i int) error {
			d, err := c.SetIfHigher(t.Context(), "max", int64(i+1), cache.Expiration{})
			sum.Add(d)
			return err
		})
		wantValue(t, c, "max", int64(n))
		equal(t, "sum of SetIfHigher differences", sum.Load(), int64(n))
	}},
	{"ReplaceIfEqualCompareAndSwap", func(t *testing.T, s *suite, c cache.Client) {
		const workers, rounds = 10, 5
		check[bool](t, "Set", true)(c.Set(t.Context(), "n", 0, cache.Expiration{}))
		parallel(t, workers, func(int) error {
			for range rounds {
				for {
					v, err := cache.Get[int](t.Context(), c, "n")
					if err != nil {
						return err
					}
					ok, err := c.ReplaceIfEqual(t.Context(), "n", v.Value+1, v.Value, cache.Expiration{})
					if err != nil {
						return err
					}
					if ok {
						break
					}
				}
			}
			return nil
		})
		wantValue(t, c, "n", workers*rounds)
	}},
	{"ListAdd", func(t *testing.T, s *suite, c cache.Client) {
		n := s.opts.Goroutines
		var added atomic.Int64
		parallel(t, n, func(i int) error {
			a, err := c.ListAdd(t.Context(), "l", []any{i, "shared"}, cache.Expiration{})
			added.Add(a)
			return err
		})
		equal(t, "sum of ListAdd results", added.Load(), int64(n+1))
		equal(t, "len(GetList)", len(list[any](t, c, "l", cache.Page{})), n+1)
	}},
}
