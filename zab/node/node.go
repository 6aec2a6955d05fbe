package node

import (
	"fmt"
	"slices"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
)

// Node is one ensemble member. It is not safe for concurrent use: one host goroutine (or
// the simulator) calls Handle and NextDeadline.
type Node struct {
	cfg         Config
	peer        *zab.Peer
	tree        *tree.Tree
	watches     *tree.Watches
	incarnation uint64

	now     zab.Time
	started bool // Handle has run once
	out     []Output

	// applied holds what the state machine applied during the current peer.Handle call,
	// consumed in order as the peer's Deliver outputs are processed.
	applied     []appliedTxn
	lastApplied zab.Zxid
	serve       serving
	leaderID    zab.PeerID // from the last StateChanged

	conns         map[ConnID]*conn
	sessions      map[int64]ConnID // sessions with a connection on this member
	touched       map[int64]int32  // sessions to touch at the leader at the next tick
	sessionIDNext int64
	nextTickAt    zab.Time

	// Leader state, valid while serve.leading.
	tracker      map[int64]*trackedSession
	lastProposed zab.Zxid
	reapAt       zab.Time
	// waiting holds forwarded requests that wait for the window (lead), oldest first.
	waiting      []waitingForward
	waitingBytes int

	snap snapshotter
	// lateEvents holds watch events held back until after the step's replies: only
	// Bugs.WatchEventAfterReply uses it.
	lateEvents []ClientSend
}

// serving is what the member currently does for clients. It serves only while it is an
// established leader or a learner in the broadcast phase; any change of it closes every
// client connection.
type serving struct {
	serving bool
	leading bool
	leader  zab.PeerID
	epoch   zab.Epoch
}

// New starts a member from the durable state the host recovered.
func New(cfg Config, rec Recovered) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Voters = slices.Clone(cfg.Voters)
	cfg.Observers = slices.Clone(cfg.Observers)
	n := &Node{
		cfg:      cfg,
		watches:  tree.NewWatches(),
		conns:    make(map[ConnID]*conn),
		sessions: make(map[int64]ConnID),
		touched:  make(map[int64]int32),
	}
	if rec.Snapshot != nil {
		t, err := tree.Restore(cfg.Tree, rec.Snapshot)
		if err != nil {
			return nil, fmt.Errorf("node: recovered snapshot: %w", err)
		}
		n.tree = t
	} else {
		n.tree = tree.New(cfg.Tree)
	}
	n.lastApplied = rec.Zab.SnapshotZxid
	p, err := zab.NewPeer(cfg.zabConfig(machine{n}), rec.Zab)
	if err != nil {
		return nil, err
	}
	n.peer = p
	n.snap.durable = p.LastLogged()
	n.snap.logEnd = p.LastLogged()
	n.incarnation = cfg.Rand.Uint64()
	n.sessionIDNext = firstSessionID(cfg.ID, cfg.Rand)
	n.snap.init(cfg.SnapCount, cfg.Rand)
	return n, nil
}

// ID is the member's server id.
func (n *Node) ID() zab.PeerID { return n.cfg.ID }

// Peer exposes the zab peer for inspection (role, phase, history); never drive it directly.
func (n *Node) Peer() *zab.Peer { return n.peer }

// Tree exposes the applied tree for inspection (digest, reads in tests); never mutate it.
func (n *Node) Tree() *tree.Tree { return n.tree }

// LastApplied is the zxid of the last txn applied (the zxid replies carry).
func (n *Node) LastApplied() zab.Zxid { return n.lastApplied }

// Serving reports whether the member currently accepts clients.
func (n *Node) Serving() bool { return n.serve.serving }

// Leading reports whether the member is the established leader.
func (n *Node) Leading() bool { return n.serve.leading }

// Stats are counters for the host's metrics and four-letter words.
type Stats struct {
	Connections     int // open client connections
	Sessions        int // sessions with a connection on this member
	Watches         int // (path, session) entries in the watch tables
	TrackedSessions int // sessions in the leader's tracker (0 unless leading)
	Outstanding     int // prepared, unapplied path and session changes (leader)
	// ForwardsWaiting counts requests waiting at the leader for its proposal window.
	ForwardsWaiting int
	LastApplied     zab.Zxid
	// LogTxns and LogBytes are what zab holds of the txn log in memory (zab.Peer.Retained):
	// bounded by Config.DiffTxnsMax, whatever the write load.
	LogTxns, LogBytes int
}

// Stats returns the member's current counters.
func (n *Node) Stats() Stats {
	txns, bytes := n.peer.Retained()
	return Stats{Connections: len(n.conns), Sessions: len(n.sessions), Watches: n.watches.Count(),
		TrackedSessions: len(n.tracker), Outstanding: n.tree.Outstanding(), ForwardsWaiting: len(n.waiting), LastApplied: n.lastApplied,
		LogTxns: txns, LogBytes: bytes}
}

// DataWatchTable copies the data-watch table of this member's sessions, sorted: what
// ZooKeeper's wchs, wchc and wchp print (child watches are only in Stats.Watches).
func (n *Node) DataWatchTable() tree.DataWatchTable { return n.watches.DataWatchTable() }

// Handle feeds one input at time now (milliseconds; never backwards) and returns the outputs
// the host must execute, in order.
func (n *Node) Handle(now zab.Time, in Input) []Output {
	n.assertf(now >= n.now, "time went backwards: %d after %d", now, n.now)
	n.now = now
	n.out = nil
	if !n.started {
		n.started = true
		n.writeConfig()
	}
	switch in := in.(type) {
	case Tick:
		if n.peer.Role() == 0 || now >= n.peer.NextDeadline() {
			n.runPeer(zab.Tick{})
		}
		n.tick()
	case PeerMessage:
		n.receive(in.Message)
	case ClientConnected:
		n.clientConnected(in.Conn, in.Remote)
	case ClientFrame:
		n.clientFrame(in.Conn, in.Payload)
	case ClientClosed:
		if c := n.conns[in.Conn]; c != nil {
			n.dropConn(c)
		}
	case Persisted:
		n.snap.persisted(in.ID)
		n.runPeer(zab.Persisted{ID: in.ID})
	default:
		panic(fmt.Sprintf("node: unknown input %T", in))
	}
	n.takeWaiting()
	n.settle()
	for _, e := range n.lateEvents {
		if n.conns[e.Conn] != nil {
			n.emit(e)
		}
	}
	n.lateEvents = nil
	n.maybeSaveSnapshot()
	out := n.out
	n.out = nil
	return out
}

// NextDeadline is the earliest time at which a Tick has work to do.
func (n *Node) NextDeadline() zab.Time {
	d := n.peer.NextDeadline()
	if n.peer.Role() == 0 {
		return n.now
	}
	if len(n.conns) > 0 || len(n.touched) > 0 || (n.serve.leading && len(n.tracker) > 0) {
		d = min(d, n.nextTickAt)
	}
	return d
}

// runPeer hands one input to zab and carries out its outputs: messages and persists go to
// the host, deliveries become replies and watch events, role changes start or stop serving.
func (n *Node) runPeer(in zab.Input) (proposed zab.Zxid) {
	outs := n.peer.Handle(n.now, in)
	for _, o := range outs {
		switch o := o.(type) {
		case zab.Send:
			n.emit(SendPeer{Message: wrapZab(o.Message)})
		case zab.Persist:
			after := make([]Message, len(o.After))
			for i, m := range o.After {
				after[i] = wrapZab(m)
			}
			o.After = nil
			n.snap.issued(o)
			n.emit(Persist{Write: o, After: after})
		case zab.Deliver:
			n.deliver(o.Txn)
		case zab.Restored:
			n.restored(o.Zxid)
		case zab.StateChanged:
			if o.Role == zab.Looking {
				n.leaderID = 0
			} else {
				n.leaderID = o.Leader
			}
			n.emit(StateChanged{State: o})
		case zab.Proposed:
			proposed = o.Zxid
		case zab.Rejected:
			// propose checks everything zab checks before it prepares a txn; a rejection now
			// would leave an outstanding change that never applies.
			n.assertf(false, "zab rejected a proposal: %v", o.Err)
		}
	}
	n.assertf(len(n.applied) == 0, "%d applied txns without a Deliver", len(n.applied))
	n.updateServing()
	return proposed
}

func (n *Node) emit(o Output) { n.out = append(n.out, o) }

// updateServing starts or stops serving clients when zab's role, leader or epoch changed.
func (n *Node) updateServing() {
	role := n.peer.Role()
	s := serving{leader: n.leaderID, epoch: n.peer.Epoch()}
	switch {
	case role == zab.Leading && n.peer.Established():
		s.serving, s.leading = true, true
	case (role == zab.Following || role == zab.Observing) && n.peer.Phase() == zab.Broadcast && s.leader != 0:
		s.serving = true
	case n.cfg.Bugs.ServeBeforeSynced && (role == zab.Following || role == zab.Observing) && n.peer.Phase() == zab.Synchronization && s.leader != 0:
		s.serving = true // D1: the rule is to serve only once the leader said UPTODATE
	}
	if !s.serving {
		s = serving{}
	}
	if s == n.serve {
		return
	}
	old := n.serve
	n.serve = s
	if old.serving {
		n.closeAll("server stopped serving: " + n.peer.Role().String())
		clear(n.touched)
	}
	if old.leading {
		n.stopLeading()
	}
	if s.leading {
		n.startLeading()
	} else if s.serving {
		n.writeConfig()
	}
}

// writeConfig stamps /zookeeper/config with the member's clock, as a quorum peer of
// ZooKeeper 3.8 does when it starts and each time it syncs with a leader as a learner
// (ZKDatabase.initConfigInZKDatabase, called from QuorumPeerMain and
// Learner.syncWithLeader): clients see version -1 and that mtime. A leader keeps the mtime it
// had. Standalone (no DynamicConfig) never writes it, as ZooKeeperServerMain does not.
func (n *Node) writeConfig() {
	if n.cfg.Tree.DynamicConfig != nil {
		n.tree.ConfigWritten(int64(n.now))
	}
}

// closeAll closes every client connection, in id order.
func (n *Node) closeAll(reason string) {
	for _, id := range sortedKeys(n.conns) {
		n.closeConn(n.conns[id], reason)
	}
}

func (n *Node) tick() {
	if n.now < n.nextTickAt {
		return
	}
	n.nextTickAt = n.now + zab.Time(n.cfg.TickMillis)
	n.expireConns()
	if n.serve.leading {
		n.expireSessions()
		n.reap()
	} else {
		n.flushTouches()
	}
}

// receive dispatches a member's message.
func (n *Node) receive(m Message) {
	if m.To != n.cfg.ID || m.From == n.cfg.ID ||
		!slices.Contains(n.cfg.Voters, m.From) && !slices.Contains(n.cfg.Observers, m.From) {
		return // not for us, or not from a member
	}
	switch m.Kind {
	case KindZab:
		m.Zab.From = m.From
		m.Zab.To = m.To
		n.runPeer(zab.Receive{Message: m.Zab})
	case KindForward:
		if ans, ok := n.lead(m.Epoch, m.Stream, m.Forward); ok {
			ans.From, ans.To = n.cfg.ID, m.From
			n.emit(SendPeer{Message: ans})
		}
	case KindRevalidated, KindRefused:
		if n.serve.serving && !n.serve.leading && m.From == n.serve.leader && m.Epoch == n.serve.epoch {
			n.answered(m)
		}
	case KindTouch:
		if n.serve.leading && m.Epoch == n.serve.epoch {
			for _, t := range m.Touches {
				n.touchSession(t.Session, t.TimeoutMs)
			}
		}
	}
}

func sortedKeys[K ~int64 | ~uint64, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
