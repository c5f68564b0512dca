package jobs

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/fanin-dev/fanin/workoutput"
)

// envelopeVersion is the first byte of every chunk payload.
const envelopeVersion = 1

// flagGenerated marks a chunk whose event IDs are generated: they are
// implied by the first sequence number and not carried.
const flagGenerated = 1

// chunk is the payload of one TypeEvents task: several events of one job.
//
// Binary layout (uvarint = unsigned LEB128):
//
//	version byte (1) | flags byte | job ID (16 bytes) | uvarint len(kind) | kind
//	generated: uvarint first sequence | uvarint count | count × (uvarint len | payload)
//	otherwise: uvarint count | count × (uvarint len(id) | id | uvarint len | payload)
type chunk struct {
	jobID    string
	kind     string
	first    int64    // first sequence number, when generated
	ids      []string // nil when generated
	payloads [][]byte
}

// eventID returns the ID of the i-th event of c.
func (c *chunk) eventID(i int) string {
	if c.ids == nil {
		return workoutput.GeneratedID(c.first + int64(i))
	}
	return c.ids[i]
}

// encodeChunk encodes events [from, to) of a batch into buf's capacity.
func encodeChunk(buf []byte, jobID uuid.UUID, kind string, generated bool, first int64, events []Event) []byte {
	flags := byte(0)
	if generated {
		flags = flagGenerated
	}
	buf = append(buf, envelopeVersion, flags)
	buf = append(buf, jobID[:]...)
	buf = binary.AppendUvarint(buf, uint64(len(kind)))
	buf = append(buf, kind...)
	if generated {
		buf = binary.AppendUvarint(buf, uint64(first))
	}
	buf = binary.AppendUvarint(buf, uint64(len(events)))
	for _, e := range events {
		if !generated {
			buf = binary.AppendUvarint(buf, uint64(len(e.ID)))
			buf = append(buf, e.ID...)
		}
		buf = binary.AppendUvarint(buf, uint64(len(e.Payload)))
		buf = append(buf, e.Payload...)
	}
	return buf
}

// decodeChunk parses a TypeEvents payload. Payload slices alias b.
func decodeChunk(b []byte) (*chunk, error) {
	bad := func(what string) (*chunk, error) {
		return nil, fmt.Errorf("%w: chunk payload of %d bytes: %s", ErrBadChunk, len(b), what)
	}
	if len(b) < 18 {
		return bad("shorter than its 18-byte header")
	}
	if b[0] != envelopeVersion {
		return bad(fmt.Sprintf("version %d, want %d", b[0], envelopeVersion))
	}
	generated := b[1]&flagGenerated != 0
	id, err := uuid.FromBytes(b[2:18])
	if err != nil {
		return bad("bad job ID")
	}
	c := &chunk{jobID: id.String()}
	p := b[18:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	bytesOf := func() ([]byte, bool) {
		n, ok := next()
		if !ok || n > uint64(len(p)) {
			return nil, false
		}
		v := p[:n:n]
		p = p[n:]
		return v, true
	}
	kind, ok := bytesOf()
	if !ok {
		return bad("truncated kind")
	}
	c.kind = string(kind)
	var first uint64
	if generated {
		if first, ok = next(); !ok {
			return bad("truncated sequence number")
		}
		c.first = int64(first)
	}
	count, ok := next()
	if !ok || count > uint64(len(p)) { // every event takes at least one byte
		return bad("bad event count")
	}
	if generated && (first > math.MaxInt64 || count > math.MaxInt64-first) {
		return bad(fmt.Sprintf("sequence numbers %d + %d events out of range", first, count))
	}
	c.payloads = make([][]byte, count)
	if !generated {
		c.ids = make([]string, count)
	}
	for i := range c.payloads {
		if !generated {
			id, ok := bytesOf()
			if !ok {
				return bad(fmt.Sprintf("truncated ID of event %d", i))
			}
			c.ids[i] = string(id)
			if err := workoutput.ValidateEventID(c.ids[i]); err != nil {
				return bad(fmt.Sprintf("event %d: %v", i, err))
			}
		}
		if c.payloads[i], ok = bytesOf(); !ok {
			return bad(fmt.Sprintf("truncated payload of event %d", i))
		}
	}
	if len(p) != 0 {
		return bad(fmt.Sprintf("%d trailing bytes", len(p)))
	}
	return c, nil
}
