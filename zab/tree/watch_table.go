package tree

import (
	"cmp"
	"slices"
)

// WatchEntry is one (session, path) entry of a watch table.
type WatchEntry struct {
	SessionID int64
	Path      string
}

// DataWatchTable is a copy of one server's data-watch table (DataTree.dataWatches), the
// table ZooKeeper's four-letter words wchs, wchc and wchp read: getData and exists watches
// and persistent and persistent-recursive ones (addWatch registers those in both tables;
// child watches are not in it).
type DataWatchTable struct {
	// Watchers are the sessions with a connection that registered a data watch, in
	// increasing order, including those whose watches have all fired or been removed:
	// WatchManager.watch2Paths keeps such a connection's empty entry until it closes.
	Watchers []int64
	// Entries are the (session, path) pairs, by session then path.
	Entries []WatchEntry
}

// DataWatchTable copies the data-watch table, sorted.
func (w *Watches) DataWatchTable() DataWatchTable {
	var t DataWatchTable
	t.Watchers = make([]int64, 0, len(w.dataWatchers))
	for s := range w.dataWatchers {
		t.Watchers = append(t.Watchers, s)
	}
	slices.Sort(t.Watchers)
	for path, m := range w.data {
		for s := range m {
			t.Entries = append(t.Entries, WatchEntry{SessionID: s, Path: path})
		}
	}
	slices.SortFunc(t.Entries, func(a, b WatchEntry) int {
		return cmp.Or(cmp.Compare(a.SessionID, b.SessionID), cmp.Compare(a.Path, b.Path))
	})
	return t
}

// Paths is the number of distinct paths with a watch (the size of WatchManager.watchTable).
func (t DataWatchTable) Paths() int {
	paths := make(map[string]struct{}, len(t.Entries))
	for _, e := range t.Entries {
		paths[e.Path] = struct{}{}
	}
	return len(paths)
}

// ByPath returns the entries ordered by path, then session.
func (t DataWatchTable) ByPath() []WatchEntry {
	byPath := slices.Clone(t.Entries)
	slices.SortFunc(byPath, func(a, b WatchEntry) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.SessionID, b.SessionID))
	})
	return byPath
}
