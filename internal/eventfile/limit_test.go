package eventfile

import (
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestLineLimiter: lines up to the limit pass whatever the reads' sizes
// (end of line and \r not counted); the first longer line fails.
func TestLineLimiter(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 50; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		var b strings.Builder
		long := -1
		for i := range 40 {
			n := rng.IntN(11)
			if rng.IntN(10) == 0 && long < 0 {
				n, long = 11+rng.IntN(5), i
			}
			b.WriteString(strings.Repeat("x", min(n, 10)))
			if n > 10 {
				b.WriteString(strings.Repeat("y", n-10))
			}
			if rng.IntN(2) == 0 {
				b.WriteString("\r")
			}
			b.WriteString("\n")
		}
		l := LimitLines(&oneByteOrMore{strings.NewReader(b.String()), rng}, "input", 10)
		got, err := io.ReadAll(l)
		var ll *LineTooLongError
		switch {
		case long < 0 && (err != nil || string(got) != b.String()):
			t.Fatalf("seed %d: %v, %d of %d bytes", seed, err, len(got), b.Len())
		case long >= 0 && (!errors.As(err, &ll) || ll.Line != long+1 || ll.Max != 10 || !sticky(l, err)):
			t.Fatalf("seed %d: line %d is long, err %v", seed, long+1, err)
		case long >= 0 && strings.Count(string(got), "\n") > long:
			t.Fatalf("seed %d: read past the long line %d", seed, long+1)
		}
	}
}

// sticky reports whether a further Read of l returns err again.
func sticky(l *LineLimiter, err error) bool {
	n, again := l.Read(make([]byte, 8))
	return n == 0 && again == err
}

// oneByteOrMore reads a random number of bytes at a time.
type oneByteOrMore struct {
	r   io.Reader
	rng *rand.Rand
}

func (o *oneByteOrMore) Read(p []byte) (int, error) {
	return o.r.Read(p[:min(len(p), 1+o.rng.IntN(17))])
}

// TestScanEndsAtALineTooLong: through a LineLimiter, Scan yields the events
// before a line over the limit, then the *LineTooLongError itself (not a
// malformed line), also when the input never ends a line.
func TestScanEndsAtALineTooLong(t *testing.T) {
	t.Parallel()
	in := "{\"id\":\"a\"}\n\n{\"id\":\"b\",\"p\":\"" + strings.Repeat("x", 40) + "\"}\n{\"id\":\"c\"}\n"
	for name, r := range map[string]io.Reader{
		"long line": strings.NewReader(in),
		"endless":   io.MultiReader(strings.NewReader("{\"id\":\"a\"}\n\n"), zeros{}),
	} {
		var ids []string
		var last error
		for e, err := range Scan(LimitLines(r, "in.jsonl", 32), "in.jsonl", "id") {
			if err != nil {
				last = err
				break
			}
			ids = append(ids, e.ID)
		}
		var ll *LineTooLongError
		if len(ids) != 1 || ids[0] != "a" || !errors.As(last, &ll) || errors.Is(last, ErrMalformed) ||
			last.Error() != "in.jsonl line 3 is over 32 bytes (the largest event accepted, --max-event-size)" {
			t.Errorf("%s: events %v, then %v; want a, then line 3 over 32 bytes", name, ids, last)
		}
	}
}

// TestScanReportsAReadErrorNotAMalformedLine: a line cut short by a read
// error is that error.
func TestScanReportsAReadErrorNotAMalformedLine(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("{\"id\":\"a\"}\n{\"id\":"), failing{boom})
	var ids []string
	var last error
	for e, err := range Scan(r, "in.jsonl", "id") {
		if err != nil {
			last = err
			break
		}
		ids = append(ids, e.ID)
	}
	if len(ids) != 1 || !errors.Is(last, boom) || errors.Is(last, ErrMalformed) || !strings.Contains(last.Error(), "in.jsonl at line 2") {
		t.Fatalf("events %v, then %v; want a, then the read error at line 2", ids, last)
	}
}

// zeros reads zero bytes for ever, as /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// failing fails every read with its error.
type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }
