package workoutput

import (
	"fmt"
	"slices"
	"strings"
)

// The lifecycle of a job: its states and every transition between them.
//
// This file is the one owner of the state machine. The Lua scripts do not
// spell out which state may follow which: they call fanin_move(meta, state,
// transition, to), defined by lua/lifecycle.lua over the table that
// lifecycleLua renders from Transitions, so a script can only make a move
// listed here, and checks it before it writes anything.
//
//	             Seal                  last event finished
//	  open ───────────────> running ───────────────────────> complete
//	   │  \                    │  \                              │  \
//	   │   Cancel              │   Cancel                      │   Cancel
//	   │     └─────────────────┴─────┴──────> cancelled <──────┘    │
//	   │ Claim past the deadline   │ Claim past the deadline        │ Claim
//	   └───────────────────────────┴──────────> collecting <────────┘
//	                                           │   ^   ^ Claim (takeover, after a lost lock)
//	                                   Commit  │   └───┘
//	                                           v
//	                              done | partial | failed ──Claim (replay)──> collecting
//	                                       partial | failed ──Retry──> running
//
// A job is open while its producer may still add events, and running once
// it is sealed (its total is final). Being sealed is part of the state: an
// open job claimed past its deadline was never sealed, and Commit refuses to
// call it done.

// State is the state of a job.
type State string

// The states of a job.
const (
	// StateOpen: the job accepts events (Add); it is not sealed, so it
	// cannot complete. Events added so far are already processed.
	StateOpen State = "open"
	// StateRunning: sealed (its total is final); events are being
	// processed.
	StateRunning State = "running"
	// StateComplete: sealed, and every event has an output or a failure;
	// waiting for the coordinator.
	StateComplete State = "complete"
	// StateCollecting: a coordinator has claimed the job and is gathering
	// its outputs; writes are ignored.
	StateCollecting State = "collecting"
	// StateDone: committed; every event has an output.
	StateDone State = "done"
	// StatePartial: committed with failed or missing events, under policy
	// PolicyContinue.
	StatePartial State = "partial"
	// StateFailed: committed as failed: failed or missing events under
	// PolicyFail, a job never sealed, a reducer that kept failing, or no
	// reducer for its kind by its deadline.
	StateFailed State = "failed"
	// StateCancelled: cancelled by a user; workers skip its events.
	StateCancelled State = "cancelled"
)

// States returns every state, in lifecycle order.
func States() []State {
	return []State{StateOpen, StateRunning, StateComplete, StateCollecting, StateDone, StatePartial, StateFailed, StateCancelled}
}

// Terminal reports whether s is a final state (done, partial, failed,
// cancelled). A done, partial or failed job may still be replayed.
func (s State) Terminal() bool {
	switch s {
	case StateDone, StatePartial, StateFailed, StateCancelled:
		return true
	}
	return false
}

// Committed reports whether s is a state Commit sets (done, partial,
// failed).
func (s State) Committed() bool {
	return s == StateDone || s == StatePartial || s == StateFailed
}

// accepting reports whether writes of event outcomes are recorded in state
// s. The scripts check it with fanin_accepting (lua/lifecycle.lua) over the
// states lifecycleLua renders from it: write.lua, note.lua, stall.lua, and
// open.lua for a retried Open.
func (s State) accepting() bool {
	return s == StateOpen || s == StateRunning || s == StateComplete
}

// Transition is a named move of the lifecycle.
type Transition struct {
	// Name names the move; the scripts refer to it.
	Name string
	// From are the states the move starts from.
	From []State
	// To are the states it may end in (one, except for commit).
	To []State
	// By says which operation makes it.
	By string
}

// Transitions returns every move of the lifecycle. Nothing else changes a
// job's state.
func Transitions() []Transition {
	return []Transition{
		{Name: "seal", From: []State{StateOpen}, To: []State{StateRunning}, By: "Store.Seal, or Store.Open with seal"},
		{Name: "finish", From: []State{StateRunning}, To: []State{StateComplete}, By: "the Write or Seal after which every event has an output or a failure"},
		{Name: "claim", From: []State{StateComplete}, To: []State{StateCollecting}, By: "Store.Claim"},
		{Name: "overdue", From: []State{StateOpen, StateRunning}, To: []State{StateCollecting}, By: "Store.Claim past the job's deadline"},
		{Name: "takeover", From: []State{StateCollecting}, To: []State{StateCollecting}, By: "Store.Claim with a newer token, after the previous coordinator lost its lock"},
		{Name: "replay", From: []State{StateDone, StatePartial, StateFailed}, To: []State{StateCollecting}, By: "Store.Claim in ClaimReplay mode, while the outputs are retained"},
		{Name: "commit", From: []State{StateCollecting}, To: []State{StateDone, StatePartial, StateFailed}, By: "Store.Commit by the claim's token"},
		{Name: "cancel", From: []State{StateOpen, StateRunning, StateComplete}, To: []State{StateCancelled}, By: "Store.Cancel"},
		{Name: "retry", From: []State{StateFailed, StatePartial}, To: []State{StateRunning}, By: "Store.Retry, while retained, when every failed or missing event has its payload kept"},
	}
}

// CanMove reports whether the lifecycle has a move from state from to state
// to, and names it.
func CanMove(from, to State) (name string, ok bool) {
	for _, t := range Transitions() {
		if slices.Contains(t.From, from) && slices.Contains(t.To, to) {
			return t.Name, true
		}
	}
	return "", false
}

// lifecycleLua renders Transitions as the Lua table fanin_transitions and
// the accepting states as the set fanin_accepting_states, followed by the
// functions of lua/lifecycle.lua that use them: the prelude of every script
// that changes a job.
func lifecycleLua() string {
	var b strings.Builder
	b.WriteString("local fanin_transitions = {\n")
	for _, t := range Transitions() {
		fmt.Fprintf(&b, "  [%q] = {from = {", t.Name)
		for _, s := range t.From {
			fmt.Fprintf(&b, "[%q] = true, ", string(s))
		}
		b.WriteString("}, to = {")
		for _, s := range t.To {
			fmt.Fprintf(&b, "[%q] = true, ", string(s))
		}
		b.WriteString("}},\n")
	}
	b.WriteString("}\n")
	b.WriteString("local fanin_accepting_states = {")
	for _, s := range States() {
		if s.accepting() {
			fmt.Fprintf(&b, "[%q] = true, ", string(s))
		}
	}
	b.WriteString("}\n")
	b.WriteString(lifecycleFuncsLua)
	return b.String()
}
