package rediscache

import "strings"

// Every Redis key name of the package is built here.
//
// A cache key k is stored under KeyPrefix+k. Keys are used as given (no hash
// tag is added): a caller that needs several keys in one cluster slot puts a
// hash tag in them. Every script takes exactly one key, so no script needs
// its keys to share a slot.

// key returns the Redis key of cache key k.
func (c *Cache) key(k string) string {
	if c.prefix == "" {
		return k
	}
	return c.prefix + k
}

// keys returns the Redis keys of cache keys ks.
func (c *Cache) keys(ks []string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = c.key(k)
	}
	return out
}

// prefixPattern returns the SCAN MATCH pattern of the Redis keys whose cache
// key starts with prefix: KeyPrefix+prefix taken literally, then "*".
func (c *Cache) prefixPattern(prefix string) string {
	return escapeGlob(c.prefix+prefix) + "*"
}

// escapeGlob escapes the characters that have a meaning in a Redis glob
// pattern (* ? [ ] \) with a backslash, so s matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
