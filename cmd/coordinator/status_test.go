package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fanin-dev/fanin/workoutput"
)

// TestWriteStatusShowsALastErrorWithoutText: an attempt that failed with an
// empty error text is still shown as the last error (it was left out, as
// if no attempt had failed), and says it had no message.
func TestWriteStatusShowsALastErrorWithoutText(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		st   workoutput.Status
		want string
	}{
		{workoutput.Status{ID: "j", State: workoutput.StateRunning, Sealed: true, Total: 2, Retrying: 1,
			LastError: workoutput.Failure{EventID: "e1", Attempts: 2, Time: at}},
			"last error  event e1, attempt 2, 2026-12-02T03:04:05Z: (an error with no message)\n"},
		{workoutput.Status{ID: "j", State: workoutput.StateFailed, Sealed: true, Total: 2, Failed: 1,
			LastError: workoutput.Failure{EventID: "e2", Reason: "bad input", Attempts: 3, Time: at}},
			"last error  event e2, failed after 3 attempts, 2026-12-02T03:04:05Z: bad input\n"},
	} {
		var b strings.Builder
		if err := writeStatus(&b, tc.st, nil, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("status =\n%s\nwant the line %q", b.String(), tc.want)
		}
	}
	var b strings.Builder
	if err := writeStatus(&b, workoutput.Status{ID: "j", State: workoutput.StateRunning, Sealed: true, Total: 2}, nil, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "last error") {
		t.Errorf("status of a job without failed attempts =\n%s\nwant no last error", b.String())
	}
}

// TestInspectShowsFailuresWithoutText: inspect --missing and --failed say
// that an attempt failed with an empty error, instead of ending the line
// with a bare colon.
func TestInspectShowsFailuresWithoutText(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	r := inspection{
		Missing: []missingJSON{{ID: "e1", Attempts: 1, At: &at}},
		Failed:  []failureJSON{{ID: "e2", Attempts: 3, At: at}},
	}
	var b strings.Builder
	if err := r.write(&b, workoutput.Status{ID: "j", State: workoutput.StateRunning, Sealed: true, Total: 2, Failed: 1}, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  e1: 1 attempts failed, the last at 2026-12-02T03:04:05Z: (an error with no message) (retried)\n",
		"  e2 after 3 attempts at 2026-12-02T03:04:05Z: (an error with no message)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("inspect =\n%s\nwant the line %q", b.String(), want)
		}
	}
}
