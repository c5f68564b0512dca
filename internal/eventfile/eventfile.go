package eventfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/fanin-dev/fanin/jobs"
)

// ErrMalformed is returned for a line that is not one JSON value, or whose
// ID field is not a string.
var ErrMalformed = errors.New("eventfile: malformed events")

// Open opens path for reading; "-" is stdin (not closed by the returned
// closer).
func Open(path string) (io.ReadCloser, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("eventfile: %w", err)
	}
	return f, nil
}

// Read reads every event of r. name names r in errors (a file name, or
// "stdin"). idField names the top-level field holding each event's ID;
// empty means every ID is generated.
func Read(r io.Reader, name, idField string) ([]jobs.Event, error) {
	var events []jobs.Event
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			e, perr := parse(line, idField)
			if perr != nil {
				return nil, fmt.Errorf("%w: %s line %d: %v", ErrMalformed, name, n, perr)
			}
			if e != nil {
				events = append(events, *e)
			}
		}
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return nil, fmt.Errorf("eventfile: read %s at line %d: %w", name, n, err)
		}
	}
}

// parse turns one line into an event; nil for a blank line.
func parse(line []byte, idField string) (*jobs.Event, error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil
	}
	if !json.Valid(line) {
		var v any
		err := json.Unmarshal(line, &v)
		return nil, fmt.Errorf("not valid JSON (%v); want one JSON value per line", err)
	}
	e := &jobs.Event{Payload: append([]byte(nil), line...)}
	if idField == "" || line[0] != '{' {
		return e, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	raw, ok := fields[idField]
	if !ok {
		return e, nil
	}
	if err := json.Unmarshal(raw, &e.ID); err != nil || e.ID == "" {
		return nil, fmt.Errorf("field %q is %s; want a non-empty string (the event ID)", idField, raw)
	}
	return e, nil
}
