package sightings

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// digest is the SHA-256 of the JSON of v.
func digest(t *testing.T, v any) [32]byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestGenerateIsStable(t *testing.T) {
	t.Parallel()
	first := Generate(7, 1000)
	if a, b := digest(t, first), digest(t, Generate(7, 1000)); a != b {
		t.Fatal("Generate(7, 1000) gave different sightings on two calls")
	}
	if a, b := digest(t, first), digest(t, Generate(8, 1000)); a == b {
		t.Fatal("Generate(8, 1000) equals Generate(7, 1000), want the seed to matter")
	}
	// The sequence can be iterated again and stopped early.
	seq := GenerateSeq(7, 1000)
	var streamed []Sighting
	for s := range seq {
		streamed = append(streamed, s)
	}
	if !slices.Equal(streamed, first) {
		t.Fatal("GenerateSeq(7, 1000) differs from Generate(7, 1000)")
	}
	var head []Sighting
	for s := range seq {
		if len(head) == 10 {
			break
		}
		head = append(head, s)
	}
	if !slices.Equal(head, first[:10]) {
		t.Fatal("a second iteration of GenerateSeq did not start over")
	}
	// A longer run extends a shorter one.
	if !slices.Equal(Generate(7, 100), first[:100]) {
		t.Fatal("Generate(7, 100) is not a prefix of Generate(7, 1000)")
	}
	for _, n := range []int{0, -5} {
		if got := Generate(7, n); len(got) != 0 {
			t.Errorf("Generate(7, %d) = %d sightings, want none", n, len(got))
		}
	}
}

func TestGenerateIsValid(t *testing.T) {
	t.Parallel()
	start := GenerateStart()
	end := start.Add(GenerateWindow)
	ss := Generate(11, 5000)
	var big, crossed int
	for i, s := range ss {
		if err := s.Validate(); err != nil {
			t.Fatalf("generated sighting %d: %v", i, err)
		}
		if want := fmt.Sprintf("s%06d", i+1); s.ID != want {
			t.Fatalf("sighting %d has ID %q, want %q", i, s.ID, want)
		}
		if s.Time.Before(start) || !s.Time.Before(end) {
			t.Fatalf("sighting %s at %v, want in [%v, %v)", s.ID, s.Time, start, end)
		}
		if s.Count >= 50 {
			big++
		}
		if s.Lon < -179 { // the Suva outbreak spills over the antimeridian
			crossed++
		}
	}
	if big == 0 || crossed == 0 {
		t.Errorf("got %d big herds and %d sightings west of the antimeridian, want some of each", big, crossed)
	}
}
