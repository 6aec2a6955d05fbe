package checker

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// The steps that follow a removeWatches on /p, each with the events a persistent and a
// persistent-recursive watch on /p fire with both halves, as ZooKeeper 3.8.0's DataTree
// triggers them: createNode fires NodeCreated in the data table at the path and
// NodeChildrenChanged in the child table at the parent; deleteNode NodeDeleted in the data
// table, then in the child table for the watchers not yet told, then NodeChildrenChanged at
// the parent; setData NodeDataChanged in the data table. WatchManager.triggerWatch walks the
// parents only for recursive entries, which take every type but NodeChildrenChanged.
var removeSteps = []struct {
	name                  string
	do                    Request
	persistent, recursive []string // what a whole watch of that mode fires
}{
	{"setData /p", setData("/p", "p1", -1), []string{"NodeDataChanged /p"}, []string{"NodeDataChanged /p"}},
	{"create /p/c", create("/p/c", ""), []string{"NodeChildrenChanged /p"}, []string{"NodeCreated /p/c"}},
	{"setData /p/c", setData("/p/c", "c1", -1), nil, []string{"NodeDataChanged /p/c"}},
	{"delete /p/c", del("/p/c", -1), []string{"NodeChildrenChanged /p"}, []string{"NodeDeleted /p/c"}},
	{"delete /p", del("/p", -1), []string{"NodeDeleted /p"}, []string{"NodeDeleted /p"}},
	{"create /p", create("/p", ""), []string{"NodeCreated /p"}, []string{"NodeCreated /p"}},
}

// halfEvents is what the half of a watch left in one table fires of a whole watch's
// events: the data table NodeCreated, NodeDataChanged and NodeDeleted, the child table
// NodeChildrenChanged and NodeDeleted.
func halfEvents(whole []string, left wire.WatcherType) []string {
	var out []string
	for _, e := range whole {
		var typ, path string
		fmt.Sscan(e, &typ, &path)
		switch {
		case left == wire.WatcherAny, typ == "NodeDeleted":
			out = append(out, e)
		case left == wire.WatcherData && (typ == "NodeCreated" || typ == "NodeDataChanged"):
			out = append(out, e)
		case left == wire.WatcherChildren && typ == "NodeChildrenChanged":
			out = append(out, e)
		}
	}
	return out
}

type removeCase struct {
	mode    wire.AddWatchMode
	removed wire.WatcherType
}

func (c removeCase) String() string {
	mode := map[wire.AddWatchMode]string{wire.AddWatchPersistent: "persistent", wire.AddWatchPersistentRecursive: "recursive"}[c.mode]
	typ := map[wire.WatcherType]string{wire.WatcherData: "Data", wire.WatcherChildren: "Children", wire.WatcherAny: "Any"}[c.removed]
	return mode + " watch, removeWatches " + typ
}

// want is, per step, what the watch fires once removeWatches(c.removed) took its half:
// removing Data leaves the child half, Children the data half, Any nothing.
func (c removeCase) want(step int) []string {
	whole := removeSteps[step].persistent
	if c.mode == wire.AddWatchPersistentRecursive {
		whole = removeSteps[step].recursive
	}
	switch c.removed {
	case wire.WatcherData:
		return halfEvents(whole, wire.WatcherChildren)
	case wire.WatcherChildren:
		return halfEvents(whole, wire.WatcherData)
	}
	return nil
}

// removeHistory: w watches /p in mode c.mode, removes c.removed, then m runs the steps;
// eventsAt[i] is the index in h.Events of the first of w's events after step i's.
func removeHistory(c removeCase) (f *fakeZK, w int64, eventsAt []int) {
	f = newFakeZK()
	m := f.connect(0)
	w = f.connect(1)
	f.do(m, create("/p", "p0"))
	f.do(w, addWatch("/p", c.mode))
	f.do(w, removeWatches("/p", c.removed))
	for _, s := range removeSteps {
		f.do(m, s.do)
		eventsAt = append(eventsAt, len(f.h.Events))
	}
	f.do(w, exists("/", false)) // a reply past every step
	return f, w, eventsAt
}

func eventNames(events []WatchEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, eventName(e.Type)+" "+e.Path)
	}
	return out
}

// TestRemoveWatchesOfPersistentWatchesFollowZooKeeper pins, for a persistent and a
// recursive watch and each watcher type, what removeWatches leaves: zab/tree (the fake's
// server) fires exactly what ZooKeeper 3.8.0 does (DataTree.removeWatch drops the session
// from the WatchManager of that type, mode and all, WatchManager.removeWatcher; Any from
// both), the checker accepts that history, and rejects it with any event of the removed
// half added (WatchOneShot) or any event of the remaining half dropped (WatchDelivered).
func TestRemoveWatchesOfPersistentWatchesFollowZooKeeper(t *testing.T) {
	for _, mode := range []wire.AddWatchMode{wire.AddWatchPersistent, wire.AddWatchPersistentRecursive} {
		for _, removed := range []wire.WatcherType{wire.WatcherData, wire.WatcherChildren, wire.WatcherAny} {
			c := removeCase{mode, removed}
			t.Run(c.String(), func(t *testing.T) {
				f, _, eventsAt := removeHistory(c)
				var want []string
				for i := range removeSteps {
					want = append(want, c.want(i)...)
				}
				require.Equal(t, want, eventNames(f.h.Events), "zab/tree's events after %v, ZooKeeper 3.8.0's in the table", c)
				requireOK(t, &f.h)

				for i := range f.h.Events {
					t.Run("drop "+eventNames(f.h.Events[i : i+1])[0], func(t *testing.T) {
						h := f.h.clone()
						h.Events = slices.Delete(h.Events, i, i+1)
						requireViolation(t, h, CheckWatchDelivered)
					})
				}
				template := WatchEvent{Client: 1, Session: f.h.Ops[1].Session, AfterXid: f.h.Ops[2].Xid,
					LastZxid: f.h.Ops[2].Zxid}
				for i, s := range removeSteps {
					whole := s.persistent
					if mode == wire.AddWatchPersistentRecursive {
						whole = s.recursive
					}
					for _, gone := range whole {
						if slices.Contains(c.want(i), gone) {
							continue
						}
						t.Run("add "+gone+" at "+s.name, func(t *testing.T) {
							h := f.h.clone()
							e := template
							var typ string
							fmt.Sscan(gone, &typ, &e.Path)
							e.Type = map[string]wire.EventType{"NodeCreated": wire.EventNodeCreated,
								"NodeDeleted": wire.EventNodeDeleted, "NodeDataChanged": wire.EventNodeDataChanged,
								"NodeChildrenChanged": wire.EventNodeChildrenChanged}[typ]
							h.Events = slices.Insert(h.Events, eventsAt[i], e)
							requireViolation(t, h, CheckWatchOneShot)
						})
					}
				}
			})
		}
	}
}

// A persistent watch halved by removeWatches(Data) or (Children) comes back whole after a
// reconnect: the Java client keeps it in its table (3.8.0 ZKWatchManager.removeWatcher
// drops persistent watches only for Any) and setWatches2 names it by path alone. One
// removed with Any is gone for good.
func TestHalvedPersistentWatchComesBackWholeAfterAReconnect(t *testing.T) {
	for _, removed := range []wire.WatcherType{wire.WatcherData, wire.WatcherChildren, wire.WatcherAny} {
		c := removeCase{wire.AddWatchPersistent, removed}
		t.Run(c.String(), func(t *testing.T) {
			f := newFakeZK()
			m, w := f.connect(0), f.connect(1)
			f.do(m, create("/p", "p0"))
			f.do(w, addWatch("/p", wire.AddWatchPersistent))
			f.do(w, removeWatches("/p", removed))
			f.reconnect(w)
			f.do(m, setData("/p", "p1", -1))
			f.do(m, create("/p/c", ""))
			f.do(w, exists("/", false))
			want := []string{"NodeDataChanged /p", "NodeChildrenChanged /p"}
			if removed == wire.WatcherAny {
				want = nil
			}
			require.Equal(t, want, eventNames(f.h.Events), "after the reconnect")
			requireOK(t, &f.h)
		})
	}
}
