package eventfile

import (
	"bytes"
	"fmt"
	"io"
)

// LineTooLongError is the error of a line over the limit of a
// LineLimiter.
type LineTooLongError struct {
	Name string // the input, as Scan's name
	Line int    // the line's number, from 1
	Max  int    // the limit in bytes
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("%s line %d is over %d bytes (the largest event accepted, --max-event-size)", e.Name, e.Line, e.Max)
}

// LineLimiter reads from an io.Reader and fails with a *LineTooLongError
// as soon as a line (its end of line and any '\r' excepted) is over its
// limit, so that no line larger than an event is ever held in memory, also
// when the input never ends a line (/dev/zero, say). Once it has returned
// an error (its own, or one of its reader other than io.EOF), every later
// Read returns it again.
type LineLimiter struct {
	r    io.Reader
	name string
	max  int
	cur  int // bytes of the current line so far
	line int // lines before the current one
	err  error
}

// LimitLines returns a LineLimiter reading r whose lines are at most max
// bytes; name names r in its error.
func LimitLines(r io.Reader, name string, max int) *LineLimiter {
	return &LineLimiter{r: r, name: name, max: max}
}

// Read reads from the underlying reader, up to the end of the first line
// over the limit.
func (l *LineLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		seg := b
		if i >= 0 {
			seg = b[:i]
		}
		l.cur += len(seg) - bytes.Count(seg, []byte{'\r'})
		if l.cur > l.max {
			l.err = &LineTooLongError{Name: l.name, Line: l.line + 1, Max: l.max}
			return n - len(b), l.err
		}
		if i < 0 {
			break
		}
		l.cur = 0
		l.line++
		b = b[i+1:]
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}
