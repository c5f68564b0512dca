package hybridcache

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// message is an invalidation, as published on the channel (JSON).
type message struct {
	// Instance is the ID of the publishing instance.
	Instance string `json:"instance"`
	// Keys are the keys written or removed.
	Keys []string `json:"keys,omitempty"`
	// Prefix, with HasPrefix, is the prefix given to RemoveByPrefix.
	Prefix    string `json:"prefix,omitempty"`
	HasPrefix bool   `json:"has_prefix,omitempty"`
	// All means every key (RemoveByPrefix with the empty prefix).
	All bool `json:"all,omitempty"`
}

func decodeMessage(payload string) (message, error) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		return message{}, fmt.Errorf("hybridcache: invalidation message %q: %w", payload, err)
	}
	if m.Instance == "" {
		return message{}, fmt.Errorf("hybridcache: invalidation message %q names no instance", payload)
	}
	return m, nil
}

// identity applies the defaults of a channel and an instance ID: the
// default channel and a random ID.
func identity(channel, id string) (string, string, error) {
	if channel == "" {
		channel = DefaultChannel
	}
	if id == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", "", fmt.Errorf("hybridcache: instance ID: %w", err)
		}
		id = hex.EncodeToString(b[:])
	}
	return channel, id, nil
}
