package eventfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/internal/eventfile"
	"github.com/fanin-dev/fanin/jobs"
)

// FuzzRead feeds arbitrary bytes to the events-file decoder. It must never
// panic; on success every event is one valid JSON value from a non-blank
// line, and its ID is what encoding/json finds in the top-level field (a
// string, or no ID); on failure the error is ErrMalformed naming a line
// that exists, or a read error. Scan yields the same events, then the same
// error, and stops reading when the loop breaks.
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
		`{"id":"first","id":"last"}`,
		`{"i\u0064":"escaped key","n":[1,{"id":"no"}],"s":"\"}"}`,
		`{"id":"\u00e9t\u00e9"}`,
		`{ "x" : -1.5e3 , "id" : "spaced" }`,
	} {
		f.Add([]byte(seed), "id")
		f.Add([]byte(seed), "")
	}
	f.Fuzz(func(t *testing.T, data []byte, idField string) {
		events, err := eventfile.Read(bytes.NewReader(data), "fuzz", idField)
		checkScan(t, data, idField, events, err)
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
			if want := jsonID(e.Payload, idField); e.ID != want {
				t.Fatalf("event %d %q has ID %q, encoding/json finds %q", i, e.Payload, e.ID, want)
			}
		}
	})
}

// checkScan checks that Scan agrees with Read: the same events, then the
// same error, and that it stops when the loop breaks after the first event.
func checkScan(t *testing.T, data []byte, idField string, events []jobs.Event, readErr error) {
	t.Helper()
	var got []jobs.Event
	var scanErr error
	for e, err := range eventfile.Scan(bytes.NewReader(data), "fuzz", idField) {
		if err != nil {
			scanErr = err
			continue // must be the last pair: a later event fails below
		}
		if scanErr != nil {
			t.Fatalf("Scan yielded event %q after error %v", e.Payload, scanErr)
		}
		got = append(got, e)
	}
	if fmt.Sprint(scanErr) != fmt.Sprint(readErr) {
		t.Fatalf("Scan error %v, Read error %v", scanErr, readErr)
	}
	if readErr == nil && len(got) != len(events) {
		t.Fatalf("Scan yielded %d events, Read %d", len(got), len(events))
	}
	for i := range events {
		if got[i].ID != events[i].ID || !bytes.Equal(got[i].Payload, events[i].Payload) {
			t.Fatalf("Scan event %d = %q %q, Read %q %q", i, got[i].ID, got[i].Payload, events[i].ID, events[i].Payload)
		}
	}
	n := 0
	for range eventfile.Scan(bytes.NewReader(data), "fuzz", idField) {
		n++
		break
	}
	if n > 1 {
		t.Fatalf("Scan went on after break")
	}
}

// jsonID is the event ID encoding/json finds in payload: the top-level
// string field idField of an object.
func jsonID(payload []byte, idField string) string {
	var fields map[string]json.RawMessage
	if idField == "" || json.Unmarshal(payload, &fields) != nil {
		return ""
	}
	var id string
	_ = json.Unmarshal(fields[idField], &id)
	return id
}
