package tree

import (
	"slices"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
	"pgregory.net/rapid"
)

// refWatch is one entry in the naive watch model: a flat list scanned on every event, one
// entry per (session, path, table) holding one mode, the last registered (Apache ZooKeeper
// 3.8.0's WatcherModeManager).
type refWatch struct {
	session int64
	path    string
	table   string // "data" or "child"
	mode    string // "standard" (one-shot), "persistent", "recursive"
}

// watcherIDs are the auth ids of each session's connection, for ACL-filtered delivery.
var watcherIDs = map[int64][]wire.Id{1: aliceIDs, 2: bobIDs, 3: {{Scheme: "ip", ID: "10.0.0.3"}}}

func refCovers(ancestor, path string) bool {
	// Events always carry absolute paths, so a watch on a malformed path such as "" only
	// ever matches an identical path.
	return ancestor == path || ancestor == "/" || ancestor != "" && strings.HasPrefix(path, ancestor+"/")
}

// refNotify computes the notifications of applied events from the flat list, consuming
// one-shot entries: NodeCreated and NodeDataChanged look at the data table, NodeChildrenChanged
// at the child table, NodeDeleted at both; an exact-path entry fires unless it is recursive
// and the event NodeChildrenChanged, a recursive entry on an ancestor fires for any other
// event (zk-protocol.md §8.4).
func refNotify(list *[]refWatch, events []Event) []Notification {
	var out []Notification
	for _, ev := range events {
		var hit []int64
		keep := (*list)[:0:0]
		for _, w := range *list {
			var inTable bool
			switch ev.Type {
			case wire.EventNodeCreated, wire.EventNodeDataChanged:
				inTable = w.table == "data"
			case wire.EventNodeChildrenChanged:
				inTable = w.table == "child"
			case wire.EventNodeDeleted:
				inTable = true
			}
			var fires bool
			switch {
			case !inTable:
			case w.mode == "recursive":
				fires = ev.Type != wire.EventNodeChildrenChanged && refCovers(w.path, ev.Path)
			default:
				fires = w.path == ev.Path
			}
			if fires && !slices.Contains(hit, w.session) {
				hit = append(hit, w.session)
			}
			if !fires || w.mode != "standard" {
				keep = append(keep, w)
			}
		}
		*list = keep
		slices.Sort(hit)
		for _, s := range hit {
			if Permitted(ev.ACL, wire.PermRead, watcherIDs[s]) {
				out = append(out, Notification{SessionID: s, Event: wire.WatcherEvent{Type: ev.Type, State: wire.StateSyncConnected, Path: ev.Path}})
			}
		}
	}
	return out
}

// Watch registers a random watch both in the server's Watches and in the flat model list.
func (s *treeMachine) Watch(t *rapid.T) {
	session := rapid.Int64Range(1, 3).Draw(t, "watcher")
	path := pathGen(s.model).Draw(t, "watchPath")
	kind := rapid.SampledFrom([]string{"data", "data", "child", "child", "persistent", "recursive"}).Draw(t, "watchKind")
	switch kind {
	case "data":
		s.watches.AddData(session, path)
	case "child":
		s.watches.AddChild(session, path)
	case "persistent":
		s.watches.AddWatch(session, path, wire.AddWatchPersistent)
	case "recursive":
		s.watches.AddWatch(session, path, wire.AddWatchPersistentRecursive)
	}
	tables := map[string][]string{"data": {"data"}, "child": {"child"}, "persistent": {"data", "child"}, "recursive": {"data", "child"}}[kind]
	mode := map[string]string{"data": "standard", "child": "standard", "persistent": "persistent", "recursive": "recursive"}[kind]
	for _, table := range tables {
		s.refWatches = slices.DeleteFunc(s.refWatches, func(x refWatch) bool {
			return x.session == session && x.path == path && x.table == table
		})
		s.refWatches = append(s.refWatches, refWatch{session: session, path: path, table: table, mode: mode})
	}
}

// UnwatchAll removes one session's watches on a path (removeWatches with type Any).
func (s *treeMachine) UnwatchAll(t *rapid.T) {
	if len(s.refWatches) == 0 {
		t.Skip("no watch")
	}
	w := rapid.SampledFrom(s.refWatches).Draw(t, "unwatch")
	if err := s.watches.Check(w.session, w.path, wire.WatcherAny, true); err != wire.ErrOK {
		t.Fatalf("removeWatches(%d, %s): %d, but the model has %+v", w.session, w.path, err, w)
	}
	s.refWatches = slices.DeleteFunc(s.refWatches, func(x refWatch) bool { return x.session == w.session && x.path == w.path })
}

// expectNotifications checks what Watches delivers for an applied txn against the model.
func (s *treeMachine) expectNotifications(t *rapid.T, got Applied) {
	want := refNotify(&s.refWatches, got.Events)
	if got.Type == wire.OpCloseSession {
		s.refWatches = slices.DeleteFunc(s.refWatches, func(x refWatch) bool { return x.session == got.SessionID })
	}
	have := s.watches.Applied(got, func(session int64) []wire.Id { return watcherIDs[session] })
	if !slices.Equal(want, have) {
		t.Fatalf("notifications at zxid %#x for events %+v:\nwant %+v\ngot  %+v", got.Zxid, got.Events, want, have)
	}
	if n := s.watches.Count(); n != s.refWatchCount() {
		t.Fatalf("after zxid %#x Watches holds %d entries, the model %d: %+v", got.Zxid, n, s.refWatchCount(), s.refWatches)
	}
}

// refWatchCount is the number of (path, session, table) entries of the model.
func (s *treeMachine) refWatchCount() int { return len(s.refWatches) }
