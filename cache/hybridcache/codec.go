package hybridcache

import "github.com/fanin-dev/fanin/cache"

// localCodec is the codec of L1. L1 stores values encoded (CloneValues), so
// an Item read from L2 is stored as its raw bytes: a later L1 hit is the
// same bytes, decoded the same way.
type localCodec struct{ inner cache.Codec }

// Marshal returns an Item's raw bytes, and encodes anything else with the
// inner codec.
func (c localCodec) Marshal(v any) ([]byte, error) {
	if it, ok := v.(cache.Item); ok {
		return it.Raw(c.inner)
	}
	return c.inner.Marshal(v)
}

// Unmarshal decodes with the inner codec.
func (c localCodec) Unmarshal(data []byte, v any) error { return c.inner.Unmarshal(data, v) }
