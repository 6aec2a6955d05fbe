package checker

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
)

// Watches are checked directly against the committed order, not with porcupine
// (anchors.md §3.4 rule 5, as etcd checks its watches): replaying the order gives every
// trigger (tree.Applied.Events), and a session's watch events must be exactly the triggers
// its armed watches match, in zxid order (zk-protocol.md §8.4-8.5):
//   - a standard watch fires once, for the first matching trigger after the zxid of the
//     reply that set it, with that trigger's type and path;
//   - a persistent watch fires for every trigger at its path, a recursive one for every
//     create, delete and data change at or under it;
//   - the event reaches the session before any reply whose zxid is at or past the
//     trigger (a client sees the event before the new data), so an event still missing at
//     such a reply is lost or late;
//   - after a reconnect, setWatches replays what the session missed (§8.6): the expected
//     replays are computed from the state at the setWatches reply's zxid, and an exist
//     watch whose znode came and went while disconnected is legitimately missed;
//   - an event owed after the session's last reply is never lost while the session lives:
//     when the history says the session was still connected and drained at the end
//     (ConnectedSession), every trigger up to its server's applied zxid must have been told.
//
// A watch is judged from the state it was set on, the zxid of the reply that set it, not
// from what the session saw before: watch events do not advance a client's last zxid (the
// Java client's ClientCnxn.readResponse returns for NOTIFICATION_XID before it updates
// lastZxid), so a session told of a txn may reconnect to a server that has not applied it
// yet, set a watch there, and be told of the same txn again when that server applies it.
// The walk keeps the triggers it expanded as the state of the server the session talks
// to, and a reply below an event's trigger moves it back (rewind).
//
// removeWatches of one type drops that table's entry of the session at the path, whatever
// its mode, so a persistent or recursive watch loses that half and lives on in the other
// table (ZooKeeper 3.8.0 DataTree.removeWatch and WatchManager.removeWatcher, which also
// drops the entry's mode; zab/tree's Watches.Check alike); Any drops both. The client keeps
// a persistent watch in its table unless it removed type Any (3.8.0
// ZKWatchManager.removeWatcher), and setWatches2 names persistent watches by path only, so
// a reconnect brings a halved watch back whole.
//
// Known limits: the ACL filter of ZOOKEEPER-4799 is not modelled (workloads checked here
// must let every session READ what it watches).

type watchTable uint8

const (
	tableData watchTable = iota
	tableChild
)

// watchKey is one server-side watch entry of a session (a path in one table); several
// registrations of the same entry collapse into one, as in ZooKeeper's WatchManager.
type watchKey struct {
	path  string
	table watchTable
}

type standardWatch struct {
	since int64 // zxid of the reply that armed it
	exist bool  // set by exists on a missing znode (the client re-arms it as an exist watch)
	by    *Op
}

// persistentWatch is an addWatch entry. The server keeps it in both tables (zab/tree's
// AddWatch, as ZooKeeper's WatchManager pair), and removeWatches of one type drops only that
// table's copy, so the watch may live on in the other.
type persistentWatch struct {
	path        string
	recursive   bool
	since       int64
	data, child bool // the server tables that still hold it
	held        bool // the client still holds it: a reconnect re-registers it whole
}

// fires reports whether the entry notifies tr: the data table's copy for NodeCreated and
// NodeDataChanged, the child table's for NodeChildrenChanged (never a recursive one), either
// for NodeDeleted; a recursive entry also for its path's descendants.
func (p persistentWatch) fires(tr trigger) bool {
	if p.since >= tr.zxid || (tr.path != p.path && !(p.recursive && isUnder(tr.path, p.path))) {
		return false
	}
	switch tr.typ {
	case wire.EventNodeCreated, wire.EventNodeDataChanged:
		return p.data
	case wire.EventNodeChildrenChanged:
		return p.child && !p.recursive
	case wire.EventNodeDeleted:
		return p.data || p.child
	}
	return false
}

// expectedEvent is a trigger the session must be told about.
type expectedEvent struct {
	trigger  int  // index in replayed.triggers
	reported bool // a later event overtook it: reported once, not again when a reply passes it
}

// sessionWatches is the watch state of one session while its stream is walked.
type sessionWatches struct {
	rp         *replayed
	r          *Report
	standard   map[watchKey]standardWatch
	persistent []persistentWatch
	horizon    int // triggers before this index are expanded into expected
	expected   []expectedEvent
	lastZxid   int64
}

// checkWatches walks every session's replies and events in the order the session saw them.
func checkWatches(h *History, rp *replayed, r *Report) {
	if !rp.complete {
		return // without every trigger, events past the replay would all look unexpected
	}
	bySession, ids := sessionReplies(h)
	sent := map[sessionXid]bool{} // every request, for checking events' AfterXid
	lost := map[int64][]*Op{}     // session -> its setWatches that got no server reply, in xid order
	for i := range h.Ops {
		o := &h.Ops[i]
		sent[sessionXid{o.Session, o.Xid}] = true
		if isSetWatches(o.Type) && o.outcomeUnknown() {
			lost[o.Session] = append(lost[o.Session], o)
		}
	}
	ends := connectedAtEnd(h, rp, r)
	events := map[int64][]*WatchEvent{}
	for i := range h.Events {
		e := &h.Events[i]
		if _, replied := bySession[e.Session]; !replied && events[e.Session] == nil {
			ids = append(ids, e.Session) // a session with events and no reply at all
		}
		events[e.Session] = append(events[e.Session], e)
	}
	slices.Sort(ids)
	for _, id := range ids {
		var ops []*Op
		for _, o := range bySession[id] {
			if hasServerZxid(o) {
				ops = append(ops, o)
			}
		}
		slices.SortFunc(lost[id], func(a, b *Op) int { return int(a.Xid) - int(b.Xid) })
		w := &sessionWatches{rp: rp, r: r, standard: map[watchKey]standardWatch{}}
		w.walk(ops, lost[id], events[id], sent)
		if end := ends[id]; end != nil && !lastIsLostSetWatches(bySession[id], lost[id]) {
			w.atEnd(end, bySession[id])
		}
	}
}

// connectedAtEnd indexes h.Connected by session, leaving out the sessions whose end the
// client saw or the committed order holds: their watches died with them, and events sent
// just before the close may be dropped with the connection.
func connectedAtEnd(h *History, rp *replayed, r *Report) map[int64]*ConnectedSession {
	ended := map[int64]bool{}
	for _, e := range h.Sessions {
		if e.Kind == SessionExpired || e.Kind == SessionClosed {
			ended[e.Session] = true
		}
	}
	ends := map[int64]*ConnectedSession{}
	for i := range h.Connected {
		c := &h.Connected[i]
		if _, dup := ends[c.Session]; dup {
			r.add(Violation{Check: CheckMalformed,
				Detail: fmt.Sprintf("session %#x is connected twice at the end: %v and %v", c.Session, *ends[c.Session], *c)})
			continue
		}
		ends[c.Session] = c
	}
	for id := range ends {
		if _, closed := rp.sessionClosed[id]; closed || ended[id] {
			delete(ends, id)
		}
	}
	return ends
}

// lastIsLostSetWatches reports whether the session's last request was a setWatches without
// a reply: the server's watch table then depends on whether it applied it, so the end says
// nothing certain (a recorder that waits for a quiet end should not produce this).
func lastIsLostSetWatches(replied, lost []*Op) bool {
	if len(lost) == 0 {
		return false
	}
	last := lost[len(lost)-1]
	for _, o := range replied {
		if o.Xid > last.Xid && hasServerZxid(o) {
			return false
		}
	}
	return true
}

// atEnd takes the end of the run for a session still connected and drained then: the
// events its server owed for every trigger up to the zxid it had applied have arrived, so
// a trigger still expected was lost (the session lives, and no later reply will ever
// reveal it). Replies may have come after the sample (a recipe reacting to an event) and
// already required more; a reply before it cannot be past the server, which answers a
// write only once it applied it and a read at its applied zxid, and which took the
// connection only because it was not behind the client.
func (w *sessionWatches) atEnd(c *ConnectedSession, replies []*Op) {
	seen := int64(0)
	for _, o := range replies {
		if hasServerZxid(o) && o.Return < c.Time {
			seen = max(seen, o.Zxid)
		}
	}
	if c.AppliedZxid < seen {
		w.r.add(Violation{Check: CheckMalformed,
			Detail: fmt.Sprintf("session connected at the end to a server at zxid %s, behind the zxid %s it saw before",
				formatZxid(c.AppliedZxid), formatZxid(seen))})
		return
	}
	w.expand(c.AppliedZxid)
	for _, x := range w.expected {
		if x.reported {
			continue
		}
		tr := w.rp.triggers[x.trigger]
		w.r.add(Violation{Check: CheckWatchDelivered,
			Detail: fmt.Sprintf("no %s(%q) event for the txn at zxid %s by the end of the run, though the session "+
				"stayed connected (%v)", eventName(tr.typ), tr.path, formatZxid(tr.zxid), *c)})
	}
	w.expected = w.expected[:0]
}

// walk places each event after the reply its AfterXid names and processes the stream.
// Events received after a setWatches request was sent are that reconnect's replays: it is
// the first request on its connection (zk-protocol.md §8.6), and no other notification can
// precede its reply there. ops are the session's replies with a server zxid, lost its
// setWatches without one, both in xid order.
func (w *sessionWatches) walk(ops, lost []*Op, events []*WatchEvent, sent map[sessionXid]bool) {
	after := make([][]*WatchEvent, len(ops)+1) // after[i+1]: events after ops[i]
	replays := make([][]*WatchEvent, len(ops))
	lostReplays := make([][]*WatchEvent, len(lost))
	for _, e := range events {
		if e.AfterXid != 0 && !sent[sessionXid{e.Session, e.AfterXid}] {
			w.r.add(Violation{Check: CheckMalformed,
				Detail: fmt.Sprintf("event placed after xid %d, which the session never sent", e.AfterXid),
				Events: []WatchEvent{*e}})
			continue
		}
		// After the last server reply at or before AfterXid (a client-made error, which
		// has no server zxid, does not move it).
		i := sort.Search(len(ops), func(i int) bool { return ops[i].Xid > e.AfterXid }) - 1
		if i >= 0 && e.LastZxid != ops[i].Zxid {
			w.r.add(Violation{Check: CheckMalformed,
				Detail: fmt.Sprintf("event's LastZxid %s is not the zxid %s of the reply it follows",
					formatZxid(e.LastZxid), formatZxid(ops[i].Zxid)),
				Ops: []Op{*ops[i]}, Events: []WatchEvent{*e}})
		}
		if n := i + 1; n < len(ops) && isSetWatches(ops[n].Type) && e.Time >= ops[n].Call {
			replays[n] = append(replays[n], e)
			continue
		}
		// The latest setWatches without a reply sent before the event, past reply i.
		if j := lostBefore(lost, e.Time); j >= 0 && (i < 0 || lost[j].Xid > ops[i].Xid) {
			lostReplays[j] = append(lostReplays[j], e)
			continue
		}
		after[i+1] = append(after[i+1], e)
	}
	next := 0 // next lost setWatches to take
	takeLost := func(beforeXid int32) {
		for ; next < len(lost) && lost[next].Xid < beforeXid; next++ {
			w.lostReconnect(lost[next], lostReplays[next])
		}
	}
	for _, e := range after[0] {
		w.event(e)
	}
	for i, o := range ops {
		takeLost(o.Xid)
		if isSetWatches(o.Type) {
			w.reconnect(o, replays[i])
		} else {
			w.reply(o)
		}
		for _, e := range after[i+1] {
			w.event(e)
		}
	}
	takeLost(math.MaxInt32)
}

// lostBefore returns the index of the last of lost sent at or before t, -1 if none.
func lostBefore(lost []*Op, t int64) int {
	return sort.Search(len(lost), func(i int) bool { return lost[i].Call > t }) - 1
}

func isSetWatches(t wire.OpCode) bool { return t == wire.OpSetWatches || t == wire.OpSetWatches2 }

// rewind moves the horizon back to the first trigger past zxid z. Only an event can have
// carried the horizon past a reply's zxid (lookAhead), since a session's reply zxids never
// go back: a later reply below that trigger comes from a server that has not applied it
// (a reconnect to a lagging server, which the client may make because events leave its
// last zxid alone). That server fires the watches registered on it as it applies those
// triggers, so they are expanded again against the watches the session holds there: a
// standard watch left in the table did not match them before (it would have been
// consumed) and does not now; a watch set at z does, once, as the first triggering txn
// after its registration; a persistent watch, re-registered at the reconnect, is told
// again. A double fire with no registration in between still matches nothing.
func (w *sessionWatches) rewind(z int64) {
	trs := w.rp.triggers
	for w.horizon > 0 && trs[w.horizon-1].zxid > z {
		w.horizon--
	}
}

// expand turns the triggers up to zxid `through` into expected events for the armed
// watches.
func (w *sessionWatches) expand(through int64) {
	trs := w.rp.triggers
	for w.horizon < len(trs) && trs[w.horizon].zxid <= through {
		w.expandOne()
	}
}

func (w *sessionWatches) expandOne() {
	i := w.horizon
	w.horizon++
	if w.matches(w.rp.triggers[i], w.standard) {
		w.expected = append(w.expected, expectedEvent{trigger: i})
	}
}

// matches reports whether a trigger notifies this session, consuming from standard the
// watches it fires (one notification per trigger, however many watches match).
func (w *sessionWatches) matches(tr trigger, standard map[watchKey]standardWatch) bool {
	hit := false
	fire := func(k watchKey) {
		if s, ok := standard[k]; ok && s.since < tr.zxid {
			delete(standard, k)
			hit = true
		}
	}
	switch tr.typ {
	case wire.EventNodeCreated, wire.EventNodeDataChanged:
		fire(watchKey{tr.path, tableData})
	case wire.EventNodeChildrenChanged:
		fire(watchKey{tr.path, tableChild})
	case wire.EventNodeDeleted:
		fire(watchKey{tr.path, tableData})
		fire(watchKey{tr.path, tableChild})
	}
	for _, p := range w.persistent {
		hit = hit || p.fires(tr)
	}
	return hit
}

// lookAhead finds the first trigger past the horizon that would notify this session with
// e's type and path, without changing any state; -1 if none.
func (w *sessionWatches) lookAhead(e *WatchEvent) int {
	standard := make(map[watchKey]standardWatch, len(w.standard))
	for k, v := range w.standard {
		standard[k] = v
	}
	for i := w.horizon; i < len(w.rp.triggers); i++ {
		tr := w.rp.triggers[i]
		if w.matches(tr, standard) && tr.typ == e.Type && tr.path == e.Path {
			return i
		}
	}
	return -1
}

// isUnder reports whether path is a strict descendant of root.
func isUnder(path, root string) bool {
	if root == "/" {
		return path != "/"
	}
	return strings.HasPrefix(path, root+"/")
}

// event matches a received event with the earliest expected trigger of its type and
// path, expanding triggers no reply has reached yet if needed (the event announces one).
func (w *sessionWatches) event(e *WatchEvent) {
	i := slices.IndexFunc(w.expected, func(x expectedEvent) bool {
		tr := w.rp.triggers[x.trigger]
		return tr.typ == e.Type && tr.path == e.Path
	})
	if i < 0 {
		ahead := w.lookAhead(e)
		if ahead < 0 {
			w.r.add(Violation{Check: CheckWatchOneShot,
				Detail: "event matches no armed watch's next trigger (a one-shot watch fired twice, " +
					"for a trigger it was not set for, or with the wrong type or path)",
				Events: []WatchEvent{*e}})
			return
		}
		for w.horizon <= ahead {
			w.expandOne()
		}
		i = len(w.expected) - 1
	}
	for j := range w.expected[:i] {
		if w.expected[j].reported {
			continue
		}
		first := w.rp.triggers[w.expected[j].trigger]
		w.r.add(Violation{Check: CheckWatchDelivered,
			Detail: fmt.Sprintf("event lost or out of zxid order: %s(%q) for the txn at %s was due before",
				eventName(first.typ), first.path, formatZxid(first.zxid)),
			Events: []WatchEvent{*e}})
		w.expected[j].reported = true
	}
	w.expected = slices.Delete(w.expected, i, i+1)
}

// reply takes a reply: every trigger at or below its zxid must have been told already;
// then the watch the request set (if any) is armed at that zxid.
func (w *sessionWatches) reply(o *Op) {
	if len(w.standard) == 0 && len(w.persistent) == 0 {
		// A client holding no watch reconnects without setWatches (the Java client's
		// primeConnection sends one only for watches it holds), so a reply below an
		// event's trigger may come from a new connection to a lagging server. One holding
		// watches re-arms them first, and that reply rewinds (reconnect): without it, the
		// reply is on the connection that sent the event, and a server past the trigger
		// cannot answer below it.
		w.rewind(o.Zxid)
	}
	w.expand(o.Zxid)
	w.requireDelivered(o)
	w.lastZxid = max(w.lastZxid, o.Zxid)
	switch o.Type {
	case wire.OpExists, wire.OpGetData:
		if o.Request.Watch && (o.Err == wire.ErrOK || (o.Type == wire.OpExists && o.Err == wire.ErrNoNode)) {
			w.arm(watchKey{o.Request.Path, tableData}, o, o.Err == wire.ErrNoNode)
		}
	case wire.OpGetChildren, wire.OpGetChildren2:
		if o.Request.Watch && o.Err == wire.ErrOK {
			w.arm(watchKey{o.Request.Path, tableChild}, o, false)
		}
	case wire.OpAddWatch:
		if o.Err == wire.ErrOK {
			w.persistent = append(w.persistent, persistentWatch{path: o.Request.Path,
				recursive: o.Request.WatchMode == wire.AddWatchPersistentRecursive, since: o.Zxid,
				data: true, child: true, held: true})
		}
	case wire.OpRemoveWatches:
		if o.Err == wire.ErrOK {
			w.remove(o.Request.Path, o.Request.WatchType)
		}
	}
}

func (w *sessionWatches) requireDelivered(o *Op) {
	for _, x := range w.expected {
		if x.reported {
			continue
		}
		tr := w.rp.triggers[x.trigger]
		w.r.add(Violation{Check: CheckWatchDelivered,
			Detail: fmt.Sprintf("no %s(%q) event for the txn at zxid %s before this reply at %s",
				eventName(tr.typ), tr.path, formatZxid(tr.zxid), formatZxid(o.Zxid)),
			Ops: []Op{*o}})
	}
	w.expected = w.expected[:0]
}

func (w *sessionWatches) arm(k watchKey, by *Op, exist bool) {
	if _, armed := w.standard[k]; armed {
		return // one entry per path and table: the earlier registration stands
	}
	w.standard[k] = standardWatch{since: by.Zxid, exist: exist, by: by}
}

func (w *sessionWatches) remove(path string, typ wire.WatcherType) {
	if typ == wire.WatcherData || typ == wire.WatcherAny {
		delete(w.standard, watchKey{path, tableData})
	}
	if typ == wire.WatcherChildren || typ == wire.WatcherAny {
		delete(w.standard, watchKey{path, tableChild})
	}
	for i := range w.persistent {
		if p := &w.persistent[i]; p.path == path {
			p.data = p.data && typ == wire.WatcherChildren
			p.child = p.child && typ == wire.WatcherData
			p.held = p.held && typ != wire.WatcherAny
		}
	}
	w.persistent = slices.DeleteFunc(w.persistent, func(p persistentWatch) bool { return !p.data && !p.child && !p.held })
}

// reconnect takes a setWatches reply: the old connection's watches are gone, and the
// server answered each re-armed standard watch against its state at the reply's zxid,
// relative to the last zxid the session had seen (zk-protocol.md §8.6).
func (w *sessionWatches) reconnect(o *Op, replays []*WatchEvent) {
	w.requireDelivered(o)
	rel, at := w.lastZxid, o.Zxid
	want := w.replaysDue(rel, at)
	for _, x := range want {
		delete(w.standard, x.key)
	}
	for k, s := range w.standard {
		s.since = at
		w.standard[k] = s
	}
	for i := range w.persistent {
		p := &w.persistent[i]
		p.since = at // re-registered without replay, whole (setWatches2 lists paths only)
		p.data, p.child = true, true
	}
	// The triggers up to at were missed while disconnected, or are replaced by the
	// replays; the ones past it the new server fires as it applies them, even those an
	// event from the old server already told (rewind).
	w.rewind(at)
	trs := w.rp.triggers
	for w.horizon < len(trs) && trs[w.horizon].zxid <= at {
		w.horizon++
	}
	w.lastZxid = max(w.lastZxid, at)
	for _, e := range replays {
		i := slices.IndexFunc(want, func(x replay) bool { return x.typ == e.Type && x.key.path == e.Path })
		if i < 0 {
			w.r.add(Violation{Check: CheckWatchOneShot,
				Detail: fmt.Sprintf("setWatches replayed an event no re-armed watch was due (relative zxid %s, server at %s)",
					formatZxid(rel), formatZxid(at)),
				Ops: []Op{*o}, Events: []WatchEvent{*e}})
			continue
		}
		want = slices.Delete(want, i, i+1)
	}
	for _, x := range want {
		w.r.add(Violation{Check: CheckWatchDelivered,
			Detail: fmt.Sprintf("setWatches (relative zxid %s, server at %s) did not replay %s(%q)",
				formatZxid(rel), formatZxid(at), eventName(x.typ), x.key.path),
			Ops: []Op{*o}})
	}
}

// lostReconnect takes a setWatches whose reply never came (ConnectionLoss, or no answer
// by the end of the run). The server may have applied it, at some zxid at or past the
// relative zxid (a server behind the client's last zxid refuses the connection,
// zk-protocol.md §2.3), and sent some of its replays before the connection died; nothing
// else can reach the client on that connection before the lost reply. So the events are
// part of the replays due at one such zxid, and each consumed what the client's watch
// table held, as the client's own bookkeeping did; the watches not replayed stay armed,
// and the next setWatches sends them again relative to the same zxid.
func (w *sessionWatches) lostReconnect(o *Op, replays []*WatchEvent) {
	if len(replays) == 0 {
		return // applied or not, the client re-arms the same watches next time
	}
	rel := w.lastZxid
	for _, at := range w.replayZxids(rel) {
		want := w.replaysDue(rel, at)
		if !coversEvents(want, replays) {
			continue
		}
		for _, e := range replays {
			w.consume(e)
		}
		return
	}
	w.r.add(Violation{Check: CheckWatchOneShot,
		Detail: fmt.Sprintf("setWatches whose reply was lost replayed events no server state at or past "+
			"the relative zxid %s makes due", formatZxid(rel)),
		Ops: []Op{*o}, Events: derefEvents(replays)})
}

// replay is one event a setWatches owes for a re-armed standard watch.
type replay struct {
	key watchKey
	typ wire.EventType
}

// replaysDue lists, in key order, the replays a server at zxid at owes the session's
// standard watches relative to zxid rel: a deleted znode, a change since rel, or an exist
// watch's znode now there (zk-protocol.md §8.6).
func (w *sessionWatches) replaysDue(rel, at int64) []replay {
	var due []replay
	for _, k := range w.sortedKeys() {
		s := w.standard[k]
		exists := w.rp.existsAt(k.path, at)
		var typ wire.EventType
		switch {
		case k.table == tableData && s.exist:
			if exists {
				typ = wire.EventNodeCreated
			}
		case !exists:
			typ = wire.EventNodeDeleted
		case k.table == tableData && w.rp.changedIn(k.path, rel, at, wire.EventNodeCreated, wire.EventNodeDataChanged):
			typ = wire.EventNodeDataChanged
		case k.table == tableChild && w.rp.changedIn(k.path, rel, at, wire.EventNodeCreated, wire.EventNodeChildrenChanged):
			typ = wire.EventNodeChildrenChanged
		}
		if typ != 0 {
			due = append(due, replay{key: k, typ: typ})
		}
	}
	return due
}

// replayZxids are the server states a lost setWatches may have been answered at that
// differ in what they replay: rel, and every later trigger at a watched path.
func (w *sessionWatches) replayZxids(rel int64) []int64 {
	zxids := []int64{rel}
	for _, k := range w.sortedKeys() {
		for _, i := range w.rp.byPath[k.path] {
			if z := w.rp.triggers[i].zxid; z > rel {
				zxids = append(zxids, z)
			}
		}
	}
	slices.Sort(zxids)
	return slices.Compact(zxids)
}

// coversEvents reports whether every event is a distinct one of want.
func coversEvents(want []replay, events []*WatchEvent) bool {
	left := slices.Clone(want)
	for _, e := range events {
		i := slices.IndexFunc(left, func(x replay) bool { return x.typ == e.Type && x.key.path == e.Path })
		if i < 0 {
			return false
		}
		left = slices.Delete(left, i, i+1)
	}
	return true
}

// consume drops the watches an event fires from the session's table, as the client's
// watch manager does (a NodeDeleted clears both tables of its path).
func (w *sessionWatches) consume(e *WatchEvent) {
	switch e.Type {
	case wire.EventNodeCreated, wire.EventNodeDataChanged:
		delete(w.standard, watchKey{e.Path, tableData})
	case wire.EventNodeChildrenChanged:
		delete(w.standard, watchKey{e.Path, tableChild})
	case wire.EventNodeDeleted:
		delete(w.standard, watchKey{e.Path, tableData})
		delete(w.standard, watchKey{e.Path, tableChild})
	}
}

func (w *sessionWatches) sortedKeys() []watchKey {
	keys := make([]watchKey, 0, len(w.standard))
	for k := range w.standard {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b watchKey) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return int(a.table) - int(b.table)
	})
	return keys
}

func derefEvents(events []*WatchEvent) []WatchEvent {
	out := make([]WatchEvent, len(events))
	for i, e := range events {
		out[i] = *e
	}
	return out
}
