package hybridcache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/cache/memorycache"
)

// healthInterval is how long the subscription may stay silent before it is
// pinged, so a dead connection is noticed.
const healthInterval = 15 * time.Second

// retryDelay is the pause after a failed receive, before trying again.
const retryDelay = 100 * time.Millisecond

// Hybrid is a cache.Client and cache.Hashes with an in-process L1 in front
// of a distributed L2, kept coherent across instances by pub/sub
// invalidation. It is safe for concurrent use. Create it with New and
// release it with Close.
type Hybrid struct {
	*core
	pubsub    *redis.PubSub
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

var (
	_ cache.Client = (*Hybrid)(nil)
	_ cache.Hashes = (*Hybrid)(nil)
)

// Stats are counters of a Hybrid since New.
type Stats struct {
	// LocalHits counts keys read from L1.
	LocalHits int64
	// LocalMisses counts keys L1 did not have, read from L2.
	LocalMisses int64
	// Invalidations counts the messages of other instances applied to L1
	// (an instance's own messages are ignored, not counted).
	Invalidations int64
	// Kept counts the keys of those messages whose L1 copy already held
	// the value the write left in L2, kept (with the write's TTL) instead
	// of dropped.
	Kept int64
	// PublishErrors counts invalidation messages that could not be
	// published after a successful write.
	PublishErrors int64
	// Resubscriptions counts the times the subscription broke or was
	// re-established, each of which emptied L1.
	Resubscriptions int64
}

// New subscribes to the invalidation channel, waiting for Redis to confirm
// (ctx bounds the wait), and returns a Hybrid with an empty L1.
func New(ctx context.Context, cfg Config) (*Hybrid, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	co := &core{
		l2:       cfg.Distributed,
		codec:    cfg.Codec,
		pub:      cfg.Publisher,
		channel:  cfg.Channel,
		id:       cfg.InstanceID,
		localTTL: cfg.LocalTTL,
		sums:     map[string]digest{},
	}
	l1, err := memorycache.New(memorycache.Config{
		MaxItems:      cfg.LocalMaxItems,
		MaxMemorySize: cfg.LocalMaxMemorySize,
		CloneValues:   true,
		Codec:         localCodec{inner: cfg.Codec},
		// An entry L1 drops by itself leaves its digest behind: forget it,
		// so a later message does not take a missing copy for a match.
		OnEvict: func(key string, _ memorycache.EvictReason) { co.forget(key) },
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	co.l1 = l1
	ps := cfg.Subscriber.Subscribe(ctx, cfg.Channel)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("hybridcache: subscribe to %q: %w: %w", cfg.Channel, cache.ErrUnavailable, err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &Hybrid{
		core:   co,
		pubsub: ps,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go h.listen(lctx)
	return h, nil
}

// listen applies the messages of other instances until Close. Whenever the
// subscription fails or is re-established, messages may have been lost, so
// L1 is emptied.
func (h *Hybrid) listen(ctx context.Context) {
	defer close(h.done)
	for {
		msg, err := h.pubsub.ReceiveTimeout(ctx, healthInterval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = h.pubsub.Ping(ctx) // a dead connection fails the next receive
				continue
			}
			h.dropLocal()
			h.resubscriptions.Add(1) // once L1 is empty, as Stats says
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryDelay):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Message:
			h.apply(m.Payload)
		case *redis.Subscription:
			// The connection was re-established and resubscribed.
			h.dropLocal()
			h.resubscriptions.Add(1)
		}
	}
}

// Stats returns the counters of h.
func (h *Hybrid) Stats() Stats {
	return Stats{
		LocalHits:       h.hits.Load(),
		LocalMisses:     h.misses.Load(),
		Invalidations:   h.invalidations.Load(),
		Kept:            h.kept.Load(),
		PublishErrors:   h.publishErrors.Load(),
		Resubscriptions: h.resubscriptions.Load(),
	}
}

// InstanceID returns the ID h puts in the messages it publishes.
func (h *Hybrid) InstanceID() string { return h.id }

// Close unsubscribes and empties L1. Operations after Close fail with
// ErrClosed. L2 and the Redis clients are not closed: they belong to the
// caller. Close is safe to call more than once.
func (h *Hybrid) Close() error {
	var err error
	h.closeOnce.Do(func() {
		h.closed.Store(true)
		h.cancel()
		err = h.pubsub.Close()
		<-h.done
		h.dropLocal()
	})
	return err
}
