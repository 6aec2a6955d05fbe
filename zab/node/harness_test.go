package node

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// The in-test world: members on a network that delays messages (in order per link, like TCP)
// and can be cut, disks on which a write is durable some milliseconds after it was issued
// and a crash loses what was not, and clients speaking the wire protocol. One seed decides
// every delay, so a failing seed replays exactly.

type testRand struct{ r *rand.Rand }

func (t testRand) Uint64() uint64 { return t.r.Uint64() }

// disk is one member's durable state, the shape zab/storage recovers.
type disk struct {
	acceptedEpoch, currentEpoch zab.Epoch
	snap                        zab.Snapshot
	log                         []zab.Txn
}

// apply executes one write as zab/storage does. A snapshot install below the newest
// snapshot is superseded and writes nothing (storage.Store.PersistSnapshot): zab is not told
// of the snapshots the member saves, so a leader whose state machine lags can SNAP below one.
func (d *disk) apply(w zab.Persist) {
	if w.Snapshot != nil && w.Snapshot.Zxid >= d.snap.Zxid {
		d.snap = *w.Snapshot
		d.log = slices.DeleteFunc(d.log, func(t zab.Txn) bool { return t.Zxid <= w.Snapshot.Zxid })
	}
	if w.Truncate {
		d.log = slices.DeleteFunc(d.log, func(t zab.Txn) bool { return t.Zxid > w.TruncateAfter })
	}
	d.log = append(d.log, w.Entries...)
	if w.SetAcceptedEpoch {
		d.acceptedEpoch = w.AcceptedEpoch
	}
	if w.SetCurrentEpoch {
		d.currentEpoch = w.CurrentEpoch
	}
}

func (d *disk) lastLogged() zab.Zxid {
	if len(d.log) > 0 {
		return d.log[len(d.log)-1].Zxid
	}
	return d.snap.Zxid
}

func (d *disk) recovered() Recovered {
	return Recovered{Snapshot: d.snap.Data, Zab: zab.Recovered{AcceptedEpoch: d.acceptedEpoch,
		CurrentEpoch: d.currentEpoch, SnapshotZxid: d.snap.Zxid, Log: slices.Clone(d.log)}}
}

type pendingWrite struct {
	p  Persist
	at zab.Time
}

type member struct {
	id       zab.PeerID
	cfg      Config
	n        *Node
	up       bool
	restarts int
	durable  disk
	pending  []pendingWrite
	// committed is every txn the member applied (since its last start), for agreement checks.
	committed []Committed
	snapshots int
	// lastSnapshot is the member's newest SaveSnapshot with the bytes its View gave when the
	// output was executed: its View is serialized again at the member's next SaveSnapshot,
	// after the tree went on changing, and must give the same bytes (checkSnapshotView).
	lastSnapshot *savedSnapshot
}

type savedSnapshot struct {
	out   SaveSnapshot
	bytes []byte
}

type envelope struct {
	at  zab.Time
	seq uint64
	msg Message
}

type world struct {
	t        testing.TB
	seed     uint64
	rng      *rand.Rand
	now      zab.Time
	members  []*member
	queue    []envelope
	seq      uint64
	linkLast map[[2]zab.PeerID]zab.Time
	cut      map[[2]zab.PeerID]bool
	clients  map[ConnID]*client
	nextConn ConnID
	trace    hash.Hash64
	recent   []string
	// agreed is the committed (zxid, data, digest) history every member must agree with.
	agreed map[zab.Zxid]Committed
	// changed lists, per path, the zxids of committed txns that changed its data or existence.
	changed map[string][]zab.Zxid
	opt     worldOptions
	// drop, when set, loses the member messages it returns true for (a test's targeted loss).
	drop  func(Message) bool
	stats worldStats
}

// worldStats counts the rare paths a run reached (buggify_test.go compares them).
type worldStats struct {
	syncModes map[zab.MessageType]int // DIFF, TRUNC, SNAP headers sent
	// snapInstalls counts SNAP installs issued; snapshots the snapshots saved, of which
	// snapshotsInSync while the member was not in BROADCAST (electing or syncing).
	snapInstalls, snapshots, snapshotsInSync int
	// snapSuperseded counts SNAP installs that reached the disk below the member's own newer
	// snapshot (the store writes nothing for them).
	snapSuperseded int
	// windowWaits counts inputs after which requests waited for the leader's full window.
	windowWaits int
}

type worldOptions struct {
	members   int
	observers int // members beyond these are observers
	snapCount int
	// lossPerMille and dupPerMille drop and duplicate member messages.
	lossPerMille, dupPerMille int
	// configure adjusts each member's configuration.
	configure func(*Config)
}

func newWorld(t testing.TB, seed uint64, opt worldOptions) *world {
	w := &world{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 0xfeed)),
		linkLast: map[[2]zab.PeerID]zab.Time{}, cut: map[[2]zab.PeerID]bool{},
		clients: map[ConnID]*client{}, trace: fnv.New64a(), agreed: map[zab.Zxid]Committed{}, changed: map[string][]zab.Zxid{}, opt: opt,
		stats: worldStats{syncModes: map[zab.MessageType]int{}}}
	var voters, observers []zab.PeerID
	for i := 1; i <= opt.members+opt.observers; i++ {
		if i <= opt.members {
			voters = append(voters, zab.PeerID(i))
		} else {
			observers = append(observers, zab.PeerID(i))
		}
	}
	for _, id := range append(slices.Clone(voters), observers...) {
		m := &member{id: id, cfg: Config{ID: id, Voters: voters, Observers: observers, TickMillis: 100, InitLimitTicks: 10,
			SyncLimitTicks: 5, SnapCount: opt.snapCount}}
		if opt.configure != nil {
			opt.configure(&m.cfg)
		}
		w.members = append(w.members, m)
		w.start(m)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d; last trace lines:\n%s", seed, strings.Join(w.recent, "\n"))
		}
	})
	return w
}

func (w *world) start(m *member) {
	cfg := m.cfg
	cfg.Rand = testRand{rand.New(rand.NewPCG(w.seed, uint64(m.id)<<8|uint64(m.restarts)))}
	n, err := New(cfg, m.durable.recovered())
	require.NoError(w.t, err, "member %d must start from its disk (seed %d)", m.id, w.seed)
	m.n, m.up, m.pending, m.committed = n, true, nil, nil
}

func (w *world) member(id zab.PeerID) *member { return w.members[id-1] }

func (w *world) logf(format string, args ...any) {
	line := fmt.Sprintf("%6d ", w.now) + fmt.Sprintf(format, args...)
	w.trace.Write([]byte(line))
	w.recent = append(w.recent, line)
	if len(w.recent) > 60 {
		w.recent = w.recent[1:]
	}
}

// input hands one input to a member and carries out its outputs.
func (w *world) input(m *member, in Input) {
	if !m.up {
		return
	}
	for _, o := range m.n.Handle(w.now, in) {
		w.execute(m, o)
	}
	if len(m.n.waiting) > 0 {
		w.stats.windowWaits++
	}
}

func (w *world) execute(m *member, o Output) {
	switch o := o.(type) {
	case SendPeer:
		w.send(o.Message)
	case Persist:
		w.logf("%d persist id=%d entries=%d trunc=%v snap=%v", m.id, o.Write.ID, len(o.Write.Entries), o.Write.Truncate, o.Write.Snapshot != nil)
		if o.Write.Snapshot != nil {
			w.stats.snapInstalls++
		}
		m.pending = append(m.pending, pendingWrite{p: o, at: w.now + zab.Time(1+w.rng.IntN(3))})
	case ClientSend:
		w.logf("%d -> conn %d %x", m.id, o.Conn, o.Frame)
		if c := w.clients[o.Conn]; c != nil && !c.closed {
			c.receive(o.Frame)
		}
	case CloseClient:
		w.logf("%d close conn %d: %s", m.id, o.Conn, o.Reason)
		if c := w.clients[o.Conn]; c != nil {
			c.closed, c.closeReason = true, o.Reason
		}
	case SaveSnapshot:
		w.logf("%d save snapshot %v", m.id, o.Zxid)
		w.stats.snapshots++
		if m.n.Peer().Phase() != zab.Broadcast {
			w.stats.snapshotsInSync++
		}
		require.GreaterOrEqual(w.t, m.durable.lastLogged(), o.Zxid,
			"member %d saves a snapshot above its durable log (seed %d)", m.id, w.seed)
		data := w.checkSnapshotView(m, o)
		if o.Zxid > m.durable.snap.Zxid {
			m.durable.snap = zab.Snapshot{Zxid: o.Zxid, Data: data}
			m.durable.log = slices.DeleteFunc(m.durable.log, func(t zab.Txn) bool { return t.Zxid <= o.Zxid })
		}
		m.snapshots++
	case StateChanged:
		w.logf("%d state %v %v epoch=%d leader=%d (%s)", m.id, o.State.Role, o.State.Phase, o.State.Epoch, o.State.Leader, o.State.Reason)
	case Committed:
		w.logf("%d committed %v digest=%x", m.id, o.Zxid, o.Digest)
		m.committed = append(m.committed, o)
		if prev, ok := w.agreed[o.Zxid]; ok {
			require.Equal(w.t, prev.Data, o.Data, "member %d committed different bytes at %v (seed %d)", m.id, o.Zxid, w.seed)
			require.Equal(w.t, prev.Digest, o.Digest, "member %d has another digest at %v (seed %d)", m.id, o.Zxid, w.seed)
		} else {
			w.agreed[o.Zxid] = o
			w.recordChanges(o)
		}
	default:
		w.t.Fatalf("unknown output %T", o)
	}
}

// checkSnapshotView serializes a SaveSnapshot's View as a host does and checks it against
// the committed history: the bytes restore to a tree at o.Zxid whose digest is the one the
// members agreed on at o.Zxid. The member's previous View, serialized again now that the
// tree has gone on changing, must still give the bytes it gave then: the daemon serializes
// a View on another goroutine while the node applies more txns (tree.Freeze).
func (w *world) checkSnapshotView(m *member, o SaveSnapshot) []byte {
	w.t.Helper()
	if prev := m.lastSnapshot; prev != nil {
		require.Equal(w.t, prev.bytes, prev.out.View.Snapshot(),
			"member %d: the snapshot view at %v gave other bytes once the tree went on to %v (seed %d)",
			m.id, prev.out.Zxid, m.n.lastApplied, w.seed)
	}
	require.NotNil(w.t, o.View, "member %d: SaveSnapshot at %v without a view (seed %d)", m.id, o.Zxid, w.seed)
	data := o.View.Snapshot()
	restored, err := tree.Restore(m.n.tree.Config(), data)
	require.NoError(w.t, err, "member %d: the snapshot at %v must restore (seed %d)", m.id, o.Zxid, w.seed)
	require.LessOrEqual(w.t, restored.LastZxid(), int64(o.Zxid),
		"member %d: the snapshot saved for %v holds a tree from beyond it (seed %d)", m.id, o.Zxid, w.seed)
	if agreed, ok := w.agreed[o.Zxid]; ok {
		require.Equal(w.t, agreed.Digest, restored.Digest(),
			"member %d: the snapshot at %v restores to another digest than the committed one (seed %d)", m.id, o.Zxid, w.seed)
	}
	m.lastSnapshot = &savedSnapshot{out: o, bytes: data}
	return data
}

func (w *world) send(msg Message) {
	switch {
	case msg.Kind == KindZab && (msg.Zab.Type == zab.MsgDiff || msg.Zab.Type == zab.MsgTrunc || msg.Zab.Type == zab.MsgSnap):
		w.stats.syncModes[msg.Zab.Type]++
	}
	l := [2]zab.PeerID{msg.From, msg.To}
	if w.cut[l] || w.rng.IntN(1000) < w.opt.lossPerMille || w.drop != nil && w.drop(msg) {
		return
	}
	if w.rng.IntN(1000) < w.opt.dupPerMille {
		defer w.send(msg)
	}
	// Every message crosses the wire encoding, as in the daemon.
	decoded, err := UnmarshalMessage(msg.Marshal())
	require.NoError(w.t, err, "message %v must survive Marshal/Unmarshal", msg)
	at := max(w.now+zab.Time(1+w.rng.IntN(5)), w.linkLast[l])
	w.linkLast[l] = at
	w.seq++
	w.queue = append(w.queue, envelope{at: at, seq: w.seq, msg: decoded})
	sort.Slice(w.queue, func(i, j int) bool {
		return w.queue[i].at < w.queue[j].at || w.queue[i].at == w.queue[j].at && w.queue[i].seq < w.queue[j].seq
	})
}

// step advances to the next event and handles everything due then. It returns false when
// nothing is scheduled.
func (w *world) step() bool {
	next := zab.Time(1 << 62)
	if len(w.queue) > 0 {
		next = w.queue[0].at
	}
	for _, m := range w.members {
		if !m.up {
			continue
		}
		if len(m.pending) > 0 {
			next = min(next, m.pending[0].at)
		}
		next = min(next, m.n.NextDeadline())
	}
	if next == 1<<62 {
		return false
	}
	w.now = max(w.now, next)
	for _, m := range w.members {
		for m.up && len(m.pending) > 0 && m.pending[0].at <= w.now {
			p := m.pending[0].p
			m.pending = m.pending[1:]
			if p.Write.Snapshot != nil && p.Write.Snapshot.Zxid < m.durable.snap.Zxid {
				w.stats.snapSuperseded++
			}
			m.durable.apply(p.Write)
			for _, msg := range p.After {
				w.send(msg)
			}
			w.input(m, Persisted{ID: p.Write.ID})
		}
	}
	for len(w.queue) > 0 && w.queue[0].at <= w.now {
		e := w.queue[0]
		w.queue = w.queue[1:]
		if m := w.member(e.msg.To); m.up && !w.cut[[2]zab.PeerID{e.msg.From, e.msg.To}] {
			w.input(m, PeerMessage{Message: e.msg})
		}
	}
	for _, m := range w.members {
		if m.up && m.n.NextDeadline() <= w.now {
			w.input(m, Tick{})
		}
	}
	return true
}

// runFor runs the world for d milliseconds.
func (w *world) runFor(d zab.Time) {
	end := w.now + d
	for i := 0; i < 1_000_000; i++ {
		if !w.step() || w.now >= end {
			w.now = max(w.now, end)
			return
		}
	}
	w.t.Fatalf("world did not reach %d (seed %d)", end, w.seed)
}

// runUntil runs until cond holds, failing after limit milliseconds.
func (w *world) runUntil(what string, limit zab.Time, cond func() bool) {
	w.t.Helper()
	end := w.now + limit
	for i := 0; i < 1_000_000 && w.now <= end; i++ {
		if cond() {
			return
		}
		if !w.step() {
			break
		}
	}
	if !cond() {
		w.t.Fatalf("%s: not reached within %d ms (now %d, seed %d)", what, limit, w.now, w.seed)
	}
}

func (w *world) leader() *member {
	for _, m := range w.members {
		if m.up && m.n.Leading() {
			return m
		}
	}
	return nil
}

// stable runs until a leader is established and every live member serves.
func (w *world) stable() *member {
	w.t.Helper()
	w.runUntil("every live member serving", 20_000, func() bool {
		for _, m := range w.members {
			if m.up && !m.n.Serving() {
				return false
			}
		}
		return w.leader() != nil
	})
	return w.leader()
}

func (w *world) crash(m *member) {
	w.logf("%d CRASH", m.id)
	m.up = false
	m.pending = nil
	for _, c := range w.clients {
		if c.member == m.id {
			c.closed, c.closeReason = true, "server crashed"
		}
	}
}

func (w *world) restart(m *member) {
	m.restarts++
	w.logf("%d RESTART", m.id)
	w.start(m)
}

func (w *world) follower() *member {
	for _, m := range w.members {
		if m.up && m.n.Serving() && !m.n.Leading() {
			return m
		}
	}
	return nil
}

// recordChanges indexes which paths a committed txn changed (data, creation, deletion).
func (w *world) recordChanges(o Committed) {
	x, err := DecodeTxn(o.Data)
	require.NoError(w.t, err, "committed txn %v decodes", o.Zxid)
	if x.Sync {
		return
	}
	subs := []tree.Txn{x.Tree}
	if x.Tree.Type == wire.OpMulti {
		subs = x.Tree.Ops
	}
	for _, sub := range subs {
		switch sub.Type {
		case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL, wire.OpDelete,
			wire.OpDeleteContainer, wire.OpSetData:
			w.changed[sub.Path] = append(w.changed[sub.Path], o.Zxid)
		}
	}
	// A closeSession deletes the session's ephemerals without naming them, so this index
	// misses those deletions: the fault test watches persistent keys only.
}

// nextChange is the zxid of the first committed change of path after z (0 if none yet).
func (w *world) nextChange(path string, z zab.Zxid) zab.Zxid {
	for _, c := range w.changed[path] {
		if c > z {
			return c
		}
	}
	return 0
}
