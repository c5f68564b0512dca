package cache

import (
	"fmt"
	"time"
)

// Expiration says how long a written key lives. The zero value means no
// expiration: the key lives until removed, and any TTL it had is removed.
// Build other values with ExpiresIn.
type Expiration struct {
	ttl time.Duration
	set bool
}

// ExpiresIn returns an Expiration of d from now. A d of zero or less means
// the entry is already expired: writes given it remove the key and report
// failure. Every positive d is a TTL, math.MaxInt64 (about 292 years)
// included: unlike Foundatio's TimeSpan.MaxValue it does not mean "no
// expiration", which is Expiration{} (see "Expiration" in the package doc).
func ExpiresIn(d time.Duration) Expiration {
	return Expiration{ttl: d, set: true}
}

// IsNone reports whether e means "no expiration" (the zero value).
func (e Expiration) IsNone() bool { return !e.set }

// IsExpired reports whether e is zero or negative: already expired.
func (e Expiration) IsExpired() bool { return e.set && e.ttl <= 0 }

// TTL returns the duration of e; it is 0 for no expiration.
func (e Expiration) TTL() time.Duration {
	if !e.set {
		return 0
	}
	return e.ttl
}

// String describes e for logs and test failures.
func (e Expiration) String() string {
	switch {
	case !e.set:
		return "no expiration"
	case e.ttl <= 0:
		return fmt.Sprintf("expired (%v)", e.ttl)
	default:
		return "expires in " + e.ttl.String()
	}
}
