package locks

import "errors"

var (
	// ErrNotObtained is returned when a lock (or a throttling slot) could not
	// be obtained: TryAcquire found it held, or Acquire's timeout passed. The
	// error returned wraps it and names the resource.
	ErrNotObtained = errors.New("locks: not obtained")

	// ErrNotHeld is returned by Lock.Renew and Lock.Release when the handle
	// no longer owns the lock: it expired, was released, or another owner
	// holds it now.
	ErrNotHeld = errors.New("locks: lock not held")

	// ErrLost is the cause of a watchdog's context and the error it reports
	// when the lock is lost while the holder works.
	ErrLost = errors.New("locks: lock lost")

	// ErrFenced is returned by Fence when a write carries a token lower than
	// the highest token already seen for the resource: a newer holder has
	// written since, and this writer's lock is stale.
	ErrFenced = errors.New("locks: fenced: token is older than the highest seen")

	// ErrClosed is returned by Provider methods called after Close.
	ErrClosed = errors.New("locks: provider closed")

	// ErrInvalid is returned, wrapped with details, for bad input: an empty
	// resource, a non-positive TTL, a bad Config.
	ErrInvalid = errors.New("locks: invalid argument")
)
