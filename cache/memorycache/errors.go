package memorycache

import (
	"errors"

	"github.com/fanin-dev/fanin/cache"
)

var (
	// ErrWrongType is returned when an operation meets a key holding another
	// kind of value: a list or a hash under Get or Increment, a plain value
	// under ListAdd or HashSet. Redis answers WRONGTYPE in the same cases.
	// It is cache.ErrWrongType, shared by every implementation.
	ErrWrongType = cache.ErrWrongType

	// ErrTooLarge is returned when a write would make one entry larger
	// than Config.MaxEntrySize (by default Config.MaxMemorySize), so no
	// eviction could make room for it. The message names both sizes.
	ErrTooLarge = errors.New("memorycache: entry larger than MaxEntrySize")

	// ErrInvalidConfig is returned by New for a Config it cannot use.
	ErrInvalidConfig = errors.New("memorycache: invalid config")
)
