package hybridcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/fanin-dev/fanin/cache"
)

// This file keeps L1 coherent: what each L1 entry holds (its digest), the
// recent changes of L1 (the log), and how a write, a read or a message
// changes L1. Every change of L1 made by the Hybrid happens under core.mu.

// digest identifies the encoded bytes of a value: the first 16 bytes of
// their SHA-256. Invalidation messages carry it for each key a write left
// with a known value, so an instance whose L1 holds exactly those bytes
// keeps them instead of reading them again.
type digest [16]byte

func digestOf(raw []byte) digest {
	sum := sha256.Sum256(raw)
	return digest(sum[:16])
}

// String is the digest as it travels in messages: hexadecimal.
func (d digest) String() string { return hex.EncodeToString(d[:]) }

// parseDigest reads a digest from a message; "" or anything malformed is
// not a digest.
func parseDigest(s string) (digest, bool) {
	var d digest
	if len(s) != 2*len(d) {
		return d, false
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, false
	}
	return d, true
}

// value is a key's state in L2 after a write: its encoded bytes (an own
// write) or only their digest (another instance's), and its expiration in
// L2. A key whose new state is unknown (removed, or changed in a way not
// worth following) has no digest and is dropped from L1.
type value struct {
	key    string
	raw    []byte // known to this instance: an own write
	sum    digest
	hasSum bool
	exp    cache.Expiration
}

// known returns the value of key after a write that left raw in L2 with
// expiration exp.
func known(key string, raw []byte, exp cache.Expiration) value {
	return value{key: key, raw: raw, sum: digestOf(raw), hasSum: true, exp: exp}
}

// logSize is how many of the last changes of L1 are remembered, for the
// reads and writes in flight while they happened.
const logSize = 64

// logEntry is one change of L1: a prefix removed, or the new states of
// some keys.
type logEntry struct {
	epoch    uint64
	byPrefix bool
	prefix   string
	vals     []value
}

// remember records that L1 holds the bytes of digest d at key.
func (c *core) remember(key string, d digest) {
	c.sumMu.Lock()
	c.sums[key] = d
	c.sumMu.Unlock()
}

// forget records that L1 no longer holds key (the OnEvict callback of L1
// calls it too: it takes no other lock).
func (c *core) forget(key string) {
	c.sumMu.Lock()
	delete(c.sums, key)
	c.sumMu.Unlock()
}

// holds reports whether L1 holds the bytes of digest d at key, as far as
// the bookkeeping knows: a forgotten key does not match.
func (c *core) holds(key string, d digest) bool {
	c.sumMu.Lock()
	defer c.sumMu.Unlock()
	got, ok := c.sums[key]
	return ok && got == d
}

// record appends a change to the log and moves to the next epoch. The
// caller holds c.mu.
func (c *core) record(e logEntry) {
	e.epoch = c.epoch.Load() + 1
	c.log[e.epoch%logSize] = e
	c.epoch.Store(e.epoch)
}

// since returns, for each key of keys changed since epoch snap, the last
// state a change gave it, and whether the log still covers every change
// since snap without a removal by prefix. The caller holds c.mu.
func (c *core) since(snap uint64, keys func(string) bool) (map[string]value, bool) {
	now := c.epoch.Load()
	if now-snap > logSize {
		return nil, false
	}
	last := map[string]value{}
	for ep := snap + 1; ep <= now; ep++ {
		e := c.log[ep%logSize]
		if e.epoch != ep || e.byPrefix {
			return nil, false
		}
		for _, v := range e.vals {
			if keys(v.key) {
				last[v.key] = v
			}
		}
	}
	return last, true
}

// store puts raw, with digest d, at key in L1 for as long as the
// expiration exp in L2 allows; on failure L1 drops key. The caller holds
// c.mu.
func (c *core) store(key string, raw []byte, d digest, exp cache.Expiration) {
	ctx := context.Background() // L1 is in memory: nothing to cancel
	if ok, err := c.l1.Set(ctx, key, cache.NewEncodedItem(raw, c.codec), c.localExp(exp)); ok && err == nil {
		c.remember(key, d)
		return
	}
	c.drop(key)
}

// drop removes key from L1. The caller holds c.mu.
func (c *core) drop(key string) {
	_, _ = c.l1.Remove(context.Background(), key)
	c.forget(key)
}

// populate stores in L1 what a read that started at epoch snap found in
// L2, with each key's L2 expiration. A key is stored unless L1 changed it
// since snap to a state other than the bytes read (then what was read may
// be stale); when the log cannot tell, nothing is stored.
func (c *core) populate(snap uint64, items map[string]cache.Item, exps map[string]cache.Expiration) {
	type read struct {
		raw []byte
		sum digest
		exp cache.Expiration
	}
	reads := make(map[string]read, len(items))
	for k, it := range items {
		exp, ok := exps[k]
		raw, err := it.Raw(c.codec)
		if ok && err == nil {
			reads[k] = read{raw, digestOf(raw), exp}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	changed, ok := c.since(snap, func(k string) bool { _, in := reads[k]; return in })
	if !ok {
		return
	}
	for k, r := range reads {
		if v, ok := changed[k]; ok {
			if !v.hasSum || v.sum != r.sum {
				continue // changed since the read to something else
			}
			r.exp = v.exp // the same bytes, with the change's expiration
		}
		c.store(k, r.raw, r.sum, r.exp)
	}
}

// change is the outcome of a write to L2, for L1 and the other instances:
// the keys it left in a known state (vals) or in an unknown one (keys), or
// a prefix it removed.
type change struct {
	keys     []string
	vals     []value
	prefix   string
	byPrefix bool
	// published says whether L2 changed, so other instances must be told.
	published bool
}

// wrote applies a write to L2 that started at epoch snap and ended with
// err: L1 gets the new values when nothing else changed those keys
// meanwhile and loses the keys otherwise; then, when L2 changed, the other
// instances are told. After an error the keys are dropped from L1, as L2's
// state is unknown, and nothing is published.
func (c *core) wrote(ctx context.Context, snap uint64, err error, ch change) {
	if err != nil {
		for _, v := range ch.vals {
			ch.keys = append(ch.keys, v.key)
		}
		ch.vals, ch.published = nil, false
	}
	if c.l1 != nil {
		c.updateLocal(snap, true, ch)
	}
	if ch.published {
		c.publish(ctx, ch)
	}
}

// updateLocal applies ch to L1. An own write (own, started at epoch snap)
// stores its values unless another change touched the key since snap;
// another instance's write keeps an L1 entry only when it holds exactly the
// bytes the write left in L2 (with the write's expiration). Every other key
// is dropped.
func (c *core) updateLocal(snap uint64, own bool, ch change) {
	ctx := context.Background()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch.byPrefix {
		_, _ = c.l1.RemoveByPrefix(ctx, ch.prefix)
		c.sumMu.Lock()
		for k := range c.sums {
			if strings.HasPrefix(k, ch.prefix) {
				delete(c.sums, k)
			}
		}
		c.sumMu.Unlock()
		c.record(logEntry{byPrefix: true, prefix: ch.prefix})
		return
	}
	vals := ch.vals
	for _, k := range ch.keys {
		vals = append(vals, value{key: k})
	}
	// For an own write: the keys other changes touched since it started
	// (nil when the log cannot tell).
	var changed map[string]value
	if own {
		var ok bool
		if changed, ok = c.since(snap, func(string) bool { return true }); !ok {
			changed = nil
		}
	}
	for _, v := range vals {
		_, touched := changed[v.key]
		switch {
		case own && v.raw != nil && changed != nil && !touched:
			c.store(v.key, v.raw, v.sum, v.exp)
		case !own && v.hasSum && c.holds(v.key, v.sum):
			_ = c.l1.SetExpiration(ctx, v.key, c.localExp(v.exp))
			c.kept.Add(1)
		default:
			c.drop(v.key)
		}
	}
	c.record(logEntry{vals: vals})
}

// apply applies an invalidation message from the channel.
func (c *core) apply(payload string) {
	m, err := decodeMessage(payload)
	if err != nil || m.Instance == c.id {
		return
	}
	// Counted once applied (Stats.Invalidations): a reader that sees the
	// count also sees L1 without the keys the message names.
	defer c.invalidations.Add(1)
	if m.All || m.HasPrefix {
		c.updateLocal(0, false, change{prefix: m.Prefix, byPrefix: true})
		return
	}
	ch := change{vals: make([]value, len(m.Keys))}
	for i, k := range m.Keys {
		v := value{key: k}
		if i < len(m.Sums) && i < len(m.TTLs) {
			v.sum, v.hasSum = parseDigest(m.Sums[i])
			if m.TTLs[i] > 0 {
				v.exp = cache.ExpiresIn(msDuration(m.TTLs[i]))
			}
		}
		ch.vals[i] = v
	}
	c.updateLocal(0, false, ch)
}

// dropLocal empties L1, when invalidations may have been missed.
func (c *core) dropLocal() {
	c.updateLocal(0, false, change{byPrefix: true})
}
