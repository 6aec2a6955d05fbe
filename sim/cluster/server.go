package cluster

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
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
	lagRand   *rand.Rand // BUGGIFY's lagging-member draws, apart from every other stream
	snapCount int

	boots int
	// refused is the error recovery refused to start with (a corrupt disk); the server
	// stays out of service from then on.
	refused error
}

// life is one boot of a server: the zab.Peer, the Store it writes with (through the shared
// hostio.Writer) and the state machine.
type life struct {
	s      *server
	peer   *zab.Peer
	store  *storage.Store
	writer *hostio.Writer[zab.Message]
	sm     *listMachine

	// proposing is the payload of the Propose being handled, for its Proposed output.
	proposing []byte
	// restored is the zxid of the last SNAP the peer restored (zab.Restored precedes the
	// Persist that writes it), to tell SNAP writes from periodic snapshots in the stats.
	restored zab.Zxid

	// The FIFO connections (fifo.go).
	outSeq  map[zab.PeerID]uint64
	inbound map[zab.PeerID]*inbound
	// lag is how late every peer message reaches this life (BUGGIFY's lagging member;
	// zero: on arrival).
	lag time.Duration
}

// input is what a host hands its life: one zab input, or the marshaled peer messages a
// connection made deliverable (none, one, or several after a gap closed).
type input struct {
	zab   zab.Input
	from  zab.PeerID
	batch []hostio.Packet[[]byte]
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
	for _, p := range in.batch {
		m, ok := l.s.decode(in.from, p.Body)
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
		c.observeElection(checker.ElectionEvent{Kind: checker.ElectionCrashed, Node: uint64(s.id)})
	}
	l := &life{s: s, outSeq: map[zab.PeerID]uint64{}, inbound: map[zab.PeerID]*inbound{}}
	if s.refused != nil {
		h.Note("still out of service: " + s.refused.Error())
		return l
	}
	store, rec, err := hostio.Recover(s.disk, h, c.opts.SegmentBytesMax)
	c.stats.BytesCut += rec.Report.BytesCut()
	c.stats.RecoveryCuts += len(rec.Report.Cuts)
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
	peer, err := zab.NewPeer(s.config(sm), hostio.ZabRecovered(rec))
	if err != nil {
		c.fail(FailStorage, "%s: the peer refuses what storage recovered: %v", s.name, err)
		return l
	}
	l.peer, l.store, l.sm = peer, store, sm
	l.writer = hostio.NewWriter(hostio.WriterConfig[zab.Message]{
		Store: store, Host: h,
		DiskLatencyMin: c.opts.DiskLatencyMin, DiskLatencyMax: c.opts.DiskLatencyMax,
		RestartAfter: time.Duration(c.opts.TickMillis) * time.Millisecond,
		Send:         s.send,
		Persisted:    func(id uint64) { h.Input(input{zab: zab.Persisted{ID: id}}) },
		Live:         func() bool { return s.current() == l && c.failure == nil },
		Synced:       func(n int) { c.stats.Syncs++; c.stats.Persists += n },
		Truncated: func(zxids []uint64) {
			c.observe(checker.ZabEvent{Kind: checker.ZabTruncated, Node: uint64(s.id), Zxids: zxids})
		},
		Refused: func(op string, err error) {
			c.fail(FailStorage, "%s: storage %s: %v\npeer: role=%v last=%v committed=%v", s.name, op, err,
				l.peer.Role(), l.peer.LastLogged(), l.peer.Committed())
		},
		Bugs:    hostio.WriterBugs{AckBeforeSync: c.opts.bug == bugAckBeforeSync, IgnoreTrunc: c.opts.bug == bugIgnoreTrunc},
		Buggify: c.buggifyHook(), Tick: c.ticks(1),
	})
	if c.buggify != nil {
		if l.lag = hostio.MemberLag(c.buggify, s.lagRand, c.ticks(1)); l.lag > 0 {
			h.Note(fmt.Sprintf("buggify: lagging member, every peer message reaches it %v late", l.lag))
		}
	}
	h.Note(hostio.BootNote(s.boots, rec))
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
		Bugs: o.ZabBugs,
	}
	cfg.Buggify = s.c.buggifyHook()
	cfg.Voters, cfg.Observers = hostio.Ensemble(o.Voters, o.Observers)
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
	return l.hand(zab.PeerID(id), l.accept(zab.PeerID(id), payload.(envelope)))
}

// hand is how the messages a connection made deliverable reach the peer: at once, or a
// lagging life's lag later (the same lag for every message, so the order holds).
func (l *life) hand(from zab.PeerID, batch []hostio.Packet[[]byte]) input {
	if l.lag == 0 || len(batch) == 0 {
		return input{from: from, batch: batch}
	}
	h := l.s.host
	h.After(l.lag, func() {
		if l.s.current() == l {
			h.Input(input{from: from, batch: batch})
		}
	})
	return input{}
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
	s.observeElection(out)
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
		if c.opts.Hooks.Proposed != nil {
			c.opts.Hooks.Proposed(c, s.name, o.Zxid)
		}
	case zab.Rejected:
		c.load.rejected(s, l.proposing, o.Err)
	default:
		c.fail(FailSafety, "%s: unknown output %T", s.name, out)
	}
}

// observeElection maps the outputs the election checks judge: a voter's LOOKING
// notification, and every role change.
func (s *server) observeElection(out zab.Output) {
	switch o := out.(type) {
	case zab.Send:
		m := o.Message
		if m.Type != zab.MsgNotification || m.State != zab.Looking || int(s.id) > s.c.opts.Voters {
			return
		}
		s.c.observeElection(checker.ElectionEvent{Kind: checker.ElectionVoted, Node: uint64(s.id), Round: m.Round,
			Vote: checker.ElectionVote{Epoch: uint32(m.Epoch), Zxid: uint64(m.Zxid), Leader: uint64(m.Leader)}})
	case zab.StateChanged:
		s.c.observeElection(checker.ElectionEvent{Kind: checker.ElectionRole, Node: uint64(s.id),
			Looking: o.Role == zab.Looking, Broadcast: o.Phase == zab.Broadcast, Reason: o.Reason})
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

// persist carries out one Persist through the life's hostio.Writer.
func (l *life) persist(p zab.Persist) {
	s, st := l.s, l.store
	if p.SetCurrentEpoch {
		if e := uint32(p.CurrentEpoch); e < st.AcceptedEpoch() {
			s.c.stats.LowerEpochFollows++
			s.host.Note(fmt.Sprintf("currentEpoch %d below acceptedEpoch %d (durable currentEpoch %d)", e, st.AcceptedEpoch(), st.CurrentEpoch()))
		}
	}
	if l.writer.Write(p, p.After) && p.Snapshot != nil && p.Snapshot.Zxid != l.restored {
		s.c.stats.Snapshots++
	}
}

// buggifyHook is the run's BUGGIFY hook as the core and the host ask it: nil without
// Options.Buggify (a nil *sim.Buggify in the interface would never fire, but would not be
// a nil interface).
func (c *Cluster) buggifyHook() zab.Buggify {
	if c.buggify == nil {
		return nil
	}
	return c.buggify
}
