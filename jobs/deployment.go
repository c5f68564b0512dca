package jobs

import (
	"fmt"
	"slices"
	"strings"
)

// Deployment is one fanin deployment on a Redis: the names its producers,
// workers and coordinators must share, all derived from one namespace so
// that they cannot disagree:
//
//   - Namespace, the prefix of its keys (workoutput.Config.Namespace), which
//     also names its locks and its job index;
//   - EventsQueue, the Asynq queue of its event chunks
//     (ProducerConfig.Queue, the queue a worker serves,
//     CoordinatorConfig.EventsQueue);
//   - CollectQueue, the Asynq queue of its collect tasks
//     (ProducerConfig.CollectQueue, MuxConfig.CollectQueue,
//     CoordinatorConfig.Queue);
//   - Channel, the pub/sub channel of its completion announcements
//     (workoutput.Store.NotifyChannel).
//
// Asynq names its keys after queues only, so deployments that shared a
// queue would take each other's tasks; derived names never collide. The
// zero Deployment is the default one, namespace "fanin:", whose queues keep
// Asynq's and fanin's historical names ("default", "fanin-collect"). Build
// others with ParseDeployment.
type Deployment struct {
	// name is the namespace without its trailing colon; "" is the default.
	name string
}

// Limits of a namespace (see ParseDeployment).
const (
	// MaxNamespaceLen is the longest namespace ParseDeployment accepts,
	// not counting a trailing colon.
	MaxNamespaceLen = 64
	// namespaceRule says what ParseDeployment accepts, for its errors.
	namespaceRule = `want letters, digits, '-', '_' and '.' in parts separated by ':', at most 64 characters, ` +
		`not "asynq" nor starting with "asynq:", like "acme" or "acme:prod" (a trailing ':' is optional)`
	// defaultName is the name of the zero Deployment.
	defaultName = "fanin"
)

// ParseDeployment returns the deployment of namespace. "acme" and "acme:"
// are the same deployment, of key prefix "acme:"; "fanin" and "fanin:" are
// the zero Deployment. An empty or ill-formed namespace (spaces, glob or
// control characters, an empty part, "asynq" or a name starting with
// "asynq:", Asynq's own key prefix (the check is case-sensitive, like
// Redis keys: "ASYNQ" and "asynqx" are other names), more than
// MaxNamespaceLen characters) is an error wrapping ErrInvalid that says
// what is allowed.
func ParseDeployment(namespace string) (Deployment, error) {
	name := strings.TrimSuffix(namespace, ":")
	if err := checkName(name); err != nil {
		return Deployment{}, fmt.Errorf("%w: namespace %q: %s (%s)", ErrInvalid, namespace, err, namespaceRule)
	}
	if name == "asynq" || strings.HasPrefix(name, "asynq:") {
		return Deployment{}, fmt.Errorf("%w: namespace %q is Asynq's own key prefix (%s)", ErrInvalid, namespace, namespaceRule)
	}
	if len(name) > MaxNamespaceLen {
		return Deployment{}, fmt.Errorf("%w: namespace %q has %d characters (%s)", ErrInvalid, namespace, len(name), namespaceRule)
	}
	if name == defaultName {
		return Deployment{}, nil
	}
	return Deployment{name: name}, nil
}

// checkName checks a namespace without its trailing colon, or a queue
// name: parts of letters, digits, '-', '_' and '.', separated by ':'.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty")
	}
	for part := range strings.SplitSeq(name, ":") {
		if part == "" {
			return fmt.Errorf("has an empty part")
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				return fmt.Errorf("has %q", r)
			}
		}
	}
	return nil
}

// Namespace returns the deployment's key prefix, workoutput.Config.Namespace:
// the namespace with one trailing colon ("fanin:", "acme:").
func (d Deployment) Namespace() string { return d.base() + ":" }

// EventsQueue returns the deployment's queue of event chunks:
// DefaultQueue for the default deployment, "<name>:default" otherwise.
func (d Deployment) EventsQueue() string { return d.queue(DefaultQueue) }

// CollectQueue returns the deployment's queue of collect tasks:
// DefaultCollectQueue for the default deployment, "<name>:fanin-collect"
// otherwise.
func (d Deployment) CollectQueue() string { return d.queue(DefaultCollectQueue) }

// Channel returns the deployment's pub/sub channel of completion
// announcements, Namespace() + "completed": the NotifyChannel of a
// workoutput.Store of Namespace().
func (d Deployment) Channel() string { return d.Namespace() + "completed" }

// String returns the namespace, Namespace().
func (d Deployment) String() string { return d.Namespace() }

// base is the namespace without its trailing colon.
func (d Deployment) base() string {
	if d.name == "" {
		return defaultName
	}
	return d.name
}

// queue returns the deployment's queue of default name name.
func (d Deployment) queue(name string) string {
	if d.name == "" {
		return name
	}
	return d.name + ":" + name
}

// derivedForm reports whether q has the form of a queue name a deployment
// derives: DefaultQueue or DefaultCollectQueue, alone or as the last
// ':'-separated part. It also returns the role of such a name ("events" or
// "collect") and, when one deployment derives exactly q, that deployment.
func derivedForm(q string) (role string, owner Deployment, owned, ok bool) {
	prefix, last := "", q
	if i := strings.LastIndexByte(q, ':'); i >= 0 {
		prefix, last = q[:i], q[i+1:]
	}
	switch last {
	case DefaultQueue:
		role = "events"
	case DefaultCollectQueue:
		role = "collect"
	default:
		return "", Deployment{}, false, false
	}
	if prefix == "" {
		return role, Deployment{}, true, true
	}
	d, err := ParseDeployment(prefix)
	owned = err == nil && (d.EventsQueue() == q || d.CollectQueue() == q)
	return role, d, owned, true
}

// CheckQueues checks queue overrides against d before a role starts: the
// events queues (a producer's one, the queues a worker serves) and the
// collect queue of one process. Each must be a well-formed name (like a
// namespace); the collect queue must be none of the events queues, nor d's
// events queue, and no events queue may be d's collect queue: otherwise a
// coordinator could take event chunks, or a worker collect tasks. And an
// override of the form of a derived name ("default", "fanin-collect", or a
// name ending in ":default" or ":fanin-collect") must be d's own queue of
// its role: such names are reserved to the deployments that derive them,
// and sharing one, a deployment's workers or coordinators would take the
// other's tasks, whose jobs they cannot find. Its error wraps ErrInvalid.
func (d Deployment) CheckQueues(events []string, collect string) error {
	for _, q := range append(slices.Clip(events), collect) {
		if err := checkName(q); err != nil {
			return fmt.Errorf("%w: queue %q: %s (want letters, digits, '-', '_' and '.' in parts separated by ':')", ErrInvalid, q, err)
		}
	}
	switch {
	case slices.Contains(events, collect):
		return fmt.Errorf("%w: the collect queue %q is also an events queue (want distinct queues: a worker would take collect tasks, a coordinator event chunks)", ErrInvalid, collect)
	case collect == d.EventsQueue():
		return fmt.Errorf("%w: the collect queue %q is the events queue of namespace %s (want another: its coordinators would take the event chunks of its producers)", ErrInvalid, collect, d)
	case slices.Contains(events, d.CollectQueue()):
		return fmt.Errorf("%w: the events queue %q is the collect queue of namespace %s (want another: its coordinators would take these event chunks)", ErrInvalid, d.CollectQueue(), d)
	}
	for _, q := range events {
		if q != d.EventsQueue() {
			if err := d.foreign("events", q); err != nil {
				return err
			}
		}
	}
	if collect != d.CollectQueue() {
		return d.foreign("collect", collect)
	}
	return nil
}

// foreign refuses q, an override of d's queue of role ("events" or
// "collect"), when it has the form of a derived queue name.
func (d Deployment) foreign(role, q string) error {
	form, owner, owned, ok := derivedForm(q)
	if !ok {
		return nil
	}
	whose := fmt.Sprintf("has the form of a derived %s queue", form)
	if owned {
		whose = fmt.Sprintf("is the %s queue of namespace %s, another deployment", form, owner)
	}
	own := d.EventsQueue()
	if role == "collect" {
		own = d.CollectQueue()
	}
	return fmt.Errorf("%w: the %s queue %q %s (want namespace %s's own, %q, or a name whose last ':' part is neither %q nor %q: "+
		"names of that form are reserved to the deployments that derive them, whose workers or coordinators would take these tasks)",
		ErrInvalid, role, q, whose, d, own, DefaultQueue, DefaultCollectQueue)
}
