package eventfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/internal/eventfile"
)

// FuzzRead feeds arbitrary bytes to the events-file decoder. It must never
// panic; on success every event is one valid JSON value from a non-blank
// line, and an ID comes only from a string field; on failure the error is
// ErrMalformed naming a line that exists, or a read error.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		"",
		"\n\n",
		`{"id":"s1","lat":1}` + "\n" + `{"id":"s2"}`,
		`{"id":"s1"}` + "\r\n" + `[1,2]` + "\n" + `"text"` + "\n" + `42`,
		`{"id":""}`,
		`{"id":7}`,
		`{"id":"a"`,
		"{\"id\":\"\xff\"}",
		`{"a":{"id":"nested"}}`,
		"  \t{\"id\":\"padded\"}  \n",
		`{"id":"x"} {"id":"y"}`,
		"null\ntrue\n",
	} {
		f.Add([]byte(seed), "id")
		f.Add([]byte(seed), "")
	}
	f.Fuzz(func(t *testing.T, data []byte, idField string) {
		events, err := eventfile.Read(bytes.NewReader(data), "fuzz", idField)
		lines := strings.Split(string(data), "\n")
		nonBlank := 0
		for _, l := range lines {
			if len(bytes.TrimSpace([]byte(l))) > 0 {
				nonBlank++
			}
		}
		if err != nil {
			if !errors.Is(err, eventfile.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			found := false
			for n := 1; n <= len(lines); n++ {
				if strings.Contains(err.Error(), fmt.Sprintf("fuzz line %d:", n)) {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("error %q names no line of the input (%d lines)", err, len(lines))
			}
			return
		}
		if len(events) != nonBlank {
			t.Fatalf("%d events from %d non-blank lines", len(events), nonBlank)
		}
		for i, e := range events {
			if !json.Valid(e.Payload) {
				t.Fatalf("event %d payload %q is not valid JSON", i, e.Payload)
			}
			if e.ID != "" && idField == "" {
				t.Fatalf("event %d has ID %q without an ID field", i, e.ID)
			}
		}
	})
}
