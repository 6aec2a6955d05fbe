package cluster

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/storage"
)

// server is one ensemble member across all its lives: its host, disk and counters. A life
// (one boot until the next crash) is the sim.Machine the host runs.
type server struct {
	c         *Cluster
	id        zab.PeerID
	name      string
	host      *sim.Host[input, zab.Output]
	disk      *vdisk.Disk
	zabRand   *rand.Rand // one stream across lives, so session nonces never repeat
	snapCount int

	boots int
	// refused is the error recovery refused to start with (a corrupt disk); the server
	// stays out of service from then on.
	refused error
}

// life is one boot of a server: the zab.Peer, the Store it writes with and the state
// machine, plus the group commit in progress.
type life struct {
	s     *server
	peer  *zab.Peer
	store *storage.Store
	sm    *listMachine

	// proposing is the payload of the Propose being handled, for its Proposed output.
	proposing []byte
	// batch holds the persists written since the last Sync, in ID order; flushing says a
	// Sync is scheduled (group commit: every persist issued before it rides on it).
	batch    []zab.Persist
	flushing bool
	// restored is the zxid of the last SNAP the peer restored (zab.Restored precedes the
	// Persist that writes it), to tell SNAP writes from periodic snapshots in the stats.
	restored zab.Zxid

	// The FIFO connections (fifo.go).
	outSeq  map[zab.PeerID]uint64
	inbound map[zab.PeerID]*inbound
}

// input is what a host hands its life: one zab input, or the peer messages a connection
// made deliverable (none, one, or several after a gap closed).
type input struct {
	zab   zab.Input
	from  zab.PeerID
	batch []envelope
}

// Handle feeds the peer; a refused life ignores everything.
func (l *life) Handle(nowMs int64, in input) []zab.Output {
	if l.peer == nil {
		return nil
	}
	l.proposing = nil
	if in.zab != nil {
		if p, ok := in.zab.(zab.Propose); ok {
			l.proposing = p.Data
		}
		return l.peer.Handle(zab.Time(nowMs), in.zab)
	}
	var outs []zab.Output
	for _, e := range in.batch {
		m, ok := l.s.decode(in.from, e.data)
		if l.s.current() != l {
			break // a scenario hook crashed the server on this message
		}
		if !ok {
			continue
		}
		outs = append(outs, l.peer.Handle(zab.Time(nowMs), zab.Receive{Message: m})...)
	}
	return outs
}

// NextDeadline is the peer's next deadline.
func (l *life) NextDeadline() (int64, bool) {
	if l.peer == nil {
		return 0, false
	}
	return int64(l.peer.NextDeadline()), true
}

func (s *server) program() sim.Program[input, zab.Output] {
	return sim.Program[input, zab.Output]{
		Boot:    func(h *sim.Host[input, zab.Output]) sim.Machine[input, zab.Output] { return s.boot(h) },
		Message: s.message,
		Tick:    func() input { return input{zab: zab.Tick{}} },
		Execute: func(h *sim.Host[input, zab.Output], out zab.Output) { s.execute(out) },
	}
}

// current is the running life, or nil while the server is down.
func (s *server) current() *life {
	if s.host == nil || !s.c.world.IsUp(s.name) {
		return nil
	}
	l, _ := s.host.Machine().(*life)
	return l
}

// peer is the running peer, or nil.
func (s *server) peer() *zab.Peer {
	if l := s.current(); l != nil {
		return l.peer
	}
	return nil
}

// boot recovers the server from its disk: storage.Recover repairs a torn tail (every cut is
// written to the trace) or refuses a damaged disk, the state machine is restored from the
// snapshot, and the peer starts from what the disk holds.
func (s *server) boot(h *sim.Host[input, zab.Output]) sim.Machine[input, zab.Output] {
	c := s.c
	s.host = h
	s.boots++
	if s.boots > 1 {
		c.stats.Crashes++
		c.observe(checker.ZabEvent{Kind: checker.ZabCrashed, Node: uint64(s.id)})
	}
	l := &life{s: s, outSeq: map[zab.PeerID]uint64{}, inbound: map[zab.PeerID]*inbound{}}
	if s.refused != nil {
		h.Note("still out of service: " + s.refused.Error())
		return l
	}
	store, rec, err := storage.Recover(s.disk, s.disk, storage.Config{Log: storage.LogConfig{SegmentBytesMax: c.opts.SegmentBytesMax}})
	if !rec.Report.Empty() {
		c.stats.BytesCut += rec.Report.BytesCut()
		c.stats.RecoveryCuts += len(rec.Report.Cuts)
		h.Note("recovery: " + rec.Report.String())
	}
	if err != nil {
		s.refuse(h, "recovery refused to start: "+err.Error(), err)
		return l
	}
	sm := newListMachine()
	if rec.HasSnapshot {
		if err := sm.Restore(rec.Snapshot.Data); err != nil || uint64(sm.zxid) != rec.Snapshot.Zxid {
			c.fail(FailStorage, "%s: snapshot %#x verified by storage but does not restore (state machine at %v): %v", s.name, rec.Snapshot.Zxid, sm.zxid, err)
			return l
		}
	}
	recovered := zab.Recovered{
		AcceptedEpoch: zab.Epoch(rec.AcceptedEpoch),
		CurrentEpoch:  zab.Epoch(rec.CurrentEpoch),
		SnapshotZxid:  zab.Zxid(rec.Snapshot.Zxid),
		Log:           make([]zab.Txn, len(rec.Entries)),
	}
	for i, e := range rec.Entries {
		recovered.Log[i] = zab.Txn{Zxid: zab.Zxid(e.Zxid), Data: e.Data}
	}
	peer, err := zab.NewPeer(s.config(sm), recovered)
	if err != nil {
		c.fail(FailStorage, "%s: the peer refuses what storage recovered: %v", s.name, err)
		return l
	}
	l.peer, l.store, l.sm = peer, store, sm
	h.Note(fmt.Sprintf("boot %d: acceptedEpoch=%d currentEpoch=%d snapshot=%v logged=%d last=%#x",
		s.boots, rec.AcceptedEpoch, rec.CurrentEpoch, zab.Zxid(rec.Snapshot.Zxid), len(rec.Entries), rec.LastLoggedZxid))
	c.observe(checker.ZabEvent{Kind: checker.ZabRestored, Node: uint64(s.id), Zxid: rec.Snapshot.Zxid})
	return l
}

// refuse takes the server out of service: a disk recovery will not repair stays down (the
// operator's call in production). It counts as a crash for the checker.
func (s *server) refuse(h *sim.Host[input, zab.Output], why string, err error) {
	s.refused = err
	s.c.stats.Refusals++
	h.Note(why)
	s.c.observe(checker.ZabEvent{Kind: checker.ZabCrashed, Node: uint64(s.id)})
}

func (s *server) config(sm zab.StateMachine) zab.Config {
	o := s.c.opts
	cfg := zab.Config{
		ID:         s.id,
		TickMillis: o.TickMillis, InitLimitTicks: o.InitLimitTicks, SyncLimitTicks: o.SyncLimitTicks,
		Rand: s.zabRand, StateMachine: sm, DiffTxnsMax: o.DiffTxnsMax, SnapshotEveryTxns: s.snapCount,
	}
	for i := 1; i <= o.Voters+o.Observers; i++ {
		if i <= o.Voters {
			cfg.Voters = append(cfg.Voters, zab.PeerID(i))
		} else {
			cfg.Observers = append(cfg.Observers, zab.PeerID(i))
		}
	}
	return cfg
}

// message takes a delivered envelope through the connection's FIFO order (fifo.go).
func (s *server) message(from string, payload any) input {
	id, err := strconv.Atoi(strings.TrimPrefix(from, "s"))
	if err != nil {
		panic(fmt.Sprintf("cluster: message from %q, not a server", from))
	}
	l := s.current()
	if l == nil || l.peer == nil {
		return input{}
	}
	return input{from: zab.PeerID(id), batch: l.accept(zab.PeerID(id), payload.(envelope))}
}

// decode unmarshals a peer message: every message crosses the wire encoded, so the codec
// runs on everything the protocol sends.
func (s *server) decode(from zab.PeerID, data []byte) (zab.Message, bool) {
	c := s.c
	m, err := zab.UnmarshalMessage(data)
	if err != nil {
		c.fail(FailCodec, "%s: message from s%d does not decode: %v", s.name, from, err)
		return zab.Message{}, false
	}
	m.From = from // the host knows the connection a message came on
	switch m.Type {
	case zab.MsgDiff:
		c.stats.SyncDiff++
	case zab.MsgTrunc:
		c.stats.SyncTrunc++
	case zab.MsgSnap:
		c.stats.SyncSnap++
	}
	if c.opts.Hooks.Message != nil {
		c.opts.Hooks.Message(c, s.name, m)
	}
	return m, true
}

func (s *server) execute(out zab.Output) {
	c := s.c
	l := s.current()
	if l == nil || l.peer == nil || c.failure != nil {
		return
	}
	switch o := out.(type) {
	case zab.Send:
		s.send(o.Message)
	case zab.Persist:
		l.persist(o)
	case zab.Deliver:
		c.observe(checker.ZabEvent{Kind: checker.ZabDelivered, Node: uint64(s.id), Zxid: uint64(o.Txn.Zxid), Txn: o.Txn.Data})
		c.delivered(s, o.Txn)
	case zab.Restored:
		l.restored = o.Zxid
		c.stats.SnapInstalls++
		c.observe(checker.ZabEvent{Kind: checker.ZabRestored, Node: uint64(s.id), Zxid: uint64(o.Zxid)})
	case zab.StateChanged:
		s.host.Note(fmt.Sprintf("%v %v epoch=%d leader=%d (%s)", o.Role, o.Phase, o.Epoch, o.Leader, o.Reason))
		if o.Role == zab.Leading && o.Phase == zab.Broadcast {
			c.stats.Elections++
			base, zxids := l.peer.History()
			zs := make([]uint64, len(zxids))
			for i, z := range zxids {
				zs[i] = uint64(z)
			}
			c.observe(checker.ZabEvent{Kind: checker.ZabEstablished, Node: uint64(s.id), Epoch: uint32(o.Epoch), Base: uint64(base), Zxids: zs})
		}
	case zab.Proposed:
		c.observe(checker.ZabEvent{Kind: checker.ZabProposed, Node: uint64(s.id), Zxid: uint64(o.Zxid), Txn: l.proposing})
		c.load.proposed(s, o.Zxid, l.proposing)
	case zab.Rejected:
		c.load.rejected(s, l.proposing, o.Err)
	default:
		c.fail(FailSafety, "%s: unknown output %T", s.name, out)
	}
}

func (s *server) send(m zab.Message) {
	l := s.current()
	l.outSeq[m.To]++
	b := m.Marshal()
	to, e := ServerName(int(m.To)), envelope{boot: s.boots, seq: l.outSeq[m.To], sentAt: s.c.world.Now(), data: b}
	if o := s.c.opts; o.RetransmitProbability > 0 && s.host.Rand().Float64() < o.RetransmitProbability {
		// A lost segment that TCP sends again; it dies with the sender's process.
		d := o.RetransmitDelayMax/2 + time.Duration(s.host.Rand().Int64N(int64(o.RetransmitDelayMax/2)+1))
		s.host.After(d, func() { s.host.Send(to, e, len(b)+envelopeHeaderBytes) })
		return
	}
	s.host.Send(to, e, len(b)+envelopeHeaderBytes)
}

// envelopeHeaderBytes is what the FIFO layer adds to a message on the wire.
const envelopeHeaderBytes = 16

// persist carries out one Persist with the Store in zab's order: install the snapshot, cut
// the log, append, write the epochs. Appends become durable at the next group Sync; the
// other steps are durable when they return, so the log is synced before them to keep
// persists durable in ID order, as zab requires.
func (l *life) persist(p zab.Persist) {
	s, st := l.s, l.store
	if p.Snapshot != nil || p.Truncate || p.SetAcceptedEpoch || p.SetCurrentEpoch {
		if _, err := st.Sync(); err != nil {
			l.storageError("sync", err)
			return
		}
	}
	if p.Snapshot != nil && !l.writeSnapshot(*p.Snapshot) {
		return
	}
	if p.Truncate {
		z := uint64(p.TruncateAfter)
		if z >= st.SnapshotZxid() {
			cut, err := st.EntriesAfter(z)
			if err != nil {
				l.storageError("read before TRUNC", err)
				return
			}
			if len(cut) > 0 {
				zs := make([]uint64, len(cut))
				for i, e := range cut {
					zs[i] = e.Zxid
				}
				s.c.observe(checker.ZabEvent{Kind: checker.ZabTruncated, Node: uint64(s.id), Zxids: zs})
			}
		}
		if s.c.opts.bug == bugIgnoreTrunc {
			z = st.LastZxid()
		}
		if err := st.TruncateAfter(z); err != nil {
			l.storageError("TRUNC", err)
			return
		}
	}
	if len(p.Entries) > 0 {
		es := make([]storage.Entry, len(p.Entries))
		for i, t := range p.Entries {
			es[i] = storage.Entry{Zxid: uint64(t.Zxid), Data: t.Data}
		}
		if err := st.Append(es); err != nil {
			l.storageError("append", err)
			return
		}
	}
	if p.SetAcceptedEpoch {
		if err := st.SetAcceptedEpoch(uint32(p.AcceptedEpoch)); err != nil {
			l.storageError("acceptedEpoch", err)
			return
		}
	}
	if p.SetCurrentEpoch {
		if e := uint32(p.CurrentEpoch); e < st.AcceptedEpoch() {
			s.c.stats.LowerEpochFollows++
			s.host.Note(fmt.Sprintf("currentEpoch %d below acceptedEpoch %d (durable currentEpoch %d)", e, st.AcceptedEpoch(), st.CurrentEpoch()))
		}
		if err := st.SetCurrentEpoch(uint32(p.CurrentEpoch)); err != nil {
			l.storageError("currentEpoch", err)
			return
		}
	}
	if s.c.opts.bug == bugAckBeforeSync {
		for _, m := range p.After {
			s.send(m)
		}
		p.After = nil
		s.host.After(0, func() {
			if s.current() == l {
				s.host.Input(input{zab: zab.Persisted{ID: p.ID}})
			}
		})
	}
	l.batch = append(l.batch, p)
	if !l.flushing {
		l.flushing = true
		o := s.c.opts
		d := o.DiskLatencyMin
		if span := o.DiskLatencyMax - o.DiskLatencyMin; span > 0 {
			d += time.Duration(s.host.Rand().Int64N(int64(span) + 1))
		}
		s.host.After(d, l.flush)
	}
}

// writeSnapshot carries out a Persist's snapshot, of either kind zab asks for: its periodic
// snapshot (every SnapshotEveryTxns commits) or a SNAP from the leader, which replaces the
// history up to its zxid and keeps the logged txns above it. Store.PersistSnapshot does
// both, crash safe at every instant (the vdisk install torture cuts the power inside it).
func (l *life) writeSnapshot(snap zab.Snapshot) bool {
	removed, err := l.store.PersistSnapshot(uint64(snap.Zxid), snap.Data)
	if err != nil {
		l.storageError("snapshot", err)
		return false
	}
	if snap.Zxid != l.restored {
		l.s.c.stats.Snapshots++
	}
	l.s.host.Note(fmt.Sprintf("snapshot at %v (%d bytes), removed %v", snap.Zxid, len(snap.Data), removed))
	return true
}

// flush is the group commit: one Sync makes every persist of the batch durable, then their
// held-back messages leave, in order, and the peer hears Persisted for the last of them. A
// crash before it voids it (sim.Host.After), so the peer never hears of a lost write.
func (l *life) flush() {
	s := l.s
	if s.current() != l || s.c.failure != nil {
		return
	}
	l.flushing = false
	if _, err := l.store.Sync(); err != nil {
		l.storageError("sync", err)
		return
	}
	batch := l.batch
	l.batch = nil
	s.c.stats.Syncs++
	s.c.stats.Persists += len(batch)
	for _, p := range batch {
		for _, m := range p.After {
			s.send(m)
		}
	}
	s.host.Input(input{zab: zab.Persisted{ID: batch[len(batch)-1].ID}})
}

// storageError handles a failed Store call. An injected I/O error is fatal for the node, as
// storage demands (never retry): the host crashes it and restarts it a moment later. Any
// other error means zab asked for something storage refuses: a bug, which fails the run.
func (l *life) storageError(op string, err error) {
	s := l.s
	if errors.Is(err, vdisk.ErrIO) {
		s.host.Note(fmt.Sprintf("storage %s failed: %v; the node stops", op, err))
		w := s.c.world
		w.Crash(s.name)
		w.Clock.AfterFunc(time.Duration(s.c.opts.TickMillis)*time.Millisecond, func() { w.Restart(s.name) })
		return
	}
	s.c.fail(FailStorage, "%s: storage %s: %v\npeer: role=%v last=%v committed=%v", s.name, op, err, l.peer.Role(), l.peer.LastLogged(), l.peer.Committed())
}
