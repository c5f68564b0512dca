package workoutput

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/internal/redistest"
)

// TestTransitionsAreTheScriptsTable checks the lifecycle's table against
// itself (every state reachable and known, the finished states left only by
// a replay or a retry) and against what the scripts see: the Lua table rendered from
// Transitions, read back on a real Redis, is the same table.
func TestTransitionsAreTheScriptsTable(t *testing.T) {
	t.Parallel()
	reached := map[State]bool{StateOpen: true} // Open creates jobs open
	for _, tr := range Transitions() {
		for _, s := range append(slices.Clone(tr.From), tr.To...) {
			if !slices.Contains(States(), s) {
				t.Errorf("transition %s names the unknown state %q", tr.Name, s)
			}
		}
		for _, s := range tr.To {
			reached[s] = true
		}
		for _, s := range tr.From {
			if s.Terminal() && tr.Name != "replay" && tr.Name != "retry" {
				t.Errorf("transition %s leaves the finished state %s", tr.Name, s)
			}
		}
	}
	for _, s := range States() {
		if !reached[s] {
			t.Errorf("state %s is reached by no transition", s)
		}
	}
	if name, ok := CanMove(StateRunning, StateComplete); !ok || name != "finish" {
		t.Errorf("CanMove(running, complete) = %q, %v; want finish", name, ok)
	}
	if _, ok := CanMove(StateCancelled, StateRunning); ok {
		t.Error("CanMove(cancelled, running) = true; want false")
	}
	if name, ok := CanMove(StateFailed, StateRunning); !ok || name != "retry" {
		t.Errorf("CanMove(failed, running) = %q, %v; want retry", name, ok)
	}
	if _, ok := CanMove(StateDone, StateRunning); ok {
		t.Error("CanMove(done, running) = true; want false: a done job has nothing to retry")
	}

	r := redistest.New(t)
	script := lifecycleLua() + "\nreturn cjson.encode(fanin_transitions)"
	out, err := r.Client.Eval(context.Background(), script, nil).Text()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]struct{ From, To map[string]bool }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != len(Transitions()) {
		t.Fatalf("the scripts see %d transitions; Transitions has %d", len(got), len(Transitions()))
	}
	for _, tr := range Transitions() {
		g := got[tr.Name]
		for _, s := range tr.From {
			if !g.From[string(s)] {
				t.Errorf("the scripts' transition %s does not start from %s", tr.Name, s)
			}
		}
		for _, s := range tr.To {
			if !g.To[string(s)] {
				t.Errorf("the scripts' transition %s does not lead to %s", tr.Name, s)
			}
		}
		if len(g.From) != len(tr.From) || len(g.To) != len(tr.To) {
			t.Errorf("the scripts' transition %s = %+v; want %+v", tr.Name, g, tr)
		}
	}
}

// TestScriptsShareTheAcceptingCheck: the scripts that check whether a job
// accepts events (write, note, stall, and open for a retried Open) call
// fanin_accepting of the lifecycle prelude rather than spelling the states
// out, are built with that prelude, and fanin_accepting answers as
// State.accepting for every state, and false for no job.
func TestScriptsShareTheAcceptingCheck(t *testing.T) {
	t.Parallel()
	sc := newScripts()
	life := lifecycleLua() + "\n"
	for _, s := range []struct {
		name   string
		src    string
		script *redis.Script
	}{{"write.lua", writeLua, sc.write}, {"note.lua", noteLua, sc.note}, {"stall.lua", stallLua, sc.stall}, {"open.lua", openLua, sc.open}} {
		if !strings.Contains(s.src, "fanin_accepting(") || strings.Contains(s.src, "~= 'complete'") {
			t.Errorf("%s does not check the accepting states with fanin_accepting", s.name)
		}
		if s.script.Hash() != redis.NewScript(life+s.src).Hash() {
			t.Errorf("%s is not built with the lifecycle prelude", s.name)
		}
	}

	r := redistest.New(t)
	script := life + "return fanin_accepting(ARGV[1] ~= '' and ARGV[1]) and 1 or 0"
	for _, s := range append(States(), "") {
		got, err := r.Client.Eval(context.Background(), script, nil, string(s)).Int()
		if err != nil {
			t.Fatal(err)
		}
		if want := s.accepting(); (got == 1) != want {
			t.Errorf("fanin_accepting(%q) = %d; want %v", s, got, want)
		}
	}

	// Stall, which no other test of the package runs, records its reason
	// for a running job only.
	ctx := context.Background()
	store, err := New(r.Client, Config{Namespace: r.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, cancel := range []bool{false, true} {
		job, err := store.Open(ctx, Spec{Kind: "k"}, Batch{Generated: 1}, true)
		if err != nil {
			t.Fatal(err)
		}
		if cancel {
			if err := store.Cancel(ctx, job.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.Stall(ctx, job.ID, "no handler"); err != nil {
			t.Fatalf("Stall (cancelled %v): %v", cancel, err)
		}
		st, err := store.Status(ctx, job.ID)
		if want := map[bool]string{false: "no handler"}[cancel]; err != nil || st.Stalled != want {
			t.Fatalf("Status of a %s job after Stall: Stalled %q, %v; want %q", st.State, st.Stalled, err, want)
		}
	}
}
