// Package cachetest is the conformance suite of package cache: one set of
// tests that every cache.Client implementation (memory, Redis, hybrid,
// scoped) runs, so they all behave as the Foundatio specification says.
//
// An implementation's test calls Run with a factory of fresh, isolated
// clients:
//
//	func TestConformance(t *testing.T) {
//		cachetest.Run(t, func(t *testing.T) cache.Client {
//			c, err := memorycache.New(memorycache.Config{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return c
//		}, cachetest.Options{Hashes: true})
//	}
//
// The suite covers every row of the specification's expiration tables for
// every write method, the worked examples (SetIfHigher returning 100, 50, 0;
// increments 1, 2.5, 4.5), lists with per-value expiry and paging,
// RemoveByPrefix with glob and regex metacharacters, null versus zero versus
// a miss, input validation, cancelled contexts, concurrency, and, when
// asked, the hash operations and cross-instance coherence.
//
// Tests that wait for a TTL to pass sleep for a few hundred milliseconds;
// nothing asserts how fast an operation is.
package cachetest
