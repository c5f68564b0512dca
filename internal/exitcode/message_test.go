package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/exitcode"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/internal/redisurl"
	"github.com/fanin-dev/fanin/jobs"
	"github.com/fanin-dev/fanin/workoutput"
)

// checkMessage checks the text Message gives err: exactly want, and no Go
// package prefix or configuration field name.
func checkMessage(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one reading %q", want)
	}
	got := exitcode.Message(err)
	if got != want {
		t.Errorf("Message(%q)\n = %q\nwant %q", err, got, want)
	}
	for _, bad := range []string{"workoutput:", "jobs:", "redisurl:", "execproc:", "Config.", "Spec."} {
		if strings.Contains(got, bad) {
			t.Errorf("Message(%q) = %q holds %q", err, got, bad)
		}
	}
}

// store returns a Store whose client never connects: the checks below make
// no Redis call.
func store(t *testing.T, cfg workoutput.Config) *workoutput.Store {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = client.Close() })
	s, err := workoutput.New(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMessageOversizeEventNamesTheFlag(t *testing.T) {
	t.Parallel()
	checkMessage(t, store(t, workoutput.Config{}).CheckEvent("big", make([]byte, 1<<20+1)),
		`too large: event "big" is 1048577 bytes (want at most 1048576, --max-event-size)`)
}

func TestMessageOversizeOutputNamesTheFlag(t *testing.T) {
	t.Parallel()
	checkMessage(t, store(t, workoutput.Config{MaxOutputSize: 10}).CheckOutput("e1", make([]byte, 11)),
		`too large: output of event "e1" is 11 bytes (want at most 10, --max-output-size)`)
}

func TestMessageTooManyEventsLeavesTheFieldOut(t *testing.T) {
	t.Parallel()
	_, err := store(t, workoutput.Config{MaxEvents: 2}).Open(context.Background(), workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 3}, true)
	checkMessage(t, err, `too large: 3 events (want at most 2 per job)`)
}

func TestMessageInvalidJobID(t *testing.T) {
	t.Parallel()
	checkMessage(t, workoutput.ValidateJobID("not-a-uuid"),
		`invalid input: job ID "not-a-uuid" is not a UUID (want the canonical lower-case 36-character form, like "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")`)
}

func TestMessageInvalidNamespace(t *testing.T) {
	t.Parallel()
	_, err := jobs.ParseDeployment("a b")
	checkMessage(t, err, `invalid input: namespace "a b": has ' ' (want letters, digits, '-', '_' and '.' in parts separated by ':', at most 64 characters, not "asynq" nor starting with "asynq:", like "acme" or "acme:prod" (a trailing ':' is optional))`)
}

func TestMessageReplicaWaitNamesTheFlag(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("jobs: 3 chunks of job j enqueued, but not replicated within 30s (ProducerConfig.ReplicaWait): %w", workoutput.ErrNotReplicated)
	checkMessage(t, err, `3 chunks of job j enqueued, but not replicated within 30s (--replica-wait): write not acknowledged by enough replicas`)
}

func TestMessageFieldWithoutAFlagReadsAsWords(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("%w: result of job j is 20 bytes (want at most 10, CoordinatorConfig.MaxResultSize)", jobs.ErrResultTooLarge)
	checkMessage(t, err, `result too large: result of job j is 20 bytes (want at most 10)`)
	checkMessage(t, errors.New("workoutput: invalid input: Config.LockTTL is -1s"), `invalid input: lock TTL is -1s`)
}

func TestMessageWrappedPrefixesGo(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("collect task: %w", workoutput.ValidateJobID("x"))
	checkMessage(t, err, `collect task: invalid input: job ID "x" is not a UUID (want the canonical lower-case 36-character form, like "8f14e45f-ceea-467f-a0e6-5f1b5c8e6a3d")`)
}

// TestMessageWrongPassword: a refused password reads "authentication
// failed", not "unreachable", names the redacted URL and no password; the
// exit code is still 4.
func TestMessageWrongPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{Password: "s3cret-pw"})
	url := strings.Replace(srv.URL(), "redis://", "redis://:wrong-pw@", 1)
	client, target, err := redisurl.NewClient(url, redisurl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	err = redisurl.Ping(context.Background(), client, target)
	if !errors.Is(err, redisurl.ErrAuthFailed) || exitcode.Of(err) != exitcode.Unreachable {
		t.Fatalf("Ping = %v (exit %d); want ErrAuthFailed, exit 4", err, exitcode.Of(err))
	}
	msg := exitcode.Message(err)
	want := "authentication failed: Redis at " + target.Redacted + " (single) refused the user name or password of the URL: WRONGPASS"
	if !strings.HasPrefix(msg, want) || strings.Contains(msg, "unreachable") || strings.Contains(msg, "wrong-pw") {
		t.Fatalf("Message = %q; want it to start with %q, without the password", msg, want)
	}
}
