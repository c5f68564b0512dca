package progress

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Style says how progress is shown.
type Style int

// The styles.
const (
	// None shows nothing.
	None Style = iota
	// Bar redraws one line in place (a terminal): the phase, the counts,
	// the rate and the ETA, and a bar once the total is known.
	Bar
	// Lines writes plain lines, without '\r': one when the phase changes,
	// one every Options.Every while it does not, and the last one (logs,
	// pipes, CI).
	Lines
	// JSONLines writes one status JSON line per poll (Follow only).
	JSONLines
)

// DefaultEvery is how often the Lines style writes a line while the phase
// does not change.
const DefaultEvery = 10 * time.Second

// MinWidth is the narrowest line a display assumes: a terminal narrower
// than this still gets lines of MinWidth columns.
const MinWidth = 80

// Auto returns the style for w: Bar on a terminal, Lines otherwise.
func Auto(w io.Writer) Style {
	if isTerminal(w) {
		return Bar
	}
	return Lines
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Width returns the number of columns of w: its width when it is a
// terminal wider than MinWidth, MinWidth otherwise.
func Width(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > MinWidth {
			return cols
		}
	}
	return MinWidth
}

// Fit cuts s to at most width columns (runes), ending it with "…" when cut.
func Fit(s string, width int) string {
	if width < 1 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// Display shows one task's progress on a writer, in a Style: a line
// redrawn in place, or plain lines. Each Show gives the current text (the
// phase and the numbers, made by the caller) and, when known, the count and
// total for the bar; SetNotes gives what the task waits for besides. It is
// not safe for concurrent use.
//
// The text comes first: on a terminal (Bar) each Show writes exactly one
// frame, the text and then a bar when the text leaves it room (the bar's
// percentage is the text's own), or the text alone, and the notes go on
// lines of their own, so that a narrow terminal cuts neither.
type Display struct {
	out   io.Writer
	style Style
	width int
	every time.Duration

	noBar   bool      // a text once left no room for the bar (Bar)
	notes   []string  // what the task waits for, from SetNotes
	last    time.Time // when the last line was written (Lines)
	written string    // the last line written (Lines)
	phase   string
}

// DisplayOptions configures a Display.
type DisplayOptions struct {
	// Out receives the display. Required unless Style is None.
	Out io.Writer
	// Style is Bar, Lines or None (JSONLines shows nothing here).
	Style Style
	// Width is the width of a line in columns. Default Width(Out).
	Width int
	// Every is how often Lines writes a line while the phase does not
	// change. Default DefaultEvery.
	Every time.Duration
}

// NewDisplay returns a Display.
func NewDisplay(opts DisplayOptions) *Display {
	d := &Display{out: opts.Out, style: opts.Style, width: opts.Width, every: opts.Every}
	if d.out == nil {
		d.style = None
	}
	if d.width <= 0 && d.out != nil {
		d.width = Width(d.out)
	}
	if d.every <= 0 {
		d.every = DefaultEvery
	}
	return d
}

// The bar beside the text: barCols is what it adds besides its own
// columns (a space, the percentage in 5 columns, " |" and "|"), which are
// minBar to maxBar.
const (
	barCols = 9
	minBar  = 10
	maxBar  = 40
)

// SetNotes sets what the task waits for besides its numbers (no worker
// serves its kind, say); nil or empty: nothing. The Bar style writes each
// note on a line of its own, once, when the notes change; the Lines style
// adds them, in parentheses, to every line it writes.
func (d *Display) SetNotes(notes []string) {
	if slices.Equal(notes, d.notes) {
		return
	}
	d.notes = slices.Clone(notes)
	if d.style != Bar {
		return
	}
	for _, n := range notes {
		// A line of its own, left on the screen: it may be as long as it
		// is (the terminal wraps it), and the redrawn line starts below.
		fmt.Fprint(d.out, "\r"+padTo(n, d.width-1)+"\n")
	}
}

// withNotes is the Lines style's line: text cut to the width, then the
// notes in parentheses, whole (what the task waits for is never cut).
func (d *Display) withNotes(text string) string {
	text = Fit(text, d.width)
	if len(d.notes) == 0 {
		return text
	}
	return text + " (" + strings.Join(d.notes, "; ") + ")"
}

// Show shows text at now; phase names the stage (a change of phase always
// writes a line in the Lines style); count and total feed the bar (total
// <= 0: unknown, no bar yet).
func (d *Display) Show(now time.Time, phase, text string, count, total int64) {
	switch d.style {
	case Bar:
		d.redraw(d.frame(text, count, total))
	case Lines:
		if phase != d.phase || now.Sub(d.last) >= d.every {
			d.line(now, phase, d.withNotes(text))
		}
	}
	d.phase = phase
}

// line writes one plain line (withNotes made it).
func (d *Display) line(now time.Time, phase, text string) {
	fmt.Fprintln(d.out, text)
	d.last, d.phase, d.written = now, phase, text
}

// redraw writes frame over the line being redrawn, padded so that it hides
// the end of a longer frame before it.
func (d *Display) redraw(frame string) {
	fmt.Fprint(d.out, "\r"+padTo(frame, d.width-1))
}

// frame is what the Bar style shows for text: text and a bar of count out
// of total when the total is known and the text leaves the bar minBar
// columns; otherwise the text alone, cut to the width only if it is wider
// than the whole line. Once a text left no room for the bar, the bar stays
// off, so that it does not come and go as the numbers change length.
func (d *Display) frame(text string, count, total int64) string {
	room := d.width - 1 - barCols - utf8.RuneCountInString(text)
	if total <= 0 || d.noBar || room < minBar {
		d.noBar = d.noBar || total > 0
		return Fit(text, d.width-1)
	}
	return barLine(text, percent(min(count, total), total), min(room, maxBar))
}

// barScale is the bar's maximum: a percentage in hundredths.
const barScale = 100 * 100

// barLine renders text followed by a bar of width columns at pct percent,
// with progressbar, into a buffer: one frame. The bar is given pct at the
// middle of that percent (pct*100+50 out of 10,000) so that its own
// percentage, which progressbar computes in floating point, is pct
// exactly: fed 29 out of 100, it would show 28%.
func barLine(text string, pct int64, width int) string {
	var buf strings.Builder
	bar := progressbar.NewOptions64(barScale,
		progressbar.OptionSetWriter(&buf),
		progressbar.OptionSetWidth(width),
		progressbar.OptionSetDescription(text+" "),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(0),
	)
	_ = bar.Set64(min(pct*100+50, barScale))
	_ = bar.RenderBlank() // Set64 draws nothing at 0%
	out := buf.String()
	return strings.TrimRight(out[strings.LastIndexByte(out, '\r')+1:], " ")
}

// padTo pads s with spaces to width columns, so a shorter line hides the
// end of a longer one redrawn before it.
func padTo(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// Close ends the display at now with its final text: the Lines style writes
// it unless it was the last line written; the Bar style writes it whole, in
// place of the redrawn line and without a bar (a job that ends failed or
// cancelled did not get to 100%), and ends the line.
func (d *Display) Close(now time.Time, phase, text string) {
	switch d.style {
	case Bar:
		fmt.Fprint(d.out, "\r"+padTo(text, d.width-1)+"\n")
	case Lines:
		if text = d.withNotes(text); d.last.IsZero() || text != d.written {
			d.line(now, phase, text)
		}
	}
}
