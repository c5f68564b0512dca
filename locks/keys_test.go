package locks

import (
	"slices"
	"testing"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		resource, tag, lock string
	}{
		{"job-1", "{job-1}", "p:lock:{job-1}"},
		{"job:{42}", "{42}", "p:lock:job:{42}"},            // its own tag is kept
		{"a{}b", "{a{}b}", "p:lock:{a{}b}"},                // an empty tag is no tag
		{"x{y}z{w}", "{y}", "p:lock:x{y}z{w}"},             // the first tag counts
		{"open{only", "{open{only}", "p:lock:{open{only}"}, // no closing brace
	}
	for _, c := range cases {
		if got := HashTag(c.resource); got != c.tag {
			t.Errorf("HashTag(%q) = %q; want %q", c.resource, got, c.tag)
		}
		keys := ResourceKeys("p:", c.resource)
		want := []string{c.lock, c.lock + ":waiting", c.lock + ":token", FenceKey("p:", c.resource)}
		if !slices.Equal(keys, want) {
			t.Errorf("ResourceKeys(%q) = %q; want %q", c.resource, keys, want)
		}
		// Every key hashes on the same slot tag, and so does a sink key
		// built with HashTag.
		sink := "p:result:" + HashTag(c.resource)
		for _, k := range append(keys, sink) {
			if slotTag(k) != slotTag(keys[0]) {
				t.Errorf("key %q hashes on %q; want %q like the lock", k, slotTag(k), slotTag(keys[0]))
			}
		}
	}
}
