package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/fanin-dev/fanin/workoutput"
)

// The served kinds: each worker and coordinator of a deployment announces,
// with a heartbeat in Redis, which kinds it serves, so that a producer can
// tell before submitting that nobody would handle or reduce a job, and
// status can tell why a job waits.

// Role is what a live process does for a deployment.
type Role string

// The roles.
const (
	// RoleWorker handles events (a Mux): its kinds have a handler.
	RoleWorker Role = "worker"
	// RoleCoordinator reduces jobs (a Coordinator): its kinds have a
	// reducer.
	RoleCoordinator Role = "coordinator"
)

// Member is one live process of a deployment, as its last heartbeat
// described it.
type Member struct {
	// ID identifies the process (NewMemberID): one per process run.
	ID string `json:"id"`
	// Role is worker or coordinator.
	Role Role `json:"role"`
	// Kinds are the kinds it handles (worker) or reduces (coordinator).
	Kinds []string `json:"kinds"`
	// Queues are the Asynq queues it serves (optional).
	Queues []string `json:"queues,omitempty"`
	// Host, PID and Version describe it for people (optional).
	Host    string `json:"host,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Version string `json:"version,omitempty"`
	// Started is when it started (optional).
	Started time.Time `json:"started,omitzero"`
	// Seen is the time of its last heartbeat, and Expires when that
	// heartbeat runs out (both by its own clock). Set by Beat.
	Seen    time.Time `json:"seen"`
	Expires time.Time `json:"expires"`
}

// NewMemberID returns a new random process ID for Member.ID.
func NewMemberID() string { return uuid.NewString() }

// Defaults of RegistryConfig.
const (
	// DefaultHeartbeat is how often a process announces itself.
	DefaultHeartbeat = 5 * time.Second
	// DefaultHeartbeatTTL is how long a heartbeat counts: three beats, so
	// that a process is seen as gone 10 to 15 s after it died, and clocks
	// may differ by a few seconds between hosts.
	DefaultHeartbeatTTL = 15 * time.Second
)

// RegistryConfig configures a Registry. Every zero field takes the default
// documented on it; a RegistryConfig is never modified.
type RegistryConfig struct {
	// Namespace is the deployment's key prefix, workoutput.Config.Namespace
	// (Deployment.Namespace). Default workoutput.DefaultNamespace.
	Namespace string
	// Interval is the period of Run's heartbeats. Default DefaultHeartbeat
	// (5 s).
	Interval time.Duration
	// TTL is how long a heartbeat counts; it must exceed Interval. Default
	// DefaultHeartbeatTTL (15 s).
	TTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Registry reads and writes the heartbeats of a deployment's live
// processes: one hash, <namespace>served, field = Member.ID, value = the
// Member as JSON. Each heartbeat (Beat) writes its Member with the time it
// expires (now + TTL) and renews the hash's own TTL, so the hash goes when
// no process beats any more. Members lists the heartbeats that have not
// expired and drops those long expired. It is safe for concurrent use.
type Registry struct {
	client redis.UniversalClient
	cfg    RegistryConfig
	key    string
}

// NewRegistry returns a Registry on client, which it does not close.
func NewRegistry(client redis.UniversalClient, cfg RegistryConfig) (*Registry, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: NewRegistry needs a redis client", ErrInvalid)
	}
	if cfg.Interval < 0 || cfg.TTL < 0 {
		return nil, fmt.Errorf("%w: RegistryConfig.Interval %v and TTL %v (want >= 0, 0 means the default)", ErrInvalid, cfg.Interval, cfg.TTL)
	}
	if strings.ContainsAny(cfg.Namespace, "{}") {
		return nil, fmt.Errorf("%w: RegistryConfig.Namespace %q contains '{' or '}'", ErrInvalid, cfg.Namespace)
	}
	cfg.Namespace = cmp.Or(cfg.Namespace, workoutput.DefaultNamespace)
	cfg.Interval = cmp.Or(cfg.Interval, DefaultHeartbeat)
	cfg.TTL = cmp.Or(cfg.TTL, DefaultHeartbeatTTL)
	if cfg.TTL <= cfg.Interval {
		return nil, fmt.Errorf("%w: RegistryConfig.TTL %v must exceed Interval %v (a heartbeat must outlive the time to the next)", ErrInvalid, cfg.TTL, cfg.Interval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registry{client: client, cfg: cfg, key: servedKey(cfg.Namespace)}, nil
}

// Beat announces m (its ID, role and kinds required) for the registry's TTL
// from now.
func (r *Registry) Beat(ctx context.Context, m Member) error {
	if m.ID == "" || (m.Role != RoleWorker && m.Role != RoleCoordinator) {
		return fmt.Errorf("%w: Member needs an ID and the role %q or %q (got %q, %q)", ErrInvalid, RoleWorker, RoleCoordinator, m.ID, m.Role)
	}
	now := r.cfg.Now()
	m.Seen, m.Expires = now.UTC(), now.Add(r.cfg.TTL).UTC()
	m.Kinds = slices.Sorted(slices.Values(m.Kinds))
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: encode member: %v", ErrInvalid, err)
	}
	cmds, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r.key, m.ID, b)
		p.PExpire(ctx, r.key, r.cfg.TTL)
		return nil
	})
	if err != nil {
		for _, c := range cmds { // EXECABORT names no cause; the refused command does (NOPERM, OOM)
			if c.Err() != nil && !redis.HasErrorPrefix(c.Err(), "EXECABORT") {
				err = c.Err()
				break
			}
		}
		return fmt.Errorf("jobs: heartbeat of %s %s: %w", m.Role, m.ID, err)
	}
	return nil
}

// Leave withdraws the heartbeat of the process id (a process that stops).
func (r *Registry) Leave(ctx context.Context, id string) error {
	if err := r.client.HDel(ctx, r.key, id).Err(); err != nil {
		return fmt.Errorf("jobs: withdraw heartbeat of %s: %w", id, err)
	}
	return nil
}

// Run beats for m at once and every Interval until ctx ends, then leaves.
// A failed beat is reported to onErr (when set) and tried again at the
// next interval: a process that cannot beat is seen as gone once its last
// heartbeat expires.
func (r *Registry) Run(ctx context.Context, m Member, onErr func(error)) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if err := r.Beat(ctx, m); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = r.Leave(lctx, m.ID)
			cancel()
			return
		case <-t.C:
		}
	}
}

// Members returns the live processes, whose heartbeat has not expired,
// ordered by role, host, PID and ID. Heartbeats expired for more than a
// TTL are removed on the way (a process that died without leaving).
func (r *Registry) Members(ctx context.Context) ([]Member, error) {
	all, err := r.client.HGetAll(ctx, r.key).Result()
	if err != nil {
		return nil, fmt.Errorf("jobs: read heartbeats: %w", err)
	}
	now := r.cfg.Now()
	var (
		live  []Member
		stale []string
	)
	for id, v := range all {
		var m Member
		if json.Unmarshal([]byte(v), &m) != nil || now.After(m.Expires.Add(r.cfg.TTL)) {
			stale = append(stale, id)
			continue
		}
		if !now.After(m.Expires) {
			live = append(live, m)
		}
	}
	if len(stale) > 0 {
		_ = r.client.HDel(ctx, r.key, stale...).Err()
	}
	slices.SortFunc(live, func(a, b Member) int {
		return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Host, b.Host), cmp.Compare(a.PID, b.PID), cmp.Compare(a.ID, b.ID))
	})
	return live, nil
}

// Gaps says what no live process of members does for a job of kind whose
// events are on queue ("": any queue): "no worker serves kind "k"" (or
// "no worker serves kind "k" on queue "q"" when some serve it elsewhere),
// and "no coordinator reduces kind "k"". None when the job is served.
func Gaps(members []Member, kind, queue string) []string {
	return gaps(members, kind, queue, true)
}

// JobGaps says what a job in st waits for that no live process of members
// does: a job accepting events (open, running) needs a worker and a
// coordinator, a complete or collecting job a coordinator, a finished job
// nothing.
func JobGaps(members []Member, st workoutput.Status) []string {
	switch st.State {
	case workoutput.StateOpen, workoutput.StateRunning:
		return gaps(members, st.Kind, "", true)
	case workoutput.StateComplete, workoutput.StateCollecting:
		return gaps(members, st.Kind, "", false)
	}
	return nil
}

// Waiting returns JobGaps of each job of sts, in order, from one read of
// the heartbeats: what the job waits for that no live process does (nil
// for a job that waits for nothing of the kind). `coordinator status`,
// list and inspect show it, and so does the HTTP API.
func (r *Registry) Waiting(ctx context.Context, sts ...workoutput.Status) ([][]string, error) {
	members, err := r.Members(ctx)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(sts))
	for i, st := range sts {
		out[i] = JobGaps(members, st)
	}
	return out, nil
}

func gaps(members []Member, kind, queue string, needWorker bool) []string {
	worker, workerHere, coordinator := serving(members, kind, queue)
	var out []string
	switch {
	case !needWorker:
	case !worker:
		out = append(out, fmt.Sprintf("no worker serves kind %q", kind))
	case !workerHere:
		out = append(out, fmt.Sprintf("no worker serves kind %q on queue %q", kind, queue))
	}
	if !coordinator {
		out = append(out, fmt.Sprintf("no coordinator reduces kind %q", kind))
	}
	return out
}

// serving reports whether a live process of members handles kind (worker),
// whether one does on queue ("": any queue; a worker that names no queues
// serves any) and whether one reduces it (coordinator).
func serving(members []Member, kind, queue string) (worker, workerHere, coordinator bool) {
	for _, m := range members {
		if !slices.Contains(m.Kinds, kind) {
			continue
		}
		switch m.Role {
		case RoleWorker:
			worker = true
			workerHere = workerHere || queue == "" || len(m.Queues) == 0 || slices.Contains(m.Queues, queue)
		case RoleCoordinator:
			coordinator = true
		}
	}
	return worker, workerHere, coordinator
}
