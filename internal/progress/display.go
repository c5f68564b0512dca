package progress

import (
	"fmt"
	"io"
	"os"
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

// Display shows one task's progress on a writer, in a Style: a bar redrawn
// in place, or plain lines. Each Show gives the current text (the phase and
// the numbers, made by the caller) and, when known, the count and total
// for the bar. It is not safe for concurrent use.
type Display struct {
	out   io.Writer
	style Style
	width int
	every time.Duration

	bar      *progressbar.ProgressBar
	barTotal int64
	last     time.Time // when the last line was written (Lines)
	written  string    // the last line written (Lines)
	phase    string
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

// barCols is what the bar adds to the text: " 100% |" + bar + "| ".
const barCols = 9

// Show shows text at now; phase names the stage (a change of phase always
// writes a line in the Lines style); count and total feed the bar (total
// <= 0: unknown, no bar yet).
func (d *Display) Show(now time.Time, phase, text string, count, total int64) {
	switch d.style {
	case Bar:
		d.showBar(phase, text, count, total)
	case Lines:
		if phase != d.phase || now.Sub(d.last) >= d.every {
			d.line(now, phase, text)
		}
	}
	d.phase = phase
}

// line writes one plain line.
func (d *Display) line(now time.Time, phase, text string) {
	fmt.Fprintln(d.out, Fit(text, d.width))
	d.last, d.phase, d.written = now, phase, text
}

// showBar redraws the bar line. The text is cut so that the line fits the
// width; the bar takes what is left, 10 to 40 columns, and appears once the
// total is known.
func (d *Display) showBar(phase, text string, count, total int64) {
	if total <= 0 {
		// No total yet: the text alone, redrawn in place.
		fmt.Fprint(d.out, "\r"+padTo(Fit(text, d.width-1), d.width-1))
		return
	}
	barWidth := min(max(d.width-1-barCols-utf8.RuneCountInString(text), 10), 40)
	text = Fit(text, d.width-1-barCols-barWidth)
	if d.bar == nil || d.barTotal != total {
		if d.bar == nil {
			fmt.Fprint(d.out, "\r"+strings.Repeat(" ", d.width-1)+"\r")
		}
		d.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(d.out),
			progressbar.OptionSetWidth(barWidth),
			progressbar.OptionSetDescription(text),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionThrottle(0),
		)
		d.barTotal = total
	}
	d.bar.Describe(text)
	_ = d.bar.Set64(min(count, total))
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
// it unless it was the last line written, the Bar style ends its line.
func (d *Display) Close(now time.Time, phase, text string) {
	switch d.style {
	case Bar:
		if d.bar != nil {
			d.bar.Describe(Fit(text, d.width-1-barCols-10))
			_ = d.bar.Finish()
		} else {
			fmt.Fprint(d.out, "\r"+padTo(Fit(text, d.width-1), d.width-1))
		}
		fmt.Fprintln(d.out)
	case Lines:
		if d.last.IsZero() || text != d.written {
			d.line(now, phase, text)
		}
	}
}
