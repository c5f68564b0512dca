package httpapi

import (
	"container/heap"
	"iter"
	"net/http"
	"slices"
	"strconv"
)

// firstAfter returns, in order, the first limit items of seq that come
// after the cursor (after reports whether an item does), in the order
// less, and whether more such items exist. It holds limit+1 items at once
// whatever the length of seq (a bounded heap), so a page of a list of
// millions costs one pass over it and little memory; and since the cursor
// is the last item of the previous page, not a position, items that come
// or go between two pages shift nothing.
func firstAfter[T any](seq iter.Seq2[T, error], after func(T) bool, less func(a, b T) bool, limit int) ([]T, bool, error) {
	h := &maxHeap[T]{less: less}
	for v, err := range seq {
		if err != nil {
			return nil, false, err
		}
		if !after(v) {
			continue
		}
		if h.Len() <= limit {
			heap.Push(h, v)
		} else if less(v, h.items[0]) {
			h.items[0] = v
			heap.Fix(h, 0)
		}
	}
	more := h.Len() > limit
	if more {
		heap.Pop(h)
	}
	out := h.items
	slices.SortFunc(out, func(a, b T) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
	return out, more, nil
}

// maxHeap keeps its largest item (in less) on top.
type maxHeap[T any] struct {
	items []T
	less  func(a, b T) bool
}

func (h *maxHeap[T]) Len() int           { return len(h.items) }
func (h *maxHeap[T]) Less(i, j int) bool { return h.less(h.items[j], h.items[i]) }
func (h *maxHeap[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *maxHeap[T]) Push(x any)         { h.items = append(h.items, x.(T)) }
func (h *maxHeap[T]) Pop() any {
	v := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return v
}

// pageLimit reads the limit parameter: DefaultPageSize when absent, 1 to
// MaxPageSize otherwise.
func pageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, errorf(http.StatusBadRequest, codeBadRequest, "limit %q (want a whole number from 1 to %d)", v, MaxPageSize)
	}
	return n, nil
}
