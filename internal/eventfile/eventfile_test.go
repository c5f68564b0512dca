package eventfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
