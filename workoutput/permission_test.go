package workoutput_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/cache"
	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

// TestRefusalsNameTheirCause: a Redis user whose ACL does not cover the
// namespace's keys gets ErrPermission naming NOPERM, at once, from a read
// in a transaction (Status: Redis aborts the whole MULTI/EXEC and answers
// EXECABORT, which named no cause), a write (Open: it was taken for an
// outage and retried) and a replicated write; never ErrUnavailable.
func TestRefusalsNameTheirCause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.StartServer(t, redistest.ServerOptions{
		Users: []redistest.ACLUser{{Name: "elsewhere", Password: "elsewhere-secret", Rules: "~other:* &* +@all"}},
	})
	const ns = "refusal:"
	owner, err := workoutput.New(srv.Client(t), workoutput.Config{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	job, err := owner.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{IDs: []string{"a"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	o := srv.Options()
	o.Username, o.Password = "elsewhere", "elsewhere-secret"
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	for _, acks := range []int{0, 1} {
		s, err := workoutput.New(c, workoutput.Config{Namespace: ns, ReplicaAcks: acks})
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, workoutput.ErrPermission) || errors.Is(err, cache.ErrUnavailable) || !strings.Contains(err.Error(), "NOPERM") {
				t.Errorf("ReplicaAcks %d: %s = %v; want ErrPermission naming NOPERM, not an outage", acks, what, err)
			}
		}
		_, err = s.Status(ctx, job.ID)
		check("Status", err)
		_, err = s.Open(ctx, workoutput.Spec{Kind: "k"}, workoutput.Batch{Generated: 1}, true)
		check("Open", err)
	}
}
