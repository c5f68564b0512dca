package jobs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/fanin-dev/fanin/workoutput"
)

// FuzzDecodeChunk feeds arbitrary bytes to the decoder of TypeEvents task
// payloads (the chunk envelope). It must never panic; garbage must give an
// error wrapping ErrBadChunk; whatever it accepts must describe a chunk the
// Mux can run (a valid job ID, valid event IDs, sequence numbers in range)
// and encode back to a payload that decodes to the same chunk.
//
// Run it with: go test -run '^$' -fuzz FuzzDecodeChunk -fuzztime 30s ./jobs/
// (plain go test replays the seeds below and testdata/fuzz/FuzzDecodeChunk).
func FuzzDecodeChunk(f *testing.F) {
	id := uuid.MustParse("8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")
	given := []Event{{ID: "a", Payload: []byte(`{"n":1}`)}, {ID: "b", Payload: nil}, {ID: "ü", Payload: []byte{0, 1, 2}}}
	seeds := [][]byte{
		encodeChunk(nil, id, "zombies.sighting", true, 0, given),
		encodeChunk(nil, id, "zombies.sighting", true, 1<<40, given[:1]),
		encodeChunk(nil, id, "k", false, 0, given),
		encodeChunk(nil, id, "", false, 0, nil),
		encodeChunk(nil, id, "k", true, math.MaxInt64, nil),
		nil,
		[]byte("junk"),
		bytes.Repeat([]byte{envelopeVersion}, 18),
		append([]byte{2, 0}, id[:]...), // a future version
	}
	// A count far beyond the payload, and a sequence number out of range.
	huge := append([]byte{envelopeVersion, flagGenerated}, id[:]...)
	huge = binary.AppendUvarint(huge, 1)
	huge = append(huge, 'k')
	seeds = append(seeds,
		binary.AppendUvarint(binary.AppendUvarint(slices.Clone(huge), 0), math.MaxUint64),
		append(binary.AppendUvarint(binary.AppendUvarint(slices.Clone(huge), math.MaxUint64), 1), 0))
	// Every truncation of a valid chunk.
	valid := encodeChunk(nil, id, "k", false, 0, given)
	for i := range valid {
		seeds = append(seeds, valid[:i])
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeChunk(b)
		if err != nil {
			if !errors.Is(err, ErrBadChunk) || c != nil {
				t.Fatalf("decodeChunk(%x) = %v, %v; want nil and an error wrapping ErrBadChunk", b, c, err)
			}
			return
		}
		if err := workoutput.ValidateJobID(c.jobID); err != nil {
			t.Fatalf("decoded job ID: %v", err)
		}
		if len(c.payloads) > len(b) || (c.ids != nil && len(c.ids) != len(c.payloads)) {
			t.Fatalf("%d payloads, %d IDs from %d bytes", len(c.payloads), len(c.ids), len(b))
		}
		events := make([]Event, len(c.payloads))
		for i := range events {
			eid := c.eventID(i)
			if c.ids == nil {
				if c.first < 0 || c.first+int64(i) < c.first || eid != workoutput.GeneratedID(c.first+int64(i)) {
					t.Fatalf("generated ID of event %d: %q (first %d)", i, eid, c.first)
				}
			} else if err := workoutput.ValidateEventID(eid); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			events[i] = Event{ID: eid, Payload: c.payloads[i]}
			if c.ids == nil {
				events[i].ID = ""
			}
		}
		again, err := decodeChunk(encodeChunk(nil, uuid.MustParse(c.jobID), c.kind, c.ids == nil, c.first, events))
		if err != nil {
			t.Fatalf("re-encoded chunk does not decode: %v", err)
		}
		if again.jobID != c.jobID || again.kind != c.kind || again.first != c.first || !slices.Equal(again.ids, c.ids) ||
			!slices.EqualFunc(again.payloads, c.payloads, bytes.Equal) {
			t.Fatalf("round trip changed the chunk: %+v -> %+v", c, again)
		}
	})
}

// TestDecodeChunkRejects pins the error of each kind of malformed payload.
func TestDecodeChunkRejects(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")
	valid := encodeChunk(nil, id, "k", false, 0, []Event{{ID: "a", Payload: []byte("x")}})
	gen := append([]byte{envelopeVersion, flagGenerated}, id[:]...)
	gen = append(binary.AppendUvarint(gen, 1), 'k')
	for _, tc := range []struct {
		name    string
		payload []byte
		want    string
	}{
		{"empty", nil, "chunk payload of 0 bytes: shorter than its 18-byte header"},
		{"version", append([]byte{9}, valid[1:]...), "chunk payload of 25 bytes: version 9, want 1"},
		{"truncated", valid[:len(valid)-1], "chunk payload of 24 bytes: truncated payload of event 0"},
		{"trailing", append(slices.Clone(valid), 0), "chunk payload of 26 bytes: 1 trailing bytes"},
		{"count", append(slices.Clone(valid[:20]), 0x7f), "chunk payload of 21 bytes: bad event count"},
		{"empty ID", encodeChunk(nil, id, "k", false, 0, []Event{{ID: "", Payload: []byte("x")}}),
			`chunk payload of 24 bytes: event 0: workoutput: invalid input: event ID is empty (want a non-empty ID, or leave IDs out to have them generated)`},
		{"reserved ID", encodeChunk(nil, id, "k", false, 0, []Event{{ID: "#1", Payload: []byte("x")}}),
			`chunk payload of 26 bytes: event 0: workoutput: invalid input: event ID "#1" starts with "#", which is reserved for generated IDs`},
		{"sequence", append(binary.AppendUvarint(binary.AppendUvarint(slices.Clone(gen), math.MaxInt64), 1), 0),
			"chunk payload of 31 bytes: sequence numbers 9223372036854775807 + 1 events out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := decodeChunk(tc.payload)
			if c != nil || !errors.Is(err, ErrBadChunk) || err.Error() != "jobs: malformed chunk: "+tc.want {
				t.Fatalf("decodeChunk = %v, %v; want %q", c, err, tc.want)
			}
		})
	}
}
