package tree

import (
	"slices"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
	"pgregory.net/rapid"
)

// refWatch is one registration in the naive watch model: a flat list scanned on every event.
type refWatch struct {
	session int64
	path    string
	kind    string // "data", "child" (one-shot), "persistent", "recursive"
}

// watcherIDs are the auth ids of each session's connection, for ACL-filtered delivery.
var watcherIDs = map[int64][]wire.Id{1: aliceIDs, 2: bobIDs, 3: {{Scheme: "ip", ID: "10.0.0.3"}}}

func refCovers(ancestor, path string) bool {
	// Events always carry absolute paths, so a watch on a malformed path such as "" only
	// ever matches an identical path.
	return ancestor == path || ancestor == "/" || ancestor != "" && strings.HasPrefix(path, ancestor+"/")
}

// refNotify computes the notifications of applied events from the flat list, consuming
// one-shot entries, per zk-protocol.md §8.4 read literally.
func refNotify(list *[]refWatch, events []Event) []Notification {
	var out []Notification
	for _, ev := range events {
		var hit []int64
		keep := (*list)[:0:0]
		for _, w := range *list {
			exact := w.path == ev.Path
			var fires, consumed bool
			switch ev.Type {
			case wire.EventNodeCreated, wire.EventNodeDataChanged:
				fires = exact && (w.kind == "data" || w.kind == "persistent") || w.kind == "recursive" && refCovers(w.path, ev.Path)
				consumed = fires && w.kind == "data"
			case wire.EventNodeChildrenChanged:
				fires = exact && (w.kind == "child" || w.kind == "persistent")
				consumed = fires && w.kind == "child"
			case wire.EventNodeDeleted:
				fires = exact && w.kind != "recursive" || w.kind == "recursive" && refCovers(w.path, ev.Path)
				consumed = fires && (w.kind == "data" || w.kind == "child")
			}
			if fires && !slices.Contains(hit, w.session) {
				hit = append(hit, w.session)
			}
			if !consumed {
				keep = append(keep, w)
			}
		}
		*list = keep
		slices.Sort(hit)
		for _, s := range hit {
			if refPermitted(ev.ACL, wire.PermRead, watcherIDs[s]) {
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
	w := refWatch{session: session, path: path, kind: kind}
	if !slices.Contains(s.refWatches, w) {
		s.refWatches = append(s.refWatches, w)
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

// refWatchCount is the number of (path, session, table) entries the model implies:
// data → data table, child → child table, persistent/recursive → both.
func (s *treeMachine) refWatchCount() int {
	type key struct {
		session int64
		path    string
		table   string
	}
	seen := map[key]bool{}
	for _, w := range s.refWatches {
		if w.kind != "child" {
			seen[key{w.session, w.path, "data"}] = true
		}
		if w.kind != "data" {
			seen[key{w.session, w.path, "child"}] = true
		}
	}
	return len(seen)
}
