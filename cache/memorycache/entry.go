package memorycache

import (
	"bytes"
	"container/heap"
	"fmt"

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

// stored is one value: a reference to it, or its encoded bytes. Numbers and
// []byte are always kept encoded, numbers as the decimal text Redis would
// hold, so that they read back, compare and count exactly as in Redis.
type stored struct {
	v       any
	raw     []byte
	encoded bool
	size    int64 // SizeFunc's size, or the encoded length (of a reference: 0 unless measured)
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
	switch x := v.(type) {
	case []byte:
		if c.clone {
			x = bytes.Clone(x)
		}
		return encodedValue(x), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		raw, _ := c.encode(x) // numbers always encode
		return encodedValue(raw), nil
	}
	if v != nil && c.clone {
		raw, err := c.encode(v)
		if err != nil {
			return stored{}, err
		}
		return encodedValue(raw), nil
	}
	s := stored{v: v}
	if c.maxEntry > 0 && c.sizeFunc == nil { // measured by its encoded length
		raw, err := c.encode(v)
		if err != nil {
			return stored{}, err
		}
		s.size = int64(len(raw))
	}
	return s, nil
}

// measure prepares v for storage and sets its size: SizeFunc's when set.
func (c *Cache) measure(v any) (stored, error) {
	s, err := c.store(v)
	if err != nil || c.sizeFunc == nil {
		return s, err
	}
	if s.size = c.sizeFunc(v); s.size < 0 {
		return stored{}, fmt.Errorf("SizeFunc returned %d bytes for a %T; want 0 or more", s.size, v)
	}
	return s, nil
}

// encodedValue is raw, kept as bytes.
func encodedValue(raw []byte) stored {
	return stored{raw: raw, encoded: true, size: int64(len(raw))}
}

// text returns the bytes Redis would hold for s: what numeric operations
// parse.
func (c *Cache) text(s stored) ([]byte, error) {
	if s.encoded {
		return s.raw, nil
	}
	return c.encode(s.v)
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
		c.dropFor(e, Expired)
		return nil
	}
	if e.kind == kindList {
		for m, at := range e.list {
			if at <= now {
				c.removeMember(e, m)
			}
		}
		if len(e.list) == 0 {
			c.dropFor(e, Expired)
			return nil
		}
	}
	return e
}

// dropFor removes e from the cache for reason: it counts the removal and
// queues the OnEvict call, made once the lock is released (see unlock).
func (c *Cache) dropFor(e *entry, reason EvictReason) {
	c.drop(e)
	if reason == Expired {
		c.expirations++
	} else {
		c.evictions++
	}
	if c.onEvict != nil {
		c.pending = append(c.pending, eviction{e.key, reason})
	}
}

// unlock releases c.mu, then makes the OnEvict calls queued meanwhile, so
// the callback may use the cache.
func (c *Cache) unlock() {
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, p := range pending {
		c.onEvict(p.key, p.reason)
	}
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
		c.dropFor(c.heap[0], Expired)
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
		c.dropFor(victim, Evicted)
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
