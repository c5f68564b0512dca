package locks

import (
	"fmt"
	"strings"
)

// Every Redis key and channel name of the package is built in this file.
//
// For a resource R, base(R) is R itself when R already holds a Redis hash tag
// ("{...}" with something between the braces), and "{R}" otherwise. All keys
// of R are the key prefix, a fixed word, then base(R), possibly followed by a
// suffix; since neither the prefix nor the words hold braces, Redis Cluster
// hashes every key of R on the same tag: they share a slot.
//
//	<prefix>lock:<base>           the lock: the owner id ("<owner>:<token>" on
//	                              the generic cache path), with the lock TTL
//	<prefix>lock:<base>:token     the fencing token counter of R (INCR)
//	<prefix>lock:<base>:waiting   set while some Acquire waits for R
//	<prefix>fence:<base>          the highest token a sink has accepted for R
//	<prefix>throttle:<base>       Throttling's hash {p: period index, n: hits}
//	<prefix>throttle:<base>:<n>   Throttling's counter for period n (cache path)
//	<prefix>lock:released         pub/sub channel: "<provider id>:<R>" on release

// keyspace builds the key names of one key prefix.
type keyspace struct{ prefix string }

func (k keyspace) lock(resource string) string  { return k.prefix + "lock:" + base(resource) }
func (k keyspace) token(resource string) string { return k.lock(resource) + ":token" }
func (k keyspace) fence(resource string) string { return k.prefix + "fence:" + base(resource) }
func (k keyspace) throttle(resource string) string {
	return k.prefix + "throttle:" + base(resource)
}
func (k keyspace) throttlePeriod(resource string, period int64) string {
	return fmt.Sprintf("%s:%d", k.throttle(resource), period)
}
func (k keyspace) releasedChannel() string { return k.prefix + "lock:released" }

// resourceKeys are the keys of one resource, built once per acquisition
// attempt and kept by the Lock: keys is lock, waiting marker, token counter,
// so that keys[:1] are the KEYS of renew.lua, keys[:2] those of release.lua
// and keys those of acquire.lua.
type resourceKeys struct {
	resource string
	keys     []string
}

func (k keyspace) of(resource string) resourceKeys {
	// One allocation for the three names: "<lock>:waiting<lock>:token".
	lock := k.lock(resource)
	all := lock + ":waiting" + lock + ":token"
	n := len(lock)
	return resourceKeys{resource: resource, keys: []string{all[:n], all[:n+8], all[n+8:]}}
}

func (rk resourceKeys) lock() string { return rk.keys[0] }

// FenceKey returns the key holding the highest fencing token accepted for
// resource, under keyPrefix (use the KeyPrefix of the Provider's Config). A
// Lua script of another package that checks tokens itself (see FenceLua)
// passes this key in KEYS.
func FenceKey(keyPrefix, resource string) string {
	return keyspace{prefix: keyPrefix}.fence(resource)
}

// LockKey returns the key that holds resource's lock under keyPrefix (the
// KeyPrefix of the Provider's Config).
func LockKey(keyPrefix, resource string) string {
	return keyspace{prefix: keyPrefix}.lock(resource)
}

// TokenKey returns the key of resource's fencing-token counter under
// keyPrefix. A sink that retains or deletes a resource's keys together
// (as workoutput does with a job's) gives it the same lifetime.
func TokenKey(keyPrefix, resource string) string {
	return keyspace{prefix: keyPrefix}.token(resource)
}

// ResourceKeys returns every key a Provider and a Fence may write for
// resource under keyPrefix: the lock, its waiting marker, its token counter
// and its fence key (Throttling's keys aside). They all carry
// HashTag(resource). For retention and clean-up code that must not spell
// the layout out itself.
func ResourceKeys(keyPrefix, resource string) []string {
	k := keyspace{prefix: keyPrefix}
	return append(k.of(resource).keys, k.fence(resource))
}

// HashTag returns the Redis Cluster hash tag, braces included, that every
// key of resource carries: resource's own tag when it has one ("job:{42}"
// gives "{42}"), otherwise "{resource}". A sink key written with
// Fence.CommitIfFenced must contain the same tag, for example
// "result:" + HashTag(resource), so that it lives in the fence key's slot.
func HashTag(resource string) string {
	if tag, ok := hashTag(resource); ok {
		return "{" + tag + "}"
	}
	return "{" + resource + "}"
}

// base returns the part of every key of resource that carries its hash tag.
func base(resource string) string {
	if _, ok := hashTag(resource); ok {
		return resource
	}
	return "{" + resource + "}"
}

// hashTag returns what Redis Cluster hashes in key: the text between the
// first '{' and the first '}' after it, when that text is not empty.
func hashTag(key string) (string, bool) {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return "", false
	}
	end := strings.IndexByte(key[open+1:], '}')
	if end <= 0 {
		return "", false
	}
	return key[open+1 : open+1+end], true
}

// slotTag returns the text Redis Cluster hashes for key: its tag, or the
// whole key when it has none.
func slotTag(key string) string {
	if tag, ok := hashTag(key); ok {
		return tag
	}
	return key
}

// checkPrefix validates a key prefix: it must not hold braces, or the hash
// tag of every key would come from the prefix instead of the resource.
func checkPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "{}") {
		return fmt.Errorf("%w: KeyPrefix %q must not contain '{' or '}' (keys take their hash tag from the resource)",
			ErrInvalid, prefix)
	}
	return nil
}

// checkResource validates a resource name.
func checkResource(resource string) error {
	if resource == "" {
		return fmt.Errorf("%w: resource must not be empty", ErrInvalid)
	}
	return nil
}
