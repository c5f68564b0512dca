package workoutput

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Jobs yields the ID of every job of the Store's namespace that still has
// its meta hash, whatever its state, in no particular order (SCAN of every
// master of a cluster). A job created or expiring during the scan may or may
// not be yielded. The job index cannot serve here: the sweeper drops
// finished jobs from it. An error ends the sequence as its last pair.
func (s *Store) Jobs(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ns := s.cfg.Namespace
		scan := func(ctx context.Context, c redis.Cmdable, emit func(string) bool) error {
			it := c.Scan(ctx, 0, metaPattern(ns), 1000).Iterator()
			for it.Next(ctx) {
				if id := jobIDOfMeta(ns, it.Val()); id != "" && !emit(id) {
					return nil
				}
			}
			if err := it.Err(); err != nil {
				return fmt.Errorf("workoutput: list jobs: %w", err)
			}
			return nil
		}
		cc, ok := s.client.(*redis.ClusterClient)
		if !ok {
			if err := scan(ctx, s.client, func(id string) bool { return yield(id, nil) }); err != nil {
				yield("", err)
			}
			return
		}
		// The masters are scanned at once by ForEachMaster; their IDs are
		// collected, then yielded from this goroutine.
		var (
			mu  sync.Mutex
			ids []string
		)
		err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return scan(ctx, m, func(id string) bool {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
				return true
			})
		})
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
		if err != nil {
			yield("", err)
		}
	}
}
