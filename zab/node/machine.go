package node

import (
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// machine is the node's tree as zab's StateMachine. zab calls it synchronously inside
// Peer.Handle; the results wait in Node.applied until runPeer reaches the matching Deliver
// output, so client outputs keep their place among zab's.
type machine struct{ n *Node }

// appliedTxn is one txn applied to the tree, with what replying and firing watches need.
type appliedTxn struct {
	zxid   zab.Zxid
	data   []byte
	txn    Txn
	result tree.Applied
	digest uint64
}

// Apply executes a committed txn. Bytes that do not decode mean the replicated log is
// corrupt or written by another program: the member must stop, not diverge.
func (m machine) Apply(zxid zab.Zxid, data []byte) {
	n := m.n
	x, err := DecodeTxn(data)
	n.assertf(err == nil, "committed txn %v does not decode: %v", zxid, err)
	a := appliedTxn{zxid: zxid, data: data, txn: x}
	if !x.Sync {
		a.result = n.tree.Apply(int64(zxid), x.Tree)
	}
	a.digest = n.tree.Digest()
	n.applied = append(n.applied, a)
}

func (m machine) Snapshot() []byte { return m.n.tree.Snapshot() }

// Restore replaces the tree with a leader's snapshot (SNAP). The member is synchronizing, so
// it serves no client and has no watches to keep.
func (m machine) Restore(data []byte) error {
	t, err := tree.Restore(m.n.cfg.Tree, data)
	if err != nil {
		return err
	}
	m.n.tree = t
	m.n.watches = tree.NewWatches()
	return nil
}

// restored notes a SNAP install: what was applied before it is superseded.
func (n *Node) restored(z zab.Zxid) {
	n.lastApplied = z
	n.snap.restored(z)
}

// deliver processes the next applied txn: the Committed output, watch events for this
// member's sessions (sent at once, so before any later reply), the session table, and the
// reply for a request of this member's streams, which waits for its turn in the FIFO.
func (n *Node) deliver(t zab.Txn) {
	n.assertf(len(n.applied) > 0 && n.applied[0].zxid == t.Zxid, "Deliver %v without a matching Apply", t.Zxid)
	a := n.applied[0]
	n.applied = n.applied[1:]
	n.lastApplied = a.zxid
	n.emit(Committed{Zxid: a.zxid, Data: a.data, Digest: a.digest})
	n.snap.applied(a.zxid)
	if !a.txn.Sync {
		n.fireWatches(a.result.Events)
		switch a.txn.Tree.Type {
		case wire.OpCreateSession:
			if n.serve.leading && n.tracker[a.txn.Tree.SessionID] == nil {
				n.track(a.txn.Tree.SessionID, a.txn.Tree.TimeoutMs, Stream{}, 0)
			}
		case wire.OpCloseSession:
			n.sessionClosed(a)
		}
	}
	if a.txn.Origin.Stream.Server == n.cfg.ID && a.txn.Origin.Stream.Incarnation == n.incarnation {
		if c := n.conns[a.txn.Origin.Stream.Conn]; c != nil {
			n.answer(c, a)
		}
	}
}

// fireWatches sends the watch events of this member's sessions.
func (n *Node) fireWatches(events []tree.Event) {
	if len(events) == 0 {
		return
	}
	notes := n.watches.Fire(events, func(session int64) []wire.Id {
		if c := n.sessionConn(session); c != nil {
			return c.auth
		}
		return nil
	})
	for _, note := range notes {
		if c := n.sessionConn(note.SessionID); c != nil {
			send := ClientSend{Conn: c.id, Frame: wire.AppendNotification(nil, note.Event)}
			if n.cfg.Bugs.WatchEventAfterReply {
				n.lateEvents = append(n.lateEvents, send) // the rule: the event precedes any later reply
				continue
			}
			n.emit(send)
			if n.cfg.Bugs.WatchFiredTwice {
				n.emit(send) // the rule: a watch is one-shot, its event leaves once
			}
		}
	}
}

// sessionClosed ends a session everywhere: the leader stops tracking it, and the member
// holding its connection closes it, right away on expiry, after the reply when the client
// asked for the close (zk-protocol.md §3.4).
func (n *Node) sessionClosed(a appliedTxn) {
	id := a.txn.Tree.SessionID
	delete(n.tracker, id)
	c := n.sessionConn(id)
	if c == nil {
		return
	}
	if a.txn.Origin.Stream == n.stream(c) {
		return // answer closes it after the reply
	}
	n.closeConn(c, "session closed or expired")
}

// snapshotter decides when to save a snapshot: after a randomized number of applied txns
// (ZooKeeper's SyncRequestProcessor rolls snapCount/2 + rand(snapCount/2)), and only once the
// log is durable up to the snapshot's zxid, which storage requires.
type snapshotter struct {
	snapCount int
	rand      zab.Rand
	threshold int
	count     int
	// due is a snapshot taken and waiting for the log to be durable up to its zxid.
	due     *SaveSnapshot
	pending []persistEnd // issued persists with the log end they leave behind
	durable zab.Zxid     // the log is durable up to here
	logEnd  zab.Zxid
}

type persistEnd struct {
	id     uint64
	logEnd zab.Zxid
}

func (s *snapshotter) init(snapCount int, r zab.Rand) {
	s.snapCount, s.rand = snapCount, r
	s.roll()
}

func (s *snapshotter) roll() {
	half := s.snapCount / 2
	s.threshold = half + int(s.rand.Uint64()%uint64(half))
	s.count = 0
}

func (s *snapshotter) issued(w zab.Persist) {
	if w.Snapshot != nil {
		s.logEnd = max(s.logEnd, w.Snapshot.Zxid)
	}
	if w.Truncate {
		s.logEnd = min(s.logEnd, w.TruncateAfter)
	}
	if len(w.Entries) > 0 {
		s.logEnd = w.Entries[len(w.Entries)-1].Zxid
	}
	s.pending = append(s.pending, persistEnd{id: w.ID, logEnd: s.logEnd})
}

func (s *snapshotter) persisted(id uint64) {
	i := 0
	for i < len(s.pending) && s.pending[i].id <= id {
		s.durable = s.pending[i].logEnd
		i++
	}
	s.pending = s.pending[i:]
}

func (s *snapshotter) applied(zab.Zxid) { s.count++ }

// restored drops a snapshot taken before a SNAP install: it is older than the installed one.
func (s *snapshotter) restored(zab.Zxid) {
	s.due = nil
	s.count = 0
}

// maybeSaveSnapshot takes a snapshot once enough txns were applied (at the end of Handle,
// when the tree is exactly at lastApplied), and emits it once the log covers it.
func (n *Node) maybeSaveSnapshot() {
	s := &n.snap
	if s.due == nil && (s.count >= s.threshold || s.count > 0 && n.buggify(BuggifySnapshotNow)) {
		// Freeze, not Snapshot: the step that crosses snapCount costs a copy of the ACL lists
		// and sessions instead of the whole tree's serialization (BenchmarkSnapshotStall).
		view := n.tree.Freeze()
		// Equal unless sync txns came last: they are applied without touching the tree.
		n.assertf(view.LastZxid() <= int64(n.lastApplied), "snapshot view at %#x above applied %v", view.LastZxid(), n.lastApplied)
		s.due = &SaveSnapshot{Zxid: n.lastApplied, View: view}
		s.roll()
	}
	if s.due != nil && s.durable >= s.due.Zxid {
		n.emit(*s.due)
		s.due = nil
	}
}
