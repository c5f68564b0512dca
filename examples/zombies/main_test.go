package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/examples/zombies/sightings"
	"github.com/fanin-dev/fanin/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// TestDemoAgainstRealRedis runs the demo in-process against a real Redis:
// its JSON result is the direct fold of the generated sightings.
func TestDemoAgainstRealRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--redis", srv.URL(), "-n", "800", "--seed", "5", "--workers", "2", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	p := sightings.NewPredictor()
	for s := range sightings.GenerateSeq(5, 800) {
		a, err := sightings.Analyze(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Add(a); err != nil {
			t.Fatal(err)
		}
	}
	want, _ := json.Marshal(p.Result())
	if strings.TrimSpace(stdout.String()) != string(want) {
		t.Fatalf("demo result differs from the direct fold:\n%s\n%s", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "done: 800/800 events") {
		t.Fatalf("progress lacks the final line:\n%s", stderr.String())
	}
}

func TestGenerateWritesJSONLines(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"generate", "-n", "3", "--seed", "9"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	want := sightings.Generate(9, 3)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	for i, l := range lines {
		var s sightings.Sighting
		if err := json.Unmarshal([]byte(l), &s); err != nil || s != want[i] {
			t.Fatalf("line %d = %s (%v), want %+v", i+1, l, err, want[i])
		}
	}
	if code := run(context.Background(), []string{"generate", "-n", "-1"}, &stdout, &stderr); code != 2 {
		t.Fatalf("generate -n -1: exit %d, want 2", code)
	}
}

// TestGenerateOut: generate --out - is stdout (no file named "-"); --out
// FILE follows a symlink and keeps the mode of the file it replaces
// (internal/outfile); a missing directory exits 2 naming it; and the demo
// refuses such an --out before it runs.
func TestGenerateOut(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var want bytes.Buffer
	if code := run(context.Background(), []string{"generate", "-n", "5", "--seed", "3"}, &want, io.Discard); code != 0 {
		t.Fatalf("generate: exit %d", code)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"generate", "-n", "5", "--seed", "3", "--out", "-"}, &stdout, &stderr); code != 0 || stdout.String() != want.String() {
		t.Fatalf("generate --out -: exit %d, stdout %q, stderr %q; want the sightings on stdout", code, stdout.String(), stderr.String())
	}
	if _, err := os.Lstat(filepath.Join(dir, "-")); err == nil {
		t.Fatalf("generate --out - created a file named -")
	}

	target := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("events.jsonl", filepath.Join(dir, "link.jsonl")); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"generate", "-n", "5", "--seed", "3", "--out", "link.jsonl"}, &stdout, &stderr); code != 0 {
		t.Fatalf("generate --out link: exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(target)
	fi, _ := os.Stat(target)
	if err != nil || string(got) != want.String() || fi.Mode().Perm() != 0o640 {
		t.Fatalf("generate --out link: target %q (%v), mode %v; want the sightings, mode 0640", got, err, fi.Mode())
	}
	if li, err := os.Lstat(filepath.Join(dir, "link.jsonl")); err != nil || li.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("generate --out link replaced the link: %v %v", li.Mode(), err)
	}

	for _, args := range [][]string{
		{"generate", "-n", "5", "--out", "nodir/x.jsonl"},
		{"-n", "5", "--out", "nodir/x.json"}, // the demo: refused before it starts
	} {
		stderr.Reset()
		code := run(context.Background(), args, io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "directory nodir does not exist") || strings.Contains(stderr.String(), ".tmp-") {
			t.Errorf("zombies %q: exit %d, stderr %q; want exit 2 naming the missing directory", args, code, stderr.String())
		}
		if strings.Contains(stderr.String(), "submitted") {
			t.Errorf("zombies %q ran the demo before refusing --out: %q", args, stderr.String())
		}
	}
}
