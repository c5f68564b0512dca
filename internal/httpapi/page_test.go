package httpapi

import (
	"errors"
	"io"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
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

// TestLineLimiter: lines up to the limit pass whatever the reads' sizes
// (end of line and \r not counted); the first longer line fails.
func TestLineLimiter(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 50; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		var b strings.Builder
		long := -1
		for i := range 40 {
			n := rng.IntN(11)
			if rng.IntN(10) == 0 && long < 0 {
				n, long = 11+rng.IntN(5), i
			}
			b.WriteString(strings.Repeat("x", min(n, 10)))
			if n > 10 {
				b.WriteString(strings.Repeat("y", n-10))
			}
			if rng.IntN(2) == 0 {
				b.WriteString("\r")
			}
			b.WriteString("\n")
		}
		l := &lineLimiter{r: &oneByteOrMore{strings.NewReader(b.String()), rng}, max: 10}
		got, err := io.ReadAll(l)
		var ll *lineTooLong
		switch {
		case long < 0 && (err != nil || string(got) != b.String()):
			t.Fatalf("seed %d: %v, %d of %d bytes", seed, err, len(got), b.Len())
		case long >= 0 && !errors.As(err, &ll):
			t.Fatalf("seed %d: line %d is long, err %v", seed, long+1, err)
		case long >= 0 && strings.Count(string(got), "\n") > long:
			t.Fatalf("seed %d: read past the long line %d", seed, long+1)
		}
	}
}

// oneByteOrMore reads a random number of bytes at a time.
type oneByteOrMore struct {
	r   io.Reader
	rng *rand.Rand
}

func (o *oneByteOrMore) Read(p []byte) (int, error) {
	return o.r.Read(p[:min(len(p), 1+o.rng.IntN(17))])
}
