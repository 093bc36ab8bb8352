package cluster

import (
	"maps"
	"slices"
	"testing"

	"github.com/hashicorp/memberlist"
)

// TestDelegateTracksLiveMembers: the copies members() plans with follow
// memberlist's join, update and leave events.
func TestDelegateTracksLiveMembers(t *testing.T) {
	d := &delegate{changed: make(chan struct{}, 1), departed: map[string]*memberlist.Node{}}
	live := func() map[string]string {
		out := map[string]string{}
		for _, n := range d.liveNodes() {
			out[n.Name] = string(n.Meta)
		}
		return out
	}
	departed := func() []string {
		var out []string
		for _, n := range d.departedNodes() {
			out = append(out, n.Name)
		}
		slices.Sort(out)
		return out
	}
	a, b := &memberlist.Node{Name: "a", Meta: []byte("a1")}, &memberlist.Node{Name: "b", Meta: []byte("b1")}
	d.NotifyJoin(a)
	d.NotifyJoin(b)
	if got := live(); !maps.Equal(got, map[string]string{"a": "a1", "b": "b1"}) {
		t.Fatalf("after two joins: %v", got)
	}
	// memberlist replaces the Meta of its node in place (under its lock)
	// and reports it: the copy follows the event, not the pointer.
	b.Meta = []byte("b2")
	if got := live()["b"]; got != "b1" {
		t.Fatalf("the copy changed without an event: %q", got)
	}
	d.NotifyUpdate(b)
	if got := live()["b"]; got != "b2" {
		t.Fatalf("after an update: %q", got)
	}
	d.NotifyLeave(a)
	if got := live(); !maps.Equal(got, map[string]string{"b": "b2"}) || !slices.Equal(departed(), []string{"a"}) {
		t.Fatalf("after a leaves: live %v, departed %v", got, departed())
	}
	// a restarts under its name.
	d.NotifyJoin(&memberlist.Node{Name: "a", Meta: []byte("a2")})
	if got := live(); !maps.Equal(got, map[string]string{"a": "a2", "b": "b2"}) || len(departed()) != 0 {
		t.Fatalf("after a rejoins: live %v, departed %v", got, departed())
	}
	select {
	case <-d.changed:
	default:
		t.Fatal("membership events did not signal a reconcile")
	}
}

// TestSoloDelegateAdmitsOnlyItself: a Solo node's memberlist delegates
// accept the node's own alive messages (its name and meta) and refuse any
// other node, and any merge that brings one.
func TestSoloDelegateAdmitsOnlyItself(t *testing.T) {
	s := soloDelegate{name: "local", meta: []byte("boot-1")}
	self := &memberlist.Node{Name: "local", Meta: []byte("boot-1")}
	for _, tc := range []struct {
		name string
		peer *memberlist.Node
		ok   bool
	}{
		{"itself", self, true},
		{"another node", &memberlist.Node{Name: "other", Meta: []byte("boot-2")}, false},
		{"another node under its name", &memberlist.Node{Name: "local", Meta: []byte("boot-2")}, false},
		{"its meta under another name", &memberlist.Node{Name: "other", Meta: []byte("boot-1")}, false},
	} {
		if err := s.NotifyAlive(tc.peer); (err == nil) != tc.ok {
			t.Errorf("%s: NotifyAlive = %v, want admitted %v", tc.name, err, tc.ok)
		}
	}
	if err := s.NotifyMerge([]*memberlist.Node{self}); err != nil {
		t.Errorf("merge of itself alone: %v", err)
	}
	if err := s.NotifyMerge([]*memberlist.Node{self, {Name: "other"}}); err == nil {
		t.Error("a merge that brings another node was accepted")
	}
}
