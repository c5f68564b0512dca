package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// errSlowBody is the error of a request body that stalled or trickled
// (Config.BodyStall, Config.MinBodyRate): answered 408.
var errSlowBody = errors.New("request body too slow")

// slowBodyReader ends the reading of a request body that sends nothing
// for stall, or whose average rate is under minRate bytes per second once
// it has been read for stall: each Read moves the connection's read
// deadline stall ahead.
type slowBodyReader struct {
	r       io.Reader
	rc      *http.ResponseController
	stall   time.Duration
	minRate int64
	start   time.Time // of the first Read
	read    int64
	err     error // sticky: a slow body is not read again
}

func newSlowBodyReader(w http.ResponseWriter, r io.Reader, stall time.Duration, minRate int64) *slowBodyReader {
	return &slowBodyReader{r: r, rc: http.NewResponseController(w), stall: stall, minRate: minRate}
}

func (s *slowBodyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.start.IsZero() { // the clock starts at the first read, not while the request waits its turn
		s.start = time.Now()
	}
	_ = s.rc.SetReadDeadline(time.Now().Add(s.stall)) // not every connection can: then no stall check
	n, err := s.r.Read(p)
	s.read += int64(n)
	switch elapsed := time.Since(s.start); {
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.err = fmt.Errorf("%w: nothing arrived for %v (the server's limit; send the body without pausing)", errSlowBody, s.stall)
	case err == nil && elapsed > s.stall && float64(s.read) < float64(s.minRate)*elapsed.Seconds():
		s.err = fmt.Errorf("%w: %d bytes in %v, under %d bytes/s (the server's limit)", errSlowBody, s.read, elapsed.Round(time.Millisecond), s.minRate)
	case err == io.EOF:
		// The body is read: no deadline is left to cut the connection's
		// background read while the submission goes on.
		_ = s.rc.SetReadDeadline(time.Time{})
		return n, err
	default:
		return n, err
	}
	return n, s.err
}
