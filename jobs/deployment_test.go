package jobs

import (
	"errors"
	"strings"
	"testing"

	"github.com/fanin-dev/fanin/internal/redistest"
	"github.com/fanin-dev/fanin/workoutput"
)

func TestDeployment(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client
	for _, tc := range []struct {
		spellings                  []string
		namespace, events, collect string
	}{
		{[]string{"fanin", "fanin:"}, "fanin:", "default", "fanin-collect"},
		{[]string{"a", "a:"}, "a:", "a:default", "a:fanin-collect"},
		{[]string{"acme:prod", "acme:prod:"}, "acme:prod:", "acme:prod:default", "acme:prod:fanin-collect"},
		{[]string{"A-1_b.c", "A-1_b.c:"}, "A-1_b.c:", "A-1_b.c:default", "A-1_b.c:fanin-collect"},
		{[]string{"fanin-collect"}, "fanin-collect:", "fanin-collect:default", "fanin-collect:fanin-collect"},
		// Only "asynq" and "asynq:…" are Asynq's key prefix (namespaceRule).
		{[]string{"asynqx", "asynqx:"}, "asynqx:", "asynqx:default", "asynqx:fanin-collect"},
		{[]string{"ASYNQ"}, "ASYNQ:", "ASYNQ:default", "ASYNQ:fanin-collect"},
		{[]string{"x:asynq"}, "x:asynq:", "x:asynq:default", "x:asynq:fanin-collect"},
		{[]string{strings.Repeat("x", MaxNamespaceLen), strings.Repeat("x", MaxNamespaceLen) + ":"}, strings.Repeat("x", MaxNamespaceLen) + ":", strings.Repeat("x", MaxNamespaceLen) + ":default", strings.Repeat("x", MaxNamespaceLen) + ":fanin-collect"},
	} {
		first, err := ParseDeployment(tc.spellings[0])
		if err != nil {
			t.Fatalf("ParseDeployment(%q): %v", tc.spellings[0], err)
		}
		for _, s := range tc.spellings[1:] {
			if d, err := ParseDeployment(s); err != nil || d != first {
				t.Errorf("ParseDeployment(%q) = %v, %v; want the deployment of %q", s, d, err, tc.spellings[0])
			}
		}
		if first.Namespace() != tc.namespace || first.EventsQueue() != tc.events || first.CollectQueue() != tc.collect || first.String() != tc.namespace {
			t.Errorf("%q: namespace %q, events %q, collect %q; want %q, %q, %q", tc.spellings[0], first.Namespace(), first.EventsQueue(), first.CollectQueue(), tc.namespace, tc.events, tc.collect)
		}
		store := newStore(t, client, workoutput.Config{Namespace: first.Namespace()})
		if first.Channel() != store.NotifyChannel() || first.Channel() != tc.namespace+"completed" {
			t.Errorf("%q: channel %q, the store's %q", tc.spellings[0], first.Channel(), store.NotifyChannel())
		}
		if err := first.CheckQueues([]string{first.EventsQueue()}, first.CollectQueue()); err != nil {
			t.Errorf("%q: its own queues are refused: %v", tc.spellings[0], err)
		}
	}
	if (Deployment{}).Namespace() != workoutput.DefaultNamespace || (Deployment{}).EventsQueue() != DefaultQueue || (Deployment{}).CollectQueue() != DefaultCollectQueue {
		t.Errorf("the zero Deployment is %q, %q, %q; want the defaults", Deployment{}.Namespace(), Deployment{}.EventsQueue(), Deployment{}.CollectQueue())
	}
	if a, _ := ParseDeployment("a"); a == (Deployment{}) {
		t.Errorf("namespace a is the default deployment")
	}

	for _, ns := range []string{"", ":", "::", "a::", " ", " a", "a b", "a\nb", "a\tb", "*", "a*", "a?", "a[b]", "50%", "{a}", "a{b", "a:}",
		":a", "a::b", "asynq", "asynq:", "asynq:x", "é", "a/b", "a\\b", "a\"b", strings.Repeat("x", MaxNamespaceLen+1)} {
		d, err := ParseDeployment(ns)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "want letters, digits") || !strings.Contains(err.Error(), "namespace") ||
			!strings.Contains(err.Error(), `not "asynq" nor starting with "asynq:"`) {
			t.Errorf("ParseDeployment(%q) = %v, %v; want ErrInvalid saying what is allowed", ns, d, err)
		}
	}
}

func TestDeploymentCheckQueues(t *testing.T) {
	t.Parallel()
	a, err := ParseDeployment("a")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d       Deployment
		events  []string
		collect string
		want    string // "" accepts
	}{
		{Deployment{}, []string{"default"}, "fanin-collect", ""},
		{Deployment{}, []string{"high", "default"}, "fanin-collect", ""},
		{Deployment{}, []string{"jobs"}, "done", ""},
		{a, []string{"a:default"}, "a:fanin-collect", ""},
		{Deployment{}, []string{"jobs", "high"}, "fanin:done", ""},
		{a, []string{"a:jobs", "q.1"}, "a:c2", ""},
		{a, []string{"a:default", "default-x", "x-default"}, "a:fanin-collect-2", ""},
		// Names of the form of a derived queue belong to the deployment
		// that derives them (or to none): another's is refused, whichever
		// role it has there.
		{a, []string{"default"}, "a:fanin-collect", `the events queue "default" is the events queue of namespace fanin:, another deployment (want namespace a:'s own, "a:default", or a name whose last ':' part is neither "default" nor "fanin-collect"`},
		{a, []string{"fanin-collect"}, "a:fanin-collect", `the events queue "fanin-collect" is the collect queue of namespace fanin:, another deployment`},
		{a, []string{"a:default"}, "fanin-collect", `the collect queue "fanin-collect" is the collect queue of namespace fanin:, another deployment (want namespace a:'s own, "a:fanin-collect"`},
		{a, []string{"a:default"}, "default", `the collect queue "default" is the events queue of namespace fanin:`},
		{Deployment{}, []string{"x:default"}, "fanin-collect", `the events queue "x:default" is the events queue of namespace x:`},
		{Deployment{}, []string{"default", "x:fanin-collect"}, "fanin-collect", `"x:fanin-collect" is the collect queue of namespace x:`},
		{Deployment{}, []string{"default"}, "x:fanin-collect", `the collect queue "x:fanin-collect" is the collect queue of namespace x:`},
		{Deployment{}, []string{"default"}, "acme:prod:default", `the collect queue "acme:prod:default" is the events queue of namespace acme:prod:`},
		{a, []string{"b:default"}, "a:fanin-collect", `"b:default" is the events queue of namespace b:`},
		{a, []string{"a:default"}, "b:fanin-collect", `"b:fanin-collect" is the collect queue of namespace b:`},
		// The form alone is reserved, though no deployment derives it.
		{Deployment{}, []string{"fanin:default"}, "fanin-collect", `the events queue "fanin:default" has the form of a derived events queue`},
		{a, []string{"a:default"}, "asynq:fanin-collect", `"asynq:fanin-collect" has the form of a derived collect queue`},
		{a, []string{"a:default"}, "a:fanin-collect:fanin-collect", `"a:fanin-collect:fanin-collect" is the collect queue of namespace a:fanin-collect:`},
		{Deployment{}, []string{"fanin-collect"}, "fanin-collect", "also an events queue"},
		{Deployment{}, []string{"default"}, "default", "also an events queue"},
		{Deployment{}, []string{"jobs"}, "default", "is the events queue of namespace fanin:"},
		{a, []string{"x"}, "a:default", "is the events queue of namespace a:"},
		{Deployment{}, []string{"fanin-collect"}, "c2", `events queue "fanin-collect" is the collect queue`},
		{a, []string{"a:fanin-collect", "x"}, "y", `events queue "a:fanin-collect" is the collect queue`},
		{Deployment{}, []string{""}, "fanin-collect", `queue "": empty`},
		{Deployment{}, []string{"default"}, "", `queue "": empty`},
		{Deployment{}, []string{"a b"}, "fanin-collect", `queue "a b": has ' '`},
		{Deployment{}, []string{"default"}, "c*", `queue "c*": has '*'`},
	} {
		err := tc.d.CheckQueues(tc.events, tc.collect)
		if tc.want == "" && err != nil || tc.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v.CheckQueues(%q, %q) = %v; want %q", tc.d, tc.events, tc.collect, err, tc.want)
		}
	}
}
