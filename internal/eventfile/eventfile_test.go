package eventfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fanin-dev/fanin/internal/eventfile"
)

func TestRead(t *testing.T) {
	t.Parallel()
	in := "{\"id\":\"a\",\"n\":1}\n\n  [1,2]\n{\"n\":3}\n\"text\""
	events, err := eventfile.Read(strings.NewReader(in), "in", "id")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, payload string }{{"a", `{"id":"a","n":1}`}, {"", "[1,2]"}, {"", `{"n":3}`}, {"", `"text"`}}
	if len(events) != len(want) {
		t.Fatalf("got %d events, want %d", len(events), len(want))
	}
	for i, w := range want {
		if events[i].ID != w.id || string(events[i].Payload) != w.payload {
			t.Errorf("event %d = %q %s, want %q %s", i, events[i].ID, events[i].Payload, w.id, w.payload)
		}
	}
	events, err = eventfile.Read(strings.NewReader(`{"id":"a"}`), "in", "")
	if err != nil || events[0].ID != "" {
		t.Fatalf("without an ID field: %v %v", events, err)
	}
}

func TestReadNamesTheBadLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"{\"id\":\"a\"}\n{\"id\":\"b\"\n", "events.jsonl line 2: not valid JSON"},
		{"\n\n{\"id\": 7}\n", "events.jsonl line 3: field \"id\" is 7; want a non-empty string"},
		{"{} {}\n", "events.jsonl line 1: not valid JSON"},
		{"\xef\xbb\xbf{\"id\":\"a\"}\n", "events.jsonl line 1: starts with a byte order mark"},
		{"{\"id\":\"a\"}\n{\"id\":\"b\xff\"}\n", "events.jsonl line 2: is not valid UTF-8 (at byte 9 of the line)"},
	} {
		_, err := eventfile.Read(strings.NewReader(tc.in), "events.jsonl", "id")
		if !errors.Is(err, eventfile.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%q) = %v, want ErrMalformed with %q", tc.in, err, tc.want)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	_, err := eventfile.Open(filepath.Join(t.TempDir(), "missing.jsonl"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Fatalf("Open(missing) = %v, want a not-exist error naming the file", err)
	}
	p := filepath.Join(t.TempDir(), "ok.jsonl")
	if err := os.WriteFile(p, []byte("{\"id\":\"x\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := eventfile.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := eventfile.Read(f, p, "id")
	if err != nil || len(events) != 1 || events[0].ID != "x" {
		t.Fatalf("Read = %v, %v", events, err)
	}
}

func TestReadFindsTheIDLikeEncodingJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"id":"first","id":"last"}`:                       "last",
		`{"i\u0064":"escaped key"}`:                        "escaped key",
		`{"n":[1,{"id":"nested"}],"s":"\"}\\","id":"top"}`: "top",
		`{"id":"\u00e9t\u00e9"}`:                           "été",
		`{ "x" : -1.5e3 , "id" : "spaced" , "z" : null }`:  "spaced",
		`{"x":{"id":"nested only"}}`:                       "",
		`{"ID":"case matters"}`:                            "",
	} {
		events, err := eventfile.Read(strings.NewReader(in), "in", "id")
		if err != nil || len(events) != 1 || events[0].ID != want {
			t.Errorf("Read(%s) = %v, %v; want one event of ID %q", in, events, err, want)
		}
	}
}

func TestScan(t *testing.T) {
	t.Parallel()
	in := "{\"id\":\"a\"}\n\n{\"id\":\"b\"}\n{\"id\":\n{\"id\":\"d\"}\n"
	var ids []string
	var last error
	for e, err := range eventfile.Scan(strings.NewReader(in), "in", "id") {
		if last != nil {
			t.Fatalf("Scan yielded %q after the error %v", e.ID, last)
		}
		if err != nil {
			last = err
			continue
		}
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "a,b" || !errors.Is(last, eventfile.ErrMalformed) || !strings.Contains(last.Error(), "in line 4:") {
		t.Fatalf("Scan yielded %v then %v; want a,b then ErrMalformed naming line 4", ids, last)
	}
	// Each payload is the event's own: the next line does not overwrite it.
	var payloads []string
	for e, err := range eventfile.Scan(strings.NewReader("[1]\n[2]\n"), "in", "") {
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, string(e.Payload))
	}
	if strings.Join(payloads, " ") != "[1] [2]" {
		t.Fatalf("payloads %q, want [1] [2]", payloads)
	}
}

// failAfter reads its data, then fails the test if read again.
type failAfter struct {
	t    *testing.T
	data *strings.Reader
}

func (r failAfter) Read(p []byte) (int, error) {
	if r.data.Len() == 0 {
		r.t.Error("Scan read on after the loop broke")
		return 0, errors.New("read after break")
	}
	return r.data.Read(p)
}

func TestScanStopsAtBreak(t *testing.T) {
	t.Parallel()
	n := 0
	for e, err := range eventfile.Scan(failAfter{t, strings.NewReader("{\"id\":\"a\"}\n{\"id\":\"b\"}\n")}, "in", "id") {
		if err != nil || e.ID != "a" {
			t.Fatalf("first pair %q %v, want event a", e.ID, err)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatalf("%d events before the break, want 1", n)
	}
}

func TestScanReportsReadErrors(t *testing.T) {
	t.Parallel()
	broken := errors.New("disk on fire")
	var got []error
	for _, err := range eventfile.Scan(io.MultiReader(strings.NewReader("[1]\n[2]\n"), iotest.ErrReader(broken)), "in", "") {
		got = append(got, err)
	}
	if len(got) != 3 || got[0] != nil || got[1] != nil || !errors.Is(got[2], broken) || !strings.Contains(got[2].Error(), "read in at line 3") {
		t.Fatalf("Scan yielded errors %v; want two events then the read error at line 3", got)
	}
}
