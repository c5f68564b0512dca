package httpapi

import (
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFirstAfterMatchesSorting: over seeded random lists, limits and
// cursors, firstAfter returns what sorting the whole list and cutting it
// would, and paging with its cursor visits every item once.
func TestFirstAfterMatchesSorting(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := rng.IntN(60)
		items := make([]int, n)
		for i := range items {
			items[i] = rng.IntN(1000) // duplicates allowed: the cursor skips equal items, as event IDs are unique
		}
		slices.Sort(items)
		items = slices.Compact(items)
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		limit := 1 + rng.IntN(10)
		seq := func(yield func(int, error) bool) {
			for _, v := range items {
				if !yield(v, nil) {
					return
				}
			}
		}
		sorted := slices.Sorted(slices.Values(items))
		var got []int
		cursor := -1
		for pages := 0; ; pages++ {
			page, more, err := firstAfter(iter.Seq2[int, error](seq), func(v int) bool { return v > cursor }, func(a, b int) bool { return a < b }, limit)
			if err != nil {
				t.Fatal(err)
			}
			start := len(got)
			want := sorted[start:min(start+limit, len(sorted))]
			if !slices.Equal(page, want) || more != (start+limit < len(sorted)) {
				t.Fatalf("seed %d: page %d = %v (more %v), want %v of %v", seed, pages, page, more, want, sorted)
			}
			got = append(got, page...)
			if !more {
				break
			}
			cursor = page[len(page)-1]
		}
		if !slices.Equal(got, sorted) {
			t.Fatalf("seed %d: pages %v, want %v", seed, got, sorted)
		}
	}
	// An error of the sequence ends it.
	boom := errors.New("boom")
	seq := func(yield func(int, error) bool) { yield(1, nil); yield(0, boom) }
	if _, _, err := firstAfter(iter.Seq2[int, error](seq), func(int) bool { return true }, func(a, b int) bool { return a < b }, 5); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}
