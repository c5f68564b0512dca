package locks

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// waiter is one Acquire call waiting for a resource. Its channel holds at
// most one pending wake-up.
type waiter struct {
	resource string
	wake     chan struct{}
}

// dispatcher wakes waiting Acquire calls when a lock is released: locally,
// when this Provider releases, and through one pub/sub subscription shared by
// every waiter of the Provider when it runs on Redis. A release wakes one
// waiter per Provider (the longest waiting), not all of them, so a release
// costs one attempt per process instead of a stampede.
type dispatcher struct {
	rdb     redis.UniversalClient // nil: local wake-ups only
	channel string
	origin  string

	mu      sync.Mutex
	waiting map[string][]*waiter
	closed  atomic.Bool

	remoteWakes atomic.Int64 // waiters woken by a release message

	subMu sync.Mutex  // serializes starting the subscription
	ready atomic.Bool // the subscription is confirmed
	sub   *redis.PubSub
	done  chan struct{} // closed when the receive loop has ended
}

func newDispatcher(rdb redis.UniversalClient, channel, origin string) *dispatcher {
	return &dispatcher{rdb: rdb, channel: channel, origin: origin, waiting: map[string][]*waiter{}}
}

// add registers a waiter for resource.
func (d *dispatcher) add(resource string) (*waiter, error) {
	w := &waiter{resource: resource, wake: make(chan struct{}, 1)}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return nil, ErrClosed
	}
	d.waiting[resource] = append(d.waiting[resource], w)
	return w, nil
}

// remove unregisters w. A wake-up it received but did not use (it gave up)
// passes on to the next waiter.
func (d *dispatcher) remove(w *waiter, used bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.waiting[w.resource]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(q) == 0 {
		delete(d.waiting, w.resource)
	} else {
		d.waiting[w.resource] = q
	}
	select {
	case <-w.wake:
		if !used {
			d.wakeLocked(w.resource)
		}
	default:
	}
}

// wakeup wakes the longest-waiting waiter of resource that has no pending
// wake-up.
func (d *dispatcher) wakeup(resource string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.wakeLocked(resource)
}

func (d *dispatcher) wakeLocked(resource string) bool {
	for _, w := range d.waiting[resource] {
		select {
		case w.wake <- struct{}{}:
			return true
		default: // already woken, not yet back: try the next one
		}
	}
	return false
}

// subscribed reports whether release messages are being received (always
// false without Redis).
func (d *dispatcher) subscribed() bool { return d.ready.Load() }

// subscribe starts the shared subscription once and waits until Redis has
// confirmed it, so a release published afterwards is not missed. Plain
// PUBLISH/SUBSCRIBE is used: on a Cluster a message reaches subscribers on
// every node, so one connection hears the releases of every slot.
func (d *dispatcher) subscribe(ctx context.Context) error {
	if d.rdb == nil {
		return nil
	}
	d.subMu.Lock()
	defer d.subMu.Unlock()
	if d.sub != nil {
		return nil
	}
	if d.closed.Load() {
		return ErrClosed
	}
	sub := d.rdb.Subscribe(ctx, d.channel)
	if _, err := sub.Receive(ctx); err != nil {
		_ = sub.Close()
		return err
	}
	d.sub, d.done = sub, make(chan struct{})
	go d.receive(sub.Channel(), d.done)
	d.ready.Store(true)
	return nil
}

// receive dispatches release messages until the subscription is closed.
// go-redis resubscribes after a reconnection; a message lost meanwhile costs
// a waiter one fallback poll.
func (d *dispatcher) receive(ch <-chan *redis.Message, done chan struct{}) {
	defer close(done)
	for msg := range ch {
		origin, resource, ok := strings.Cut(msg.Payload, ":")
		if !ok || origin == d.origin { // our own releases were dispatched locally
			continue
		}
		if d.wakeup(resource) {
			d.remoteWakes.Add(1)
		}
	}
}

// isClosed reports whether close was called.
func (d *dispatcher) isClosed() bool { return d.closed.Load() }

// close stops the subscription and refuses new waiters; current waiters
// keep polling until they give up.
func (d *dispatcher) close() error {
	d.mu.Lock()
	already := d.closed.Swap(true)
	d.mu.Unlock()
	if already {
		return nil
	}
	d.subMu.Lock()
	sub, done := d.sub, d.done
	d.subMu.Unlock()
	if sub == nil {
		return nil
	}
	err := sub.Close()
	<-done
	return err
}
