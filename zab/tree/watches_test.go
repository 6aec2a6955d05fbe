package tree

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

func note(session int64, typ wire.EventType, path string) Notification {
	return Notification{SessionID: session, Event: wire.WatcherEvent{Type: typ, State: wire.StateSyncConnected, Path: path}}
}

// watchFixture: sessions 1..4, nodes /a and /a/b.
func watchFixture(t *testing.T) (*harness, *Watches) {
	h := newHarness(t, Config{})
	for id := int64(1); id <= 4; id++ {
		h.openSession(id)
	}
	h.mustCreate(1, "/a", wire.ModePersistent)
	h.mustCreate(1, "/a/b", wire.ModePersistent)
	return h, NewWatches()
}

func fire(h *harness, w *Watches, got Applied) []Notification {
	return w.Fire(got.Events, func(int64) []wire.Id { return nil })
}

func TestWatchTriggers(t *testing.T) {
	h, w := watchFixture(t)
	w.AddData(1, "/a/b")  // data watch
	w.AddData(2, "/a/c")  // exist watch on a missing node
	w.AddChild(3, "/a")   // child watch on the parent
	w.AddChild(4, "/a/b") // child watch on the node itself

	// create /a/c: NodeCreated to the exist watch, NodeChildrenChanged to /a's child watch.
	got := fire(h, w, h.create(1, "/a/c", nil, wire.ModePersistent))
	assert.Equal(t, []Notification{note(2, wire.EventNodeCreated, "/a/c"), note(3, wire.EventNodeChildrenChanged, "/a")}, got)

	// One-shot: the next create under /a fires nothing for session 3.
	got = fire(h, w, h.create(1, "/a/d", nil, wire.ModePersistent))
	assert.Empty(t, got, "standard watches are one-shot")

	// setData /a/b: NodeDataChanged to the data watch only.
	got = fire(h, w, h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a/b", Version: -1}))
	assert.Equal(t, []Notification{note(1, wire.EventNodeDataChanged, "/a/b")}, got)

	// delete /a/b: NodeDeleted via the child table too, NodeChildrenChanged on /a.
	w.AddData(1, "/a/b")
	w.AddChild(1, "/a/b") // same session in both tables: told once
	w.AddChild(3, "/a")
	got = fire(h, w, h.write(1, nil, wire.OpDelete, &wire.DeleteRequest{Path: "/a/b", Version: -1}))
	assert.Equal(t, []Notification{
		note(1, wire.EventNodeDeleted, "/a/b"), note(4, wire.EventNodeDeleted, "/a/b"),
		note(3, wire.EventNodeChildrenChanged, "/a"),
	}, got)
	assert.Equal(t, 0, w.Count(), "every standard watch was consumed")
}

func TestPersistentAndRecursiveWatches(t *testing.T) {
	h, w := watchFixture(t)
	require.Equal(t, wire.ErrOK, w.AddWatch(1, "/a", wire.AddWatchPersistent))
	require.Equal(t, wire.ErrOK, w.AddWatch(2, "/a", wire.AddWatchPersistentRecursive))
	assert.Equal(t, wire.ErrMarshallingError, w.AddWatch(2, "/a", 2), "an unknown addWatch mode")
	w.AddData(2, "/a/b") // standard on a path a recursive watch of the same session covers

	got := fire(h, w, h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a/b", Version: -1}))
	assert.Equal(t, []Notification{note(2, wire.EventNodeDataChanged, "/a/b")}, got,
		"recursive fires for descendants, once per session; persistent does not")

	got = fire(h, w, h.create(1, "/a/c", nil, wire.ModePersistent))
	assert.Equal(t, []Notification{
		note(2, wire.EventNodeCreated, "/a/c"),
		note(1, wire.EventNodeChildrenChanged, "/a"),
	}, got, "recursive watches never get NodeChildrenChanged; persistent ones do")

	got = fire(h, w, h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Version: -1}))
	assert.Equal(t, []Notification{note(1, wire.EventNodeDataChanged, "/a"), note(2, wire.EventNodeDataChanged, "/a")}, got)
	got = fire(h, w, h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Version: -1}))
	assert.Len(t, got, 2, "persistent watches stay after firing")

	assert.Equal(t, wire.ErrOK, w.Check(1, "/a", wire.WatcherData, false))
	assert.Equal(t, wire.ErrOK, w.Check(1, "/a", wire.WatcherAny, true))
	assert.Equal(t, wire.ErrNoWatcher, w.Check(1, "/a", wire.WatcherChildren, true), "removed from both tables")
	assert.Equal(t, wire.ErrMarshallingError, w.Check(1, "/a", 4, false))
	w.RemoveSession(2)
	assert.Equal(t, 0, w.Count())
	assert.Equal(t, wire.ErrNoWatcher, w.Check(1, "/a", wire.WatcherAny, false), "no session watches /a any more")
	got = fire(h, w, h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a/b", Version: -1}))
	assert.Empty(t, got)
}

func TestWatchACLFilter(t *testing.T) {
	h, w := watchFixture(t)
	h.write(1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/secret", ACL: aliceAll})
	w.AddData(1, "/secret")
	w.AddData(2, "/secret")
	ids := map[int64][]wire.Id{1: aliceIDs, 2: bobIDs}
	got := w.Fire(h.write(1, aliceIDs, wire.OpSetData, &wire.SetDataRequest{Path: "/secret", Version: -1}).Events,
		func(s int64) []wire.Id { return ids[s] })
	assert.Equal(t, []Notification{note(1, wire.EventNodeDataChanged, "/secret")}, got,
		"an event goes only to sessions that may READ the node (ZOOKEEPER-4799)")
	assert.Equal(t, 0, w.Count(), "the filtered watch is consumed all the same")
}

func TestSessionCloseFiresEphemeralDeletes(t *testing.T) {
	h, w := watchFixture(t)
	h.mustCreate(2, "/a/e2", wire.ModeEphemeral)
	h.mustCreate(2, "/a/e1", wire.ModeEphemeral)
	w.AddData(1, "/a/e1")
	w.AddData(1, "/a/e2")
	w.AddChild(3, "/a")
	w.AddData(2, "/a")
	order := JavaCloseOrder([]string{"/a/e1", "/a/e2"}, func(p string) int64 { return h.stat(p).Czxid })
	got := w.Applied(h.closeSession(2), nil)
	assert.Equal(t, []Notification{
		note(1, wire.EventNodeDeleted, order[0]), note(3, wire.EventNodeChildrenChanged, "/a"),
		note(1, wire.EventNodeDeleted, order[1]),
	}, got, "ephemerals are deleted in Apache's order (JavaCloseOrder: %v), in the close txn", order)
	_, err := h.tree.Exists("/a/e1", nil)
	assert.Equal(t, wire.ErrNoNode, err)
	assert.Equal(t, wire.ErrNoWatcher, w.Check(2, "/a", wire.WatcherData, true), "a closed session's watches are gone")
}

func TestAfterReadRegistration(t *testing.T) {
	w := NewWatches()
	w.AfterRead(1, wire.OpExists, "/missing", wire.ErrNoNode)
	w.AfterRead(1, wire.OpExists, "/secret", wire.ErrNoAuth)
	w.AfterRead(1, wire.OpGetData, "/missing2", wire.ErrNoNode)
	w.AfterRead(1, wire.OpGetChildren2, "/c", wire.ErrOK)
	assert.Equal(t, wire.ErrOK, w.Check(1, "/missing", wire.WatcherData, false), "exists on a missing node sets an exist watch")
	assert.Equal(t, wire.ErrNoWatcher, w.Check(1, "/secret", wire.WatcherAny, false), "no watch when exists fails with NoAuth")
	assert.Equal(t, wire.ErrNoWatcher, w.Check(1, "/missing2", wire.WatcherAny, false), "getData sets a watch only on success")
	assert.Equal(t, wire.ErrOK, w.Check(1, "/c", wire.WatcherChildren, false))
}

func TestSetWatchesReplay(t *testing.T) {
	h, w := watchFixture(t)
	seen := h.zxid
	h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a/b", Version: -1})
	h.mustCreate(1, "/a/new", wire.ModePersistent)
	got := w.SetWatches(h.tree, 7, &wire.SetWatches2{
		RelativeZxid:               seen,
		DataWatches:                []string{"/a/b", "/a", "/gone"},
		ExistWatches:               []string{"/a/new", "/nothere"},
		ChildWatches:               []string{"/a", "/a/b", "/gone"},
		PersistentWatches:          []string{"/p"},
		PersistentRecursiveWatches: []string{"/r"},
	})
	assert.Equal(t, []Notification{
		note(7, wire.EventNodeDataChanged, "/a/b"),
		note(7, wire.EventNodeDeleted, "/gone"),
		note(7, wire.EventNodeCreated, "/a/new"),
		note(7, wire.EventNodeChildrenChanged, "/a"),
		note(7, wire.EventNodeDeleted, "/gone"),
	}, got, "what the client missed since relativeZxid fires at once (zk-protocol.md §8.6)")
	for _, c := range []struct {
		path string
		typ  wire.WatcherType
	}{{"/a", wire.WatcherData}, {"/nothere", wire.WatcherData}, {"/a/b", wire.WatcherChildren}, {"/p", wire.WatcherChildren}, {"/r", wire.WatcherData}} {
		assert.Equal(t, wire.ErrOK, w.Check(7, c.path, c.typ, false), "registered: %s type %d", c.path, c.typ)
	}
	assert.Equal(t, wire.ErrNoWatcher, w.Check(7, "/a/b", wire.WatcherData, false), "a replayed watch is not registered")
}

// TestCheckWatchesSeesEveryConnectionsWatch pins Apache ZooKeeper 3.8.0's checkWatches:
// WatchManager.containsWatcher answers true when the path's watcher set is not empty,
// whoever set the watch, while removeWatches removes only the caller's own (conformance
// TestTranscripts "checkWatches answers OK when another connection watches the path").
func TestCheckWatchesSeesEveryConnectionsWatch(t *testing.T) {
	cases := []struct {
		name   string
		set    func(w *Watches)
		typ    wire.WatcherType
		remove bool
		want   wire.Err
	}{
		{"nobody watches", func(w *Watches) {}, wire.WatcherAny, false, wire.ErrNoWatcher},
		{"another session's data watch, check data", func(w *Watches) { w.AddData(2, "/b") }, wire.WatcherData, false, wire.ErrOK},
		{"another session's data watch, check any", func(w *Watches) { w.AddData(2, "/b") }, wire.WatcherAny, false, wire.ErrOK},
		{"another session's data watch, check children", func(w *Watches) { w.AddData(2, "/b") }, wire.WatcherChildren, false, wire.ErrNoWatcher},
		{"another session's persistent watch, check children", func(w *Watches) { w.AddWatch(2, "/b", wire.AddWatchPersistent) }, wire.WatcherChildren, false, wire.ErrOK},
		{"a watch on a child path does not count", func(w *Watches) { w.AddData(2, "/b/c") }, wire.WatcherAny, false, wire.ErrNoWatcher},
		{"another session's watch cannot be removed", func(w *Watches) { w.AddData(2, "/b") }, wire.WatcherData, true, wire.ErrNoWatcher},
		{"the caller's own watch is removed", func(w *Watches) { w.AddData(1, "/b") }, wire.WatcherData, true, wire.ErrOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWatches()
			tc.set(w)
			assert.Equal(t, tc.want, w.Check(1, "/b", tc.typ, tc.remove),
				"session 1 check(type %d, remove %t) on /b", tc.typ, tc.remove)
		})
	}
}

// TestSetWatchesReplayBoundary pins the comparisons of DataTree.setWatches: a data watch fires
// NodeDataChanged only when mzxid > relativeZxid, a child watch NodeChildrenChanged only when
// pzxid > relativeZxid; at equality the client has seen the change and the watch registers.
func TestSetWatchesReplayBoundary(t *testing.T) {
	h, _ := watchFixture(t)
	h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a/b", Version: -1})
	mzxid := h.stat("/a/b").Mzxid
	h.mustCreate(1, "/a/c", wire.ModePersistent)
	pzxid := h.stat("/a").Pzxid
	cases := []struct {
		name     string
		relative int64
		watches  wire.SetWatches2
		fires    wire.EventType // 0: no event, the watch registers
		path     string
		typ      wire.WatcherType
	}{
		{"data watch, relativeZxid = mzxid - 1", mzxid - 1, wire.SetWatches2{DataWatches: []string{"/a/b"}}, wire.EventNodeDataChanged, "/a/b", wire.WatcherData},
		{"data watch, relativeZxid = mzxid", mzxid, wire.SetWatches2{DataWatches: []string{"/a/b"}}, 0, "/a/b", wire.WatcherData},
		{"child watch, relativeZxid = pzxid - 1", pzxid - 1, wire.SetWatches2{ChildWatches: []string{"/a"}}, wire.EventNodeChildrenChanged, "/a", wire.WatcherChildren},
		{"child watch, relativeZxid = pzxid", pzxid, wire.SetWatches2{ChildWatches: []string{"/a"}}, 0, "/a", wire.WatcherChildren},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWatches()
			req := tc.watches
			req.RelativeZxid = tc.relative
			got := w.SetWatches(h.tree, 7, &req)
			registered := w.Check(7, tc.path, tc.typ, false) == wire.ErrOK
			if tc.fires == 0 {
				assert.Empty(t, got, "relativeZxid %d (mzxid %d, pzxid %d): nothing was missed", tc.relative, mzxid, pzxid)
				assert.True(t, registered, "relativeZxid %d: the watch on %s registers", tc.relative, tc.path)
				return
			}
			assert.Equal(t, []Notification{note(7, tc.fires, tc.path)}, got, "relativeZxid %d (mzxid %d, pzxid %d)", tc.relative, mzxid, pzxid)
			assert.False(t, registered, "relativeZxid %d: a replayed watch is not registered", tc.relative)
		})
	}
}
