package tree

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// TestDataWatchTable follows ZooKeeper 3.8.0's data WatchManager, which wchs, wchc and wchp
// read: getData and exists watches and both addWatch modes are in it, child watches are not;
// a session whose data watches all fired or were removed keeps its (empty) watcher entry
// until its connection closes (triggerWatch and removeWatcher(path) leave watch2Paths's
// entry; only removeWatcher(cnxn) drops it).
func TestDataWatchTable(t *testing.T) {
	h, w := watchFixture(t)
	steps := []struct {
		name     string
		do       func()
		watchers []int64
		entries  []WatchEntry
	}{
		{"empty tables", func() {}, []int64{}, nil},
		{"getData, getChildren and a missing node's exists on session 1", func() {
			w.AfterRead(1, wire.OpGetData, "/a", wire.ErrOK)
			w.AfterRead(1, wire.OpGetChildren, "/a", wire.ErrOK)
			w.AfterRead(1, wire.OpExists, "/x", wire.ErrNoNode)
		}, []int64{1}, []WatchEntry{{1, "/a"}, {1, "/x"}}},
		{"session 2's persistent and recursive watches", func() {
			require.Equal(t, wire.ErrOK, w.AddWatch(2, "/a/b", wire.AddWatchPersistent))
			require.Equal(t, wire.ErrOK, w.AddWatch(2, "/", wire.AddWatchPersistentRecursive))
		}, []int64{1, 2}, []WatchEntry{{1, "/a"}, {1, "/x"}, {2, "/"}, {2, "/a/b"}}},
		{"a child watch alone does not make session 3 a data watcher", func() {
			w.AddChild(3, "/a/b")
		}, []int64{1, 2}, []WatchEntry{{1, "/a"}, {1, "/x"}, {2, "/"}, {2, "/a/b"}}},
		{"setData /a consumes session 1's one-shot watch; the recursive one stays", func() {
			fire(h, w, h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: "/a", Version: -1}))
		}, []int64{1, 2}, []WatchEntry{{1, "/x"}, {2, "/"}, {2, "/a/b"}}},
		{"removeWatches of session 1's last data watch keeps it as a watcher", func() {
			require.Equal(t, wire.ErrOK, w.Check(1, "/x", wire.WatcherData, true))
		}, []int64{1, 2}, []WatchEntry{{2, "/"}, {2, "/a/b"}}},
		{"session 1's connection closes", func() { w.RemoveSession(1) },
			[]int64{2}, []WatchEntry{{2, "/"}, {2, "/a/b"}}},
	}
	for i, s := range steps {
		s.do()
		got := w.DataWatchTable()
		assert.Equal(t, s.watchers, got.Watchers, "step %d (%s): watchers", i, s.name)
		assert.Equal(t, s.entries, got.Entries, "step %d (%s): entries by session, then path", i, s.name)
	}

	w.AddData(1, "/a/b")
	table := w.DataWatchTable()
	assert.Equal(t, 2, table.Paths(), "distinct watched paths (/ and /a/b) of %v", table.Entries)
	assert.Equal(t, []WatchEntry{{2, "/"}, {1, "/a/b"}, {2, "/a/b"}}, table.ByPath(), "entries by path, then session")
	assert.Equal(t, []WatchEntry{{1, "/a/b"}, {2, "/"}, {2, "/a/b"}}, table.Entries, "ByPath leaves Entries alone")
}
