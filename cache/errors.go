package cache

import (
	"errors"
	"fmt"
)

var (
	// ErrEmptyKey is returned when a key, a prefix-less scope or a hash field
	// is empty where a non-empty one is required.
	ErrEmptyKey = errors.New("cache: key must not be empty")

	// ErrNilValue is returned when a nil value is given where one is
	// required (for example as the expected value of ReplaceIfEqual, or a
	// list value).
	ErrNilValue = errors.New("cache: value must not be nil")

	// ErrNotNumber is returned when a numeric operation meets a stored value
	// that is not a number.
	ErrNotNumber = errors.New("cache: stored value is not a number")

	// ErrUnavailable wraps an error from the backing store (Redis down, a
	// network error). Check it with errors.Is; errors.Unwrap gives the cause.
	ErrUnavailable = errors.New("cache: store unavailable")

	// ErrWrongType is returned when an operation meets a key holding another
	// kind of value (a list where a plain value is expected, and so on).
	ErrWrongType = errors.New("cache: key holds a value of another type")

	// ErrDecode is returned by Item.Decode when the stored bytes cannot be
	// decoded into the destination.
	ErrDecode = errors.New("cache: cannot decode value")

	// ErrInvalidArgument is returned for a nil collection given where the
	// specification wants one: the keys of GetAll, GetAllExpiration and
	// RemoveAll, the map of SetAll and SetAllExpiration, the values of
	// ListAdd and ListRemove. An empty collection is valid (and does
	// nothing); nil is refused, as Foundatio refuses null, so that a
	// forgotten argument is not taken for "none" (or, for RemoveAll, for
	// Foundatio's "every key").
	ErrInvalidArgument = errors.New("cache: invalid argument")
)

// NilCollection returns the error, wrapping ErrInvalidArgument, for the nil
// collection argument name of an operation. Implementations return it
// wrapped with their name and the operation's.
func NilCollection(name string) error {
	return fmt.Errorf("%w: %s is nil; want a non-nil collection (an empty one for none)", ErrInvalidArgument, name)
}
