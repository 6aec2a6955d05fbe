package tree

import (
	"slices"

	"github.com/zabkit/zabkit/zab/wire"
)

// Watches is one server's watch tables (WatchManager ×2: data and child). Watches are not
// replicated: they belong to the connections of this server, keyed here by session id (a
// session has at most one connection at a time; drop its watches with RemoveSession when
// that connection closes, and the client re-arms them with setWatches).
//
// An entry per (path, session, table) holds mode bits, so a standard and a persistent watch
// on the same path coexist (ZooKeeper 3.9 behaviour, ZOOKEEPER-4466).
type Watches struct {
	data      map[string]map[int64]watchBits
	child     map[string]map[int64]watchBits
	bySession map[int64]map[string]struct{} // paths with an entry in either table
	recursive int                           // entries with bitRecursive, both tables
	// dataWatchers holds the sessions that registered a data watch since their connection
	// opened, also once all of them fired or were removed: ZooKeeper's data WatchManager
	// keeps a watcher's (possibly empty) watch2Paths entry until the connection closes, and
	// wchs and wchc count and list it.
	dataWatchers map[int64]struct{}
}

type watchBits uint8

const (
	bitStandard   watchBits = 1 << iota // one-shot: getData/exists/getChildren watch
	bitPersistent                       // addWatch mode 0
	bitRecursive                        // addWatch mode 1
)

// Notification is a watch event for one session's connection.
type Notification struct {
	SessionID int64
	Event     wire.WatcherEvent
}

// NewWatches returns empty watch tables.
func NewWatches() *Watches {
	return &Watches{
		data:      make(map[string]map[int64]watchBits),
		child:     make(map[string]map[int64]watchBits),
		bySession: make(map[int64]map[string]struct{}),

		dataWatchers: make(map[int64]struct{}),
	}
}

// addData adds to the data table (WatchManager.addWatch on DataTree.dataWatches).
func (w *Watches) addData(session int64, path string, bit watchBits) {
	w.add(w.data, session, path, bit)
	w.dataWatchers[session] = struct{}{}
}

func (w *Watches) add(table map[string]map[int64]watchBits, session int64, path string, bit watchBits) {
	m := table[path]
	if m == nil {
		m = make(map[int64]watchBits)
		table[path] = m
	}
	if bit == bitRecursive && m[session]&bitRecursive == 0 {
		w.recursive++
	}
	m[session] |= bit
	paths := w.bySession[session]
	if paths == nil {
		paths = make(map[string]struct{})
		w.bySession[session] = paths
	}
	paths[path] = struct{}{}
}

// clearBits removes bits from one entry and drops empty entries.
func (w *Watches) clearBits(table map[string]map[int64]watchBits, session int64, path string, bits watchBits) bool {
	m := table[path]
	have := m[session]
	if have&bits == 0 {
		return false
	}
	if have&bits&bitRecursive != 0 {
		w.recursive--
	}
	if rest := have &^ bits; rest != 0 {
		m[session] = rest
		return true
	}
	delete(m, session)
	if len(m) == 0 {
		delete(table, path)
	}
	if w.data[path][session] == 0 && w.child[path][session] == 0 {
		if paths := w.bySession[session]; paths != nil {
			delete(paths, path)
			if len(paths) == 0 {
				delete(w.bySession, session)
			}
		}
	}
	return true
}

// AddData registers a one-shot data watch (getData, or exists whether or not the node
// exists: the "exist watch").
func (w *Watches) AddData(session int64, path string) { w.addData(session, path, bitStandard) }

// AddChild registers a one-shot child watch (getChildren, getChildren2).
func (w *Watches) AddChild(session int64, path string) { w.add(w.child, session, path, bitStandard) }

// AddWatch handles addWatch (106): a persistent or persistent-recursive watch in both tables,
// registered whether or not the path exists. Another mode is MarshallingError.
func (w *Watches) AddWatch(session int64, path string, mode wire.AddWatchMode) wire.Err {
	var bit watchBits
	switch mode {
	case wire.AddWatchPersistent:
		bit = bitPersistent
	case wire.AddWatchPersistentRecursive:
		bit = bitRecursive
	default:
		return wire.ErrMarshallingError
	}
	w.addData(session, path, bit)
	w.add(w.child, session, path, bit)
	return wire.ErrOK
}

// AfterRead registers the watch a read asked for (watch = true), following zk-protocol.md
// §8.3: exists registers a data watch unless it failed with NoAuth or BadArguments (a
// missing node still gets one), getData and getChildren(2) only on success.
func (w *Watches) AfterRead(session int64, typ wire.OpCode, path string, err wire.Err) {
	switch typ {
	case wire.OpExists:
		if err == wire.ErrOK || err == wire.ErrNoNode {
			w.AddData(session, path)
		}
	case wire.OpGetData:
		if err == wire.ErrOK {
			w.AddData(session, path)
		}
	case wire.OpGetChildren, wire.OpGetChildren2:
		if err == wire.ErrOK {
			w.AddChild(session, path)
		}
	}
}

// Check answers checkWatches (remove = false) and removeWatches (remove = true):
// MarshallingError for an unknown type, else ErrOK or NoWatcher.
//
// removeWatches looks at the session's own watches on path and removes those of the
// requested type, whatever their mode. checkWatches answers ErrOK when ANY session holds a
// watch of the requested type on exactly path: Apache ZooKeeper 3.8.0's
// WatchManager.containsWatcher returns true as soon as the path's watcher set is non-empty
// ("at the leaf node, all watcher types match"), without looking for the caller's watcher.
// 3.8.0 is the reference (conformance/README.md, TestTranscripts pins this).
func (w *Watches) Check(session int64, path string, typ wire.WatcherType, remove bool) wire.Err {
	var tables []map[string]map[int64]watchBits
	switch typ {
	case wire.WatcherChildren:
		tables = append(tables, w.child)
	case wire.WatcherData:
		tables = append(tables, w.data)
	case wire.WatcherAny:
		tables = append(tables, w.child, w.data)
	default:
		return wire.ErrMarshallingError
	}
	found := false
	for _, table := range tables {
		if !remove {
			found = found || len(table[path]) > 0
			continue
		}
		if table[path][session] == 0 {
			continue
		}
		found = true
		if remove {
			w.clearBits(table, session, path, bitStandard|bitPersistent|bitRecursive)
		}
	}
	if !found {
		return wire.ErrNoWatcher
	}
	return wire.ErrOK
}

// RemoveSession drops every watch of a session (its connection closed or it ended).
func (w *Watches) RemoveSession(session int64) {
	paths := make([]string, 0, len(w.bySession[session]))
	for path := range w.bySession[session] {
		paths = append(paths, path)
	}
	for _, path := range paths {
		all := bitStandard | bitPersistent | bitRecursive
		w.clearBits(w.data, session, path, all)
		w.clearBits(w.child, session, path, all)
	}
	delete(w.bySession, session)
	delete(w.dataWatchers, session)
}

// Count is the number of (path, session) entries over both tables, for wchs-style stats.
func (w *Watches) Count() int {
	total := 0
	for _, m := range w.data {
		total += len(m)
	}
	for _, m := range w.child {
		total += len(m)
	}
	return total
}

// Fire delivers applied events (Applied.Events, in order) to the watching sessions of this
// server, following zk-protocol.md §8.4: NodeCreated and NodeDataChanged go through the data
// table, NodeChildrenChanged through the child table, NodeDeleted through the data table then
// the child table (skipping sessions already told). Standard watches match their exact path
// and are consumed; persistent ones match the exact path and stay; persistent-recursive ones
// match the path and every descendant, stay, and never get NodeChildrenChanged. A session
// gets one notification per event. It is then delivered only if ids(session) may READ the
// event's ACL (ZOOKEEPER-4799); a consumed watch stays consumed either way. Sessions are
// notified in increasing id order per event.
func (w *Watches) Fire(events []Event, ids func(session int64) []wire.Id) []Notification {
	var out []Notification
	for _, ev := range events {
		var sessions []int64
		switch ev.Type {
		case wire.EventNodeCreated, wire.EventNodeDataChanged:
			sessions = w.trigger(w.data, ev, nil)
		case wire.EventNodeChildrenChanged:
			sessions = w.trigger(w.child, ev, nil)
		case wire.EventNodeDeleted:
			sessions = w.trigger(w.data, ev, nil)
			sessions = append(sessions, w.trigger(w.child, ev, sessions)...)
		}
		slices.Sort(sessions)
		for _, s := range sessions {
			if ids != nil && !Permitted(ev.ACL, wire.PermRead, ids(s)) {
				continue
			}
			out = append(out, Notification{SessionID: s, Event: wire.WatcherEvent{
				Type: ev.Type, State: wire.StateSyncConnected, Path: ev.Path}})
		}
	}
	return out
}

// Applied fires an applied txn's events (see Fire) and, when the txn closed a session, then
// drops that session's watches: the close's own ephemeral deletions are still delivered
// before its reply (zk-protocol.md §3.4).
func (w *Watches) Applied(a Applied, ids func(session int64) []wire.Id) []Notification {
	out := w.Fire(a.Events, ids)
	if a.Type == wire.OpCloseSession {
		w.RemoveSession(a.SessionID)
	}
	return out
}

// trigger collects the sessions one table notifies for ev, consuming one-shot watches, and
// leaves out sessions in skip.
func (w *Watches) trigger(table map[string]map[int64]watchBits, ev Event, skip []int64) []int64 {
	var hit []int64
	seen := make(map[int64]struct{}, len(skip))
	for _, s := range skip {
		seen[s] = struct{}{}
	}
	take := func(s int64) {
		if _, ok := seen[s]; !ok {
			seen[s] = struct{}{}
			hit = append(hit, s)
		}
	}
	if m := table[ev.Path]; m != nil {
		var consumed []int64
		for s, bits := range m {
			fires := bits&(bitStandard|bitPersistent) != 0 ||
				(bits&bitRecursive != 0 && ev.Type != wire.EventNodeChildrenChanged)
			if !fires {
				continue
			}
			if bits&bitStandard != 0 {
				consumed = append(consumed, s)
			}
			take(s)
		}
		slices.Sort(consumed)
		for _, s := range consumed {
			w.clearBits(table, s, ev.Path, bitStandard)
		}
	}
	if w.recursive == 0 || ev.Type == wire.EventNodeChildrenChanged {
		return hit
	}
	for ancestor, ok := parentOf(ev.Path); ok; ancestor, ok = parentOf(ancestor) {
		for s, bits := range table[ancestor] {
			if bits&bitRecursive != 0 {
				take(s)
			}
		}
	}
	return hit
}

// parentOf walks up from a path: "/a/b" → "/a" → "/" → done.
func parentOf(path string) (string, bool) {
	if path == "/" || path == "" {
		return "", false
	}
	parent, _, ok := splitPath(path)
	return parent, ok
}

// SetWatches re-arms a reconnecting client's watches (setWatches 101 / setWatches2 105,
// zk-protocol.md §8.6) against the applied tree, firing what it missed since relativeZxid
// instead of registering: data watches fire NodeDeleted if the node is gone or
// NodeDataChanged if mzxid > relativeZxid; exist watches fire NodeCreated if the node exists;
// child watches fire NodeDeleted or NodeChildrenChanged (pzxid > relativeZxid). Persistent
// watches are registered without replay. Replayed events are not ACL-filtered.
func (w *Watches) SetWatches(t *Tree, session int64, req *wire.SetWatches2) []Notification {
	var out []Notification
	notify := func(typ wire.EventType, path string) {
		out = append(out, Notification{SessionID: session, Event: wire.WatcherEvent{
			Type: typ, State: wire.StateSyncConnected, Path: path}})
	}
	for _, path := range req.DataWatches {
		switch n := t.lookup(path); {
		case n == nil:
			notify(wire.EventNodeDeleted, path)
		case n.mzxid > req.RelativeZxid:
			notify(wire.EventNodeDataChanged, path)
		default:
			w.AddData(session, path)
		}
	}
	for _, path := range req.ExistWatches {
		if t.lookup(path) != nil {
			notify(wire.EventNodeCreated, path)
		} else {
			w.AddData(session, path)
		}
	}
	for _, path := range req.ChildWatches {
		switch n := t.lookup(path); {
		case n == nil:
			notify(wire.EventNodeDeleted, path)
		case n.pzxid > req.RelativeZxid:
			notify(wire.EventNodeChildrenChanged, path)
		default:
			w.AddChild(session, path)
		}
	}
	for _, path := range req.PersistentWatches {
		w.AddWatch(session, path, wire.AddWatchPersistent)
	}
	for _, path := range req.PersistentRecursiveWatches {
		w.AddWatch(session, path, wire.AddWatchPersistentRecursive)
	}
	return out
}
