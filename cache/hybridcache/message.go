package hybridcache

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/fanin-dev/fanin/cache/internal/redisnum"
)

// message is an invalidation, as published on the channel (JSON).
type message struct {
	// Instance is the ID of the publishing instance.
	Instance string `json:"instance"`
	// Keys are the keys written or removed.
	Keys []string `json:"keys,omitempty"`
	// Sums and TTLs, when set, run parallel to Keys: for a key the write
	// left holding a known value, the digest of the bytes L2 now holds and
	// its TTL in L2 in milliseconds (0: none); "" for a key whose new state
	// is not known. An instance whose L1 holds exactly those bytes keeps
	// them. Instances that predate the fields ignore them and drop the
	// keys, as before.
	Sums []string `json:"sums,omitempty"`
	TTLs []int64  `json:"ttls,omitempty"`
	// Prefix, with HasPrefix, is the prefix given to RemoveByPrefix.
	Prefix    string `json:"prefix,omitempty"`
	HasPrefix bool   `json:"has_prefix,omitempty"`
	// All means every key (RemoveByPrefix with the empty prefix).
	All bool `json:"all,omitempty"`
}

// newMessage is the message of instance id telling about ch.
func newMessage(id string, ch change) message {
	m := message{Instance: id, Prefix: ch.prefix, HasPrefix: ch.byPrefix && ch.prefix != "", All: ch.byPrefix && ch.prefix == ""}
	if ch.byPrefix {
		return m
	}
	m.Keys = append(m.Keys, ch.keys...)
	if len(ch.vals) == 0 {
		return m
	}
	m.Sums = make([]string, len(ch.keys), len(ch.keys)+len(ch.vals))
	m.TTLs = make([]int64, len(ch.keys), len(ch.keys)+len(ch.vals))
	for _, v := range ch.vals {
		m.Keys = append(m.Keys, v.key)
		m.Sums = append(m.Sums, v.sum.String())
		m.TTLs = append(m.TTLs, redisnum.Millis(v.exp.TTL())) // as rediscache gives it to L2
	}
	return m
}

// msDuration is ms milliseconds, at most the longest time.Duration.
func msDuration(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
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
