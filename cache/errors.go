package cache

import "errors"

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
)
