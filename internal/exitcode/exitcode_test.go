package exitcode_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/outfile"
	"github.com/fanin-dev/fanin/internal/redisurl"
)

func TestOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, exitcode.OK},
		{errors.New("x"), exitcode.Failure},
		{exitcode.With(exitcode.JobFailed, errors.New("job failed")), exitcode.JobFailed},
		{fmt.Errorf("wrapped: %w", exitcode.With(exitcode.NotReady, errors.New("later"))), exitcode.NotReady},
		{fmt.Errorf("status: %w", cache.ErrUnavailable), exitcode.Unreachable},
		{fmt.Errorf("%w: refused", redisurl.ErrUnreachable), exitcode.Unreachable},
		{fmt.Errorf("%w: bad port", redisurl.ErrInvalid), exitcode.Usage},
		{fmt.Errorf("--out: %w: is a directory", outfile.ErrUnusable), exitcode.Usage},
		{fmt.Errorf("write x: %w", errors.New("no space left on device")), exitcode.Failure},
	} {
		if got := exitcode.Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	if exitcode.With(exitcode.Usage, nil) != nil {
		t.Error("With(code, nil) is not nil")
	}
}
