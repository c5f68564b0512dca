package memorycache

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"math"

	"github.com/fanin-dev/fanin/cache"
)

type kind uint8

const (
	kindValue kind = iota
	kindList
	kindHash
)

// String names the kind in error messages.
func (k kind) String() string {
	switch k {
	case kindList:
		return "list"
	case kindHash:
		return "hash"
	}
	return "value"
}

// entry is one key. Exactly one of val, list and hash is used, per kind.
type entry struct {
	key  string
	kind kind
	val  stored
	// list maps each encoded value to its expiry (see Cache.now).
	list map[string]int64
	hash map[string]stored

	expiresAt int64 // see Cache.now; never = no expiry
	size      int64
	heapIdx   int // index in Cache.heap; -1 when not there
	prev      *entry
	next      *entry
}

// stored is one value: a number or nil as itself, anything else as a
// reference or, with CloneValues, encoded.
type stored struct {
	v       any
	raw     []byte
	encoded bool
	size    int64 // encoded length; 0 unless MaxMemorySize is set
}

func (s stored) item(codec cache.Codec) cache.Item {
	if s.encoded {
		return cache.NewEncodedItem(s.raw, codec)
	}
	return cache.NewValueItem(s.v)
}

// encode encodes v as a distributed store would hold it.
func (c *Cache) encode(v any) ([]byte, error) { return cache.Encode(c.codec, v) }

// store prepares v for storage.
func (c *Cache) store(v any) (stored, error) {
	if n, ok := normalizeNumber(v); ok {
		v = n.value()
	} else if b, ok := v.([]byte); ok && c.clone {
		return stored{raw: bytes.Clone(b), encoded: true, size: int64(len(b))}, nil
	} else if v != nil && c.clone {
		raw, err := c.encode(v)
		if err != nil {
			return stored{}, err
		}
		return stored{raw: raw, encoded: true, size: int64(len(raw))}, nil
	}
	s := stored{v: v}
	if c.maxSize > 0 {
		raw, err := c.encode(v)
		if err != nil {
			return stored{}, err
		}
		s.size = int64(len(raw))
	}
	return s, nil
}

// number is a stored number: an int64 or a float64.
type number struct {
	i       int64
	f       float64
	isFloat bool
}

func intNumber(i int64) number     { return number{i: i} }
func floatNumber(f float64) number { return number{f: f, isFloat: true} }

func (n number) float() float64 {
	if n.isFloat {
		return n.f
	}
	return float64(n.i)
}

// value returns n as Redis would read it back: a float with no fractional
// part that fits an int64 becomes an int64.
func (n number) value() any {
	if !n.isFloat {
		return n.i
	}
	if n.f == math.Trunc(n.f) && n.f >= math.MinInt64 && n.f < math.MaxInt64 {
		return int64(n.f)
	}
	return n.f
}

// normalizeNumber reports whether v is a number, and which.
func normalizeNumber(v any) (number, bool) {
	switch x := v.(type) {
	case int:
		return intNumber(int64(x)), true
	case int8:
		return intNumber(int64(x)), true
	case int16:
		return intNumber(int64(x)), true
	case int32:
		return intNumber(int64(x)), true
	case int64:
		return intNumber(x), true
	case uint:
		return unsignedNumber(uint64(x)), true
	case uint8:
		return intNumber(int64(x)), true
	case uint16:
		return intNumber(int64(x)), true
	case uint32:
		return intNumber(int64(x)), true
	case uint64:
		return unsignedNumber(x), true
	case float32:
		return floatNumber(float64(x)), true
	case float64:
		return floatNumber(x), true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return intNumber(i), true
		}
		if f, err := x.Float64(); err == nil {
			return floatNumber(f), true
		}
	}
	return number{}, false
}

func unsignedNumber(u uint64) number {
	if u > math.MaxInt64 {
		return floatNumber(float64(u))
	}
	return intNumber(int64(u))
}

// numberOf returns the number s holds.
func numberOf(s stored) (number, bool) {
	switch x := s.v.(type) {
	case int64:
		return intNumber(x), true
	case float64:
		return floatNumber(x), true
	}
	return number{}, false
}

// --- the key table, recency ring and expiry heap; callers hold c.mu ---

// live returns the live entry at key, reclaiming it when it has expired and
// dropping list values that have.
func (c *Cache) live(key string, now int64) *entry {
	e := c.items[key]
	if e == nil {
		return nil
	}
	if e.expiresAt <= now {
		c.drop(e)
		return nil
	}
	if e.kind == kindList {
		for m, at := range e.list {
			if at <= now {
				c.removeMember(e, m)
			}
		}
		if len(e.list) == 0 {
			c.drop(e)
			return nil
		}
	}
	return e
}

// drop removes e from the cache.
func (c *Cache) drop(e *entry) {
	delete(c.items, e.key)
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	if e.heapIdx >= 0 {
		heap.Remove(&c.heap, e.heapIdx)
	}
	c.used -= e.size
}

// dropKey removes key if it exists, reporting whether it was live.
func (c *Cache) dropKey(key string, now int64) bool {
	if e := c.live(key, now); e != nil {
		c.drop(e)
		return true
	}
	return false
}

// touch marks e as the most recently used.
func (c *Cache) touch(e *entry) {
	if c.lru.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}

// create adds a new entry of kind k at key, which must be absent.
func (c *Cache) create(key string, k kind) *entry {
	e := &entry{key: key, kind: k, expiresAt: never, heapIdx: -1, size: int64(len(key)) + entryOverhead}
	c.items[key] = e
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
	c.used += e.size
	return e
}

// resize changes e's size estimate by delta.
func (c *Cache) resize(e *entry, delta int64) {
	e.size += delta
	c.used += delta
}

// setExpiry sets e's absolute expiry (never: none).
func (c *Cache) setExpiry(e *entry, at int64) {
	e.expiresAt = at
	switch {
	case at == never && e.heapIdx >= 0:
		heap.Remove(&c.heap, e.heapIdx)
	case at != never && e.heapIdx >= 0:
		heap.Fix(&c.heap, e.heapIdx)
	case at != never:
		heap.Push(&c.heap, e)
	}
}

// put stores s at key with expiry at, replacing whatever key held.
func (c *Cache) put(key string, s stored, at int64) *entry {
	e := c.items[key]
	if e == nil {
		e = c.create(key, kindValue)
	} else {
		c.touch(e)
		c.resize(e, int64(len(key))+entryOverhead-e.size)
		e.kind, e.list, e.hash = kindValue, nil, nil
	}
	e.val = s
	c.resize(e, s.size)
	c.setExpiry(e, at)
	c.evict(e)
	return e
}

// sweep reclaims every key whose expiry has passed.
func (c *Cache) sweep(now int64) {
	for len(c.heap) > 0 && c.heap[0].expiresAt <= now {
		c.drop(c.heap[0])
	}
}

// evict drops least recently used keys, never keep, until the cache is
// within its bounds.
func (c *Cache) evict(keep *entry) {
	for (c.maxItems > 0 && len(c.items) > c.maxItems) || (c.maxSize > 0 && c.used > c.maxSize) {
		victim := c.lru.prev
		if victim == keep {
			victim = victim.prev
		}
		if victim == &c.lru {
			return
		}
		c.drop(victim)
	}
}

// expiryHeap orders the entries that have an expiry, soonest first.
type expiryHeap []*entry

// Len, Less, Swap, Push and Pop implement heap.Interface, keeping each
// entry's heapIdx up to date.
func (h expiryHeap) Len() int { return len(h) }

// Less orders by expiry, soonest first.
func (h expiryHeap) Less(i, j int) bool { return h[i].expiresAt < h[j].expiresAt }

// Swap swaps two entries.
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

// Push appends an entry.
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.heapIdx = len(*h)
	*h = append(*h, e)
}

// Pop removes the last entry.
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.heapIdx = -1
	*h = old[:len(old)-1]
	return e
}
