package jobs

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/fanin-dev/fanin/workoutput"
)

// The reference model of a job's lifecycle, for the model test
// (model_test.go): plain Go, written from the specification (the doc
// comments of workoutput.Store and docs/ARCHITECTURE.md), not from the Lua
// scripts. Each method says what the store must answer and does to the
// model what the store must do to Redis.

// errClass names the sentinel an answer's error wraps; "" is no error.
type errClass string

const (
	okClass          errClass = ""
	notFoundClass    errClass = "not found"
	existsClass      errClass = "exists"
	stateClass       errClass = "state"
	sealedClass      errClass = "sealed"
	dupClass         errClass = "duplicate"
	tooLargeClass    errClass = "too large"
	unknownClass     errClass = "unknown event"
	fencedClass      errClass = "fenced"
	invalidClass     errClass = "invalid"
	notRetainedClass errClass = "not retained"
	noReducerClass   errClass = "no reducer"
	notRetriable     errClass = "not retriable"
)

// modelJob is the model of one job.
type modelJob struct {
	id       string
	spec     workoutput.Spec // as opened, defaults applied by the harness
	openReq  openRequest     // the request that created it
	exists   bool
	state    workoutput.State
	sealed   bool
	deadline time.Time
	given    map[string]bool  // registered caller-given IDs
	seq      int64            // generated IDs reserved
	addKeys  map[string]int64 // Add idempotency key -> first sequence number
	outputs  map[string]bool
	failures map[string]bool
	total    int64 // once sealed
	by       string
	token    int64 // of the last claim
	from     workoutput.State
	fence    int64 // highest token that claimed
	issued   int64 // tokens the lock has issued for the job (its INCR counter)
	retained bool
	dataGone bool // deleted at once (NoRetention): a tombstone
	nout     int64
	score    int64 // index score, Unix ms; 0 when not indexed
	commits  map[int64]int
	// Retries: the payloads kept of failed events without an output, the
	// events with a failed attempt noted (Store.Note) and neither output
	// nor failure since, the event of the last attempt noted (Status.
	// LastError, until a retry), every retry's key and first answer, and
	// the time the job was first given (first deadline - creation).
	payloads  map[string]bool
	errs      map[string]bool
	lastErr   string
	retries   map[string]workoutput.Retried
	allowance time.Duration
}

// openRequest is one call of Store.Open.
type openRequest struct {
	spec  workoutput.Spec
	batch workoutput.Batch
	seal  bool
}

func (m *modelJob) n() int64 { return int64(len(m.given)) + m.seq }

// registered reports whether id is an event of the job.
func (m *modelJob) registered(id string) bool {
	if m.given[id] {
		return true
	}
	for i := range m.seq {
		if workoutput.GeneratedID(i) == id {
			return true
		}
	}
	return false
}

// finished counts the events with an output or a failure.
func (m *modelJob) finished() int64 { return int64(len(m.outputs) + len(m.failures)) }

// finish completes a running job whose events are all finished.
func (m *modelJob) finish(by string) bool {
	if m.state != workoutput.StateRunning || m.finished() < m.total {
		return false
	}
	m.state, m.by = workoutput.StateComplete, by
	return true
}

// model is the reference model of every job of a run.
type model struct {
	jobs       map[string]*modelJob
	maxEvents  int
	sweepDelay time.Duration
}

func newModel(maxEvents int) *model {
	return &model{jobs: map[string]*modelJob{}, maxEvents: maxEvents, sweepDelay: workoutput.DefaultSweepDelay}
}

// open models Store.Open at now: it returns whether the job was created
// complete.
func (md *model) open(req openRequest, now time.Time) (bool, errClass) {
	if req.batch.Len() > md.maxEvents {
		return false, tooLargeClass
	}
	m := md.jobs[req.spec.ID]
	if m != nil && m.exists {
		if m.score == 0 { // Open indexes the job unless it is indexed
			m.score = now.Add(req.spec.Deadline + md.sweepDelay).UnixMilli()
		}
		if !sameOpen(m.openReq, req) {
			return false, existsClass
		}
		if !m.state.Terminal() && m.state != workoutput.StateCollecting {
			return m.by == "open", okClass
		}
		return false, stateClass
	}
	m = &modelJob{
		id: req.spec.ID, spec: req.spec, openReq: req, exists: true, state: workoutput.StateOpen,
		deadline: now.Add(req.spec.Deadline), given: map[string]bool{}, addKeys: map[string]int64{},
		outputs: map[string]bool{}, failures: map[string]bool{}, seq: int64(req.batch.Generated),
		commits: map[int64]int{}, payloads: map[string]bool{}, errs: map[string]bool{}, retries: map[string]workoutput.Retried{},
		allowance: req.spec.Deadline,
	}
	for _, id := range req.batch.IDs {
		m.given[id] = true
	}
	m.score = m.deadline.Add(md.sweepDelay).UnixMilli()
	md.jobs[m.id] = m
	if !req.seal {
		return false, okClass
	}
	m.sealed, m.state, m.total = true, workoutput.StateRunning, m.n()
	return m.finish("open"), okClass
}

func sameOpen(a, b openRequest) bool {
	return a.spec == b.spec && a.seal == b.seal && a.batch.Generated == b.batch.Generated && slices.Equal(a.batch.IDs, b.batch.IDs)
}

// add models Store.Add.
func (md *model) add(id string, b workoutput.Batch) (int64, errClass) {
	if b.Len() > md.maxEvents {
		return 0, tooLargeClass
	}
	m := md.jobs[id]
	if m == nil || !m.exists {
		return 0, notFoundClass
	}
	if first, ok := m.addKeys[b.Key]; ok && b.Key != "" {
		return first, okClass
	}
	if m.sealed {
		return 0, sealedClass
	}
	if m.state != workoutput.StateOpen {
		return 0, stateClass
	}
	if int(m.n())+b.Len() > md.maxEvents {
		return 0, tooLargeClass
	}
	for _, e := range b.IDs {
		if m.given[e] {
			return 0, dupClass
		}
	}
	for _, e := range b.IDs {
		m.given[e] = true
	}
	first := m.seq
	m.seq += int64(b.Generated)
	if b.Key != "" {
		m.addKeys[b.Key] = first
	}
	return first, okClass
}

// seal models Store.Seal.
func (md *model) seal(id string) (bool, errClass) {
	m := md.jobs[id]
	if m == nil || !m.exists {
		return false, notFoundClass
	}
	if m.sealed {
		return m.by == "seal", okClass
	}
	if m.state != workoutput.StateOpen {
		return false, stateClass
	}
	m.sealed, m.state, m.total = true, workoutput.StateRunning, m.n()
	return m.finish("seal"), okClass
}

// write models Store.Write of rec.
func (md *model) write(id string, rec workoutput.Record) (workoutput.WriteResult, errClass) {
	m := md.jobs[id]
	if m == nil || !m.exists {
		return workoutput.WriteResult{}, notFoundClass
	}
	by := "w:" + rec.ID
	if m.state == workoutput.StateComplete && m.by == by {
		return workoutput.WriteResult{Completed: true}, okClass
	}
	switch m.state {
	case workoutput.StateOpen, workoutput.StateRunning, workoutput.StateComplete:
	default:
		return workoutput.WriteResult{Skipped: true}, okClass
	}
	for _, o := range rec.Outputs {
		if !m.registered(o.EventID) {
			return workoutput.WriteResult{}, unknownClass
		}
	}
	for _, f := range rec.Failures {
		if !m.registered(f.EventID) {
			return workoutput.WriteResult{}, unknownClass
		}
	}
	for _, o := range rec.Outputs {
		m.outputs[o.EventID] = true
		delete(m.failures, o.EventID)
		delete(m.payloads, o.EventID)
		delete(m.errs, o.EventID)
	}
	for _, f := range rec.Failures {
		if !m.outputs[f.EventID] {
			m.failures[f.EventID] = true
			delete(m.errs, f.EventID)
			if len(f.Payload) > 0 {
				m.payloads[f.EventID] = true
			}
		}
	}
	return workoutput.WriteResult{Completed: m.finish(by)}, okClass
}

// claim models Store.Claim at now with lease.
func (md *model) claim(id string, token int64, mode workoutput.ClaimMode, now time.Time, lease time.Duration) (workoutput.State, errClass) {
	m := md.jobs[id]
	if m != nil && m.exists {
		m.score = now.Add(lease).UnixMilli() // indexed before the claim
	}
	if m == nil || !m.exists {
		return "", notFoundClass
	}
	if m.state == workoutput.StateCollecting && m.token == token {
		return m.from, okClass
	}
	switch m.state {
	case workoutput.StateComplete, workoutput.StateCollecting:
	case workoutput.StateOpen, workoutput.StateRunning:
		if !now.After(m.deadline) {
			return "", stateClass
		}
	case workoutput.StateDone, workoutput.StatePartial, workoutput.StateFailed:
		if mode != workoutput.ClaimReplay {
			return "", stateClass
		}
		if !m.retained {
			return "", notRetainedClass
		}
	default:
		return "", stateClass
	}
	if token < m.fence {
		return "", fencedClass
	}
	from := m.state
	m.fence, m.token, m.from, m.state = token, token, from, workoutput.StateCollecting
	return from, okClass
}

// whole reports whether the job is sealed and every event has an output.
func (m *modelJob) whole() bool {
	return m.sealed && len(m.failures) == 0 && int64(len(m.outputs)) >= m.total
}

// commit models Store.Commit of c; retention is the job's (0 for
// NoRetention).
func (md *model) commit(c workoutput.Commit) (int64, errClass) {
	m := md.jobs[c.JobID]
	if m == nil || !m.exists {
		return 0, notFoundClass
	}
	if m.token == c.Token && m.state == c.State {
		m.score = 0 // a successful Commit drops the finished job from the index
		return m.nout, okClass
	}
	switch {
	case m.token == 0:
		return 0, stateClass
	case m.token != c.Token:
		return 0, fencedClass
	case m.state != workoutput.StateCollecting:
		return 0, stateClass
	case c.State == workoutput.StateDone && !m.whole(), c.State == workoutput.StatePartial && m.whole():
		return 0, invalidClass
	}
	retention := c.Retention
	if c.State == workoutput.StateFailed && retention == 0 {
		retention = time.Hour // Config.FailedRetention: anything but 0
	}
	m.state, m.nout = c.State, int64(len(m.outputs))
	m.commits[c.Token]++
	md.finishJob(m, retention > 0)
	return m.nout, okClass
}

// finishJob applies the retention of a committed or cancelled job.
func (md *model) finishJob(m *modelJob, retained bool) {
	m.retained, m.score = retained, 0
	if !retained {
		m.dataGone = true
		m.outputs, m.failures = map[string]bool{}, map[string]bool{} // meta (n, seq) stays
		m.addKeys = map[string]int64{}                               // the adds hash is data
		m.payloads, m.errs = map[string]bool{}, map[string]bool{}
	}
}

// cancel models Store.Cancel.
func (md *model) cancel(id string) errClass {
	m := md.jobs[id]
	if m == nil || !m.exists {
		return notFoundClass
	}
	switch m.state {
	case workoutput.StateCancelled:
		m.score = 0 // a successful Cancel drops the finished job from the index
		return okClass
	case workoutput.StateOpen, workoutput.StateRunning, workoutput.StateComplete:
		m.state = workoutput.StateCancelled
		md.finishJob(m, m.spec.Retention != workoutput.NoRetention)
		return okClass
	}
	return stateClass
}

// note models Store.Note of failed attempts of events. A job that does
// not accept events (or does not exist) is left alone; otherwise an event
// not registered rejects the whole call, as a write does (unknown event),
// and the attempts of events that have neither output nor failure are
// noted, the last of them becoming the job's last error.
func (md *model) note(id string, events []string) errClass {
	m := md.jobs[id]
	if m == nil || !m.exists || !(m.state == workoutput.StateOpen || m.state == workoutput.StateRunning || m.state == workoutput.StateComplete) {
		return okClass
	}
	for _, e := range events {
		if !m.registered(e) {
			return unknownClass
		}
	}
	for _, e := range events {
		if !m.outputs[e] && !m.failures[e] {
			m.errs[e] = true
			m.lastErr = e
		}
	}
	return okClass
}

// retry models Store.Retry at now with key: the events put back to work
// and the new deadline, or why not.
func (md *model) retry(id, key string, now time.Time) (workoutput.Retried, errClass) {
	m := md.jobs[id]
	if m == nil || !m.exists {
		return workoutput.Retried{}, notFoundClass
	}
	if first, ok := m.retries[key]; ok {
		first.Again = true // whatever retries came since
		return first, okClass
	}
	switch {
	case m.state != workoutput.StateFailed && m.state != workoutput.StatePartial:
		return workoutput.Retried{}, stateClass
	case !m.retained:
		return workoutput.Retried{}, notRetainedClass
	case !m.sealed:
		return workoutput.Retried{}, notRetriable
	}
	todo := m.total - int64(len(m.outputs))
	if todo <= 0 || int64(len(m.payloads)) < todo {
		return workoutput.Retried{}, notRetriable
	}
	// Indexed due at the new deadline, unless due sooner, then moved.
	m.deadline = time.UnixMilli(now.Add(m.allowance).UnixMilli())
	if score := m.deadline.Add(md.sweepDelay).UnixMilli(); m.score == 0 || score < m.score {
		m.score = score
	}
	m.state, m.by, m.retained, m.nout = workoutput.StateRunning, "", false, 0 // the last commit's counts go
	m.failures, m.errs, m.lastErr = map[string]bool{}, map[string]bool{}, ""
	m.retries[key] = workoutput.Retried{Events: todo, Deadline: m.deadline}
	return m.retries[key], okClass
}

// status is what Store.Status must report of the job: state, sealed,
// total, done, failed, retrying (none once the job no longer accepts
// events: collecting, committed, cancelled; the notes stay) and the event
// of its last error (none once committed).
func (m *modelJob) status() string {
	total := m.n()
	if m.sealed {
		total = m.total
	}
	done := int64(len(m.outputs))
	if m.dataGone {
		done = m.nout
	}
	retrying := len(m.errs)
	switch m.state {
	case workoutput.StateOpen, workoutput.StateRunning, workoutput.StateComplete:
	default:
		retrying = 0
	}
	lastErr := m.lastErr
	if m.state.Committed() {
		lastErr = ""
	}
	return fmt.Sprintf("state %s sealed %v total %d done %d failed %d retrying %d last error %q", m.state, m.sealed, total, done, len(m.failures), retrying, lastErr)
}

// collect models Coordinator.Collect (or Replay) at now by a coordinator
// whose reducers are reducible; its lock is free, so it gets the next token
// of the job. It returns the committed state and result.
func (md *model) collect(id string, replay bool, reducible func(kind string) bool, now time.Time, lease time.Duration) (workoutput.State, string, errClass) {
	m := md.jobs[id]
	if m == nil || !m.exists {
		if replay {
			return "", "", notRetainedClass
		}
		return "", "", notFoundClass
	}
	switch m.state {
	case workoutput.StateComplete, workoutput.StateCollecting:
	case workoutput.StateOpen, workoutput.StateRunning:
		if !now.After(m.deadline) {
			return "", "", stateClass
		}
	case workoutput.StateDone, workoutput.StatePartial, workoutput.StateFailed:
		if !replay {
			return "", "", stateClass
		}
	default:
		return "", "", stateClass
	}
	hasReducer := reducible(m.spec.Kind)
	if !hasReducer && !now.After(m.deadline) {
		return "", "", noReducerClass
	}
	m.issued++
	mode := workoutput.ClaimCollect
	if replay {
		mode = workoutput.ClaimReplay
	}
	if _, cls := md.claim(id, m.issued, mode, now, lease); cls != okClass {
		return "", "", cls
	}
	failed, missing := int64(len(m.failures)), max(m.n()-m.finished(), 0)
	if m.sealed {
		missing = max(m.total-m.finished(), 0)
	}
	partial := failed > 0 || missing > 0 || !m.sealed
	c := workoutput.Commit{JobID: id, Token: m.issued, Retention: m.spec.Retention}
	if c.Retention == workoutput.NoRetention {
		c.Retention = 0
	}
	var result string
	switch {
	case !hasReducer, partial && m.spec.FailurePolicy != workoutput.PolicyContinue:
		c.State = workoutput.StateFailed
	case partial:
		c.State = workoutput.StatePartial
	default:
		c.State = workoutput.StateDone
	}
	if c.State != workoutput.StateFailed {
		b, _ := json.Marshal(CountResult{Outputs: int64(len(m.outputs)), Failed: failed, Missing: missing})
		result = string(b)
	}
	if _, cls := md.commit(c); cls != okClass {
		return "", "", cls
	}
	return c.State, result, okClass
}

// sweep models Coordinator.Sweep at now: the jobs whose index entry is due
// are leased for LockTTL, then dropped (finished or gone), put back to
// their deadline (open or running, not yet overdue) or collected.
func (md *model) sweep(now time.Time, reducible func(kind string) bool, claimLease time.Duration) {
	ids := make([]string, 0, len(md.jobs))
	for id := range md.jobs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		m := md.jobs[id]
		if m.score == 0 || m.score > now.UnixMilli() {
			continue
		}
		m.score = now.Add(DefaultLockTTL).UnixMilli()
		switch {
		case !m.exists, m.state.Terminal():
			m.score = 0
		case m.state == workoutput.StateComplete, m.state == workoutput.StateCollecting, now.After(m.deadline):
			_, _, _ = md.collect(id, false, reducible, now, claimLease)
		default:
			m.score = m.deadline.Add(md.sweepDelay).UnixMilli()
		}
	}
}
