package main

import (
	"bytes"
	"context"
	"encoding/json"
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
