package hybridcache

import "errors"

var (
	// ErrInvalidConfig is returned by New and NewAware for arguments they
	// cannot use; the message names the field and what was expected.
	ErrInvalidConfig = errors.New("hybridcache: invalid config")

	// ErrClosed is returned by the operations of a closed Hybrid.
	ErrClosed = errors.New("hybridcache: closed")
)
