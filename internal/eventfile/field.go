package eventfile

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// field returns the raw value of the top-level field named key of obj, a
// valid JSON object (checked by the caller); the last one when the key is
// repeated, as encoding/json does for a map. It walks obj once without
// decoding anything but the keys that may match: the events of a large
// file are parsed twice by submit, and decoding every line into a map cost
// most of the time.
func field(obj []byte, key string) (raw []byte, found bool) {
	i := 1 // past '{'
	for {
		i = skipSpace(obj, i)
		if obj[i] == '}' {
			return raw, found
		}
		end := skipString(obj, i)
		k := obj[i:end]
		i = skipSpace(obj, skipSpace(obj, end)+1) // past ':'
		vend := skipValue(obj, i)
		if keyIs(k, key) {
			raw, found = obj[i:vend], true
		}
		i = skipSpace(obj, vend)
		if obj[i] == ',' {
			i++
		}
	}
}

// keyIs reports whether the JSON string k (quotes included) decodes to key.
func keyIs(k []byte, key string) bool {
	body := k[1 : len(k)-1]
	if bytes.IndexByte(body, '\\') < 0 && ascii(body) {
		return string(body) == key
	}
	var s string
	return json.Unmarshal(k, &s) == nil && s == key
}

// stringValue decodes the JSON string raw, or reports false when raw is
// not a string.
func stringValue(raw []byte) (string, bool) {
	if raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && ascii(body) {
		return string(body), true
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// ascii reports whether b is all ASCII (so it decodes to itself).
func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skipSpace returns the index of the first non-space byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the JSON string starting at b[i].
func skipString(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			i++
			if depth == 0 {
				return i
			}
		}
	}
	for ; i < len(b); i++ { // a number, true, false or null
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
	}
	return i
}
