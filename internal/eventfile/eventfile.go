package eventfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"unicode/utf8"

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
// empty means every ID is generated. It holds every event in memory: use
// Scan to go through a large input in bounded memory.
func Read(r io.Reader, name, idField string) ([]jobs.Event, error) {
	var events []jobs.Event
	for e, err := range Scan(r, name, idField) {
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// Scan yields the events of r one by one, in order, reading r as the
// sequence is consumed (one line at a time, whatever the size of r; wrap r
// with LimitLines to bound the size of a line too); name and idField are
// as for Read. Each event's Payload is its own copy. A
// malformed line (ErrMalformed, naming the line) or a read error ends the
// sequence as its last pair, with a zero Event; events before it have been
// yielded already; a line cut short by a read error is that error, not a
// malformed line (a *LineTooLongError of a LineLimiter as it is). Breaking
// out of the loop stops reading.
func Scan(r io.Reader, name, idField string) iter.Seq2[jobs.Event, error] {
	return func(yield func(jobs.Event, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		for n := 1; ; n++ {
			line, err := br.ReadBytes('\n')
			var tooLong *LineTooLongError
			switch {
			case errors.As(err, &tooLong):
				yield(jobs.Event{}, err)
				return
			case err != nil && !errors.Is(err, io.EOF):
				// The line was cut short by the error: the error is the
				// news, not that the rest does not parse.
				yield(jobs.Event{}, fmt.Errorf("eventfile: read %s at line %d: %w", name, n, err))
				return
			}
			if len(line) > 0 {
				e, ok, perr := parse(line, idField)
				if perr != nil {
					yield(jobs.Event{}, fmt.Errorf("%w: %s line %d: %v", ErrMalformed, name, n, perr))
					return
				}
				if ok && !yield(e, nil) {
					return
				}
			}
			if err != nil { // io.EOF
				return
			}
		}
	}
}

// parse turns one line into an event; ok is false for a blank line. The
// event's Payload aliases line.
func parse(line []byte, idField string) (e jobs.Event, ok bool, err error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return e, false, nil
	}
	if bytes.HasPrefix(line, []byte("\xef\xbb\xbf")) {
		return e, false, errors.New("starts with a byte order mark (U+FEFF); want UTF-8 JSON without one")
	}
	if !utf8.Valid(line) {
		return e, false, fmt.Errorf("is not valid UTF-8 (at byte %d of the line); want UTF-8 JSON: an ID would be changed silently", invalidUTF8At(line)+1)
	}
	if !json.Valid(line) {
		var v any
		err := json.Unmarshal(line, &v)
		return e, false, fmt.Errorf("not valid JSON (%v); want one JSON value per line", err)
	}
	e.Payload = line
	if idField == "" || line[0] != '{' {
		return e, true, nil
	}
	raw, found := field(line, idField)
	if !found {
		return e, true, nil
	}
	if e.ID, ok = stringValue(raw); !ok || e.ID == "" {
		return jobs.Event{}, false, fmt.Errorf("field %q is %s; want a non-empty string (the event ID)", idField, raw)
	}
	return e, true, nil
}

// invalidUTF8At returns the offset of the first byte of b that is not
// valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
