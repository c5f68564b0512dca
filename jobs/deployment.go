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
		`not starting with "asynq", like "acme" or "acme:prod" (a trailing ':' is optional)`
	// defaultName is the name of the zero Deployment.
	defaultName = "fanin"
)

// ParseDeployment returns the deployment of namespace. "acme" and "acme:"
// are the same deployment, of key prefix "acme:"; "fanin" and "fanin:" are
// the zero Deployment. An empty or ill-formed namespace (spaces, glob or
// control characters, an empty part, Asynq's own "asynq" prefix, more than
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

// CheckQueues checks queue overrides against d before a role starts: the
// events queues (a producer's one, the queues a worker serves) and the
// collect queue of one process. Each must be a well-formed name (like a
// namespace); the collect queue must be none of the events queues, nor d's
// events queue, and no events queue may be d's collect queue: otherwise a
// coordinator could take event chunks, or a worker collect tasks. Its
// error wraps ErrInvalid.
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
	return nil
}
