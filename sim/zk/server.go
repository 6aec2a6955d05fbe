package zk

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
	"github.com/zabkit/zabkit/zab/storage"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// server is one ensemble member across all its lives: its host, disk and random stream. A
// life (one boot until the next crash) is the sim.Machine the host runs: a node.Node
// recovered from the disk with zab/storage, whose outputs the life carries out.
type server struct {
	c    *Cluster
	id   zab.PeerID
	name string
	host *sim.Host[[]node.Input, node.Output]
	disk *vdisk.Disk
	// rand is one stream across lives, so a restarted node draws a new incarnation and
	// new session ids.
	rand *rand.Rand

	boots int
	// refused is the error recovery refused to start with (a damaged disk): the server
	// stays out of service from then on, as an operator would keep it.
	refused error
}

// life is one boot of a server.
type life struct {
	s      *server
	node   *node.Node
	store  *storage.Store
	writer *hostio.Writer[node.Message] // the node's durable writes, with group commit

	// Peer connections: one outgoing sequence per peer, one inbound order per peer boot.
	outSeq  map[zab.PeerID]uint64
	inbound map[zab.PeerID]*peerInbound
	// Client connections by connection id.
	conns map[uint64]*serverConn

	// paused freezes the process (Options.Pauses): inputs are held until resume, and so
	// are the messages the writer would send once their persist is durable.
	paused    bool
	held      []node.Input
	heldSends []node.Message
}

// sendDurable sends a message the writer held back until its persist was durable; a
// paused process sends it when it wakes.
func (l *life) sendDurable(m node.Message) {
	if l.paused {
		if len(l.held)+len(l.heldSends) >= heldInputsMax {
			panic(fmt.Sprintf("zk: %s held %d sends during a pause", l.s.name, len(l.heldSends)))
		}
		l.heldSends = append(l.heldSends, m)
		return
	}
	l.sendPeer(m)
}

// randSource adapts math/rand to zab.Rand.
type randSource struct{ r *rand.Rand }

func (s randSource) Uint64() uint64 { return s.r.Uint64() }

// Handle feeds the node every input a delivery produced; a refused life ignores them.
func (l *life) Handle(nowMs int64, ins []node.Input) []node.Output {
	if l.node == nil {
		return nil
	}
	if l.paused {
		l.hold(ins)
		return nil
	}
	var outs []node.Output
	for _, in := range ins {
		outs = append(outs, l.node.Handle(zab.Time(nowMs), in)...)
	}
	return outs
}

// NextDeadline is the node's next deadline.
func (l *life) NextDeadline() (int64, bool) {
	if l.node == nil || l.paused {
		return 0, false
	}
	return int64(l.node.NextDeadline()), true
}

func (s *server) program() sim.Program[[]node.Input, node.Output] {
	return sim.Program[[]node.Input, node.Output]{
		Boot:    func(h *sim.Host[[]node.Input, node.Output]) sim.Machine[[]node.Input, node.Output] { return s.boot(h) },
		Message: s.message,
		Tick:    func() []node.Input { return []node.Input{node.Tick{}} },
		Execute: func(_ *sim.Host[[]node.Input, node.Output], out node.Output) { s.execute(out) },
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

// node is the running node, or nil.
func (s *server) node() *node.Node {
	if l := s.current(); l != nil {
		return l.node
	}
	return nil
}

// boot recovers the server from its disk with zab/storage and starts a node on it.
func (s *server) boot(h *sim.Host[[]node.Input, node.Output]) sim.Machine[[]node.Input, node.Output] {
	c := s.c
	s.host = h
	s.boots++
	if s.boots > 1 {
		c.stats.Restarts++
		c.observe(checker.ZabEvent{Kind: checker.ZabCrashed, Node: uint64(s.id)})
	}
	l := &life{s: s, outSeq: map[zab.PeerID]uint64{}, inbound: map[zab.PeerID]*peerInbound{}, conns: map[uint64]*serverConn{}}
	if s.refused != nil {
		h.Note("still out of service: " + s.refused.Error())
		return l
	}
	store, rec, err := hostio.Recover(s.disk, h, c.opts.SegmentBytesMax)
	c.stats.RecoveryCuts += len(rec.Report.Cuts)
	if err != nil {
		s.refused = err
		c.stats.Refusals++
		h.Note("recovery refused to start: " + err.Error())
		return l
	}
	recovered := node.Recovered{Zab: hostio.ZabRecovered(rec)}
	if rec.HasSnapshot {
		recovered.Snapshot = rec.Snapshot.Data
	}
	n, err := node.New(s.config(), recovered)
	if err != nil {
		c.fail(FailStorage, "%s: the node refuses what storage recovered: %v", s.name, err)
		return l
	}
	l.node, l.store = n, store
	l.writer = hostio.NewWriter(hostio.WriterConfig[node.Message]{
		Store: store, Host: h,
		DiskLatencyMin: c.opts.DiskLatencyMin, DiskLatencyMax: c.opts.DiskLatencyMax,
		RestartAfter: time.Duration(c.opts.TickMillis) * time.Millisecond,
		Send:         l.sendDurable,
		Persisted:    func(id uint64) { h.Input([]node.Input{node.Persisted{ID: id}}) },
		Live:         func() bool { return s.current() == l && c.failure == nil },
		Synced:       func(n int) { c.stats.Syncs++; c.stats.Persists += n },
		Truncated: func(zxids []uint64) {
			c.observe(checker.ZabEvent{Kind: checker.ZabTruncated, Node: uint64(s.id), Zxids: zxids})
		},
		Refused: func(op string, err error) { c.fail(FailStorage, "%s: storage %s: %v", s.name, op, err) },
	})
	h.Note(hostio.BootNote(s.boots, rec))
	c.observe(checker.ZabEvent{Kind: checker.ZabRestored, Node: uint64(s.id), Zxid: rec.Snapshot.Zxid})
	return l
}

func (s *server) config() node.Config {
	o := s.c.opts
	cfg := node.Config{
		ID:         s.id,
		TickMillis: o.TickMillis, InitLimitTicks: o.InitLimitTicks, SyncLimitTicks: o.SyncLimitTicks,
		Rand: randSource{s.rand}, Tree: treeConfig, SnapCount: o.SnapCount, Bugs: o.Bugs,
	}
	if s.c.buggify != nil { // a nil *sim.Buggify would never fire, but would make Buggified true
		cfg.Buggify = s.c.buggify
	}
	if len(o.ForceSites) > 0 {
		cfg.Buggify = forcedSites{sites: o.ForceSites, next: cfg.Buggify}
	}
	cfg.Voters, cfg.Observers = hostio.Ensemble(o.Voters, o.Observers)
	return cfg
}

// treeConfig is the tree configuration of every replica, and of the checker's replay: TTL
// nodes on (zookeeper.extendedTypesEnabled), so the workload can create them.
var treeConfig = tree.Config{ExtendedTypesEnabled: true}

// message turns a delivered packet into node inputs: peer traffic through its connection's
// order, client traffic through the client connection's.
func (s *server) message(from string, payload any) []node.Input {
	l := s.current()
	if l == nil || l.node == nil {
		return nil
	}
	switch m := payload.(type) {
	case peerMsg:
		return l.acceptPeer(m)
	case connMsg:
		return l.acceptConn(from, m)
	}
	panic(fmt.Sprintf("zk: server %s got %T from %s", s.name, payload, from))
}

func (s *server) execute(out node.Output) {
	c := s.c
	l := s.current()
	if l == nil || l.node == nil || c.failure != nil {
		return
	}
	switch o := out.(type) {
	case node.SendPeer:
		l.sendPeer(o.Message)
	case node.Persist:
		l.observePersist(o.Write)
		l.writer.Write(o.Write, o.After)
	case node.ClientSend:
		l.clientSend(o)
	case node.CloseClient:
		l.closeClient(o.Conn, o.Reason)
	case node.SaveSnapshot:
		// Serialized here, where the output is executed: the simulator is single-threaded,
		// so the View is read at the same point of every replay of a seed.
		if l.writer.SaveSnapshot(o.Zxid, o.View.Snapshot()) {
			c.stats.Snapshots++
		}
	case node.StateChanged:
		st := o.State
		s.host.Note(fmt.Sprintf("%v %v epoch=%d leader=%d (%s)", st.Role, st.Phase, st.Epoch, st.Leader, st.Reason))
		if st.Role == zab.Leading && st.Phase == zab.Broadcast {
			c.stats.Elections++
			base, zxids := l.node.Peer().History()
			zs := make([]uint64, len(zxids))
			for i, z := range zxids {
				zs[i] = uint64(z)
			}
			c.observe(checker.ZabEvent{Kind: checker.ZabEstablished, Node: uint64(s.id), Epoch: uint32(st.Epoch), Base: uint64(base), Zxids: zs})
		}
	case node.Committed:
		c.observe(checker.ZabEvent{Kind: checker.ZabDelivered, Node: uint64(s.id), Zxid: uint64(o.Zxid), Txn: o.Data})
		if c.opts.bug == bugDigestSkew && s.id == 2 {
			o.Digest ^= 1
		}
		c.committed(s, o)
	default:
		c.fail(FailSafety, "%s: unknown output %T", s.name, out)
	}
}

// observePersist feeds the ZAB checker what a persist reveals: a leader's log append is
// its proposal (zab/leader.go logs each proposal before broadcasting it), and a SNAP
// install replaces the state machine with the committed state at the snapshot's zxid.
func (l *life) observePersist(w zab.Persist) {
	c, s := l.s.c, l.s
	if w.Snapshot != nil {
		c.stats.SnapInstalls++
		c.observe(checker.ZabEvent{Kind: checker.ZabRestored, Node: uint64(s.id), Zxid: uint64(w.Snapshot.Zxid)})
	}
	if len(w.Entries) > 0 && l.node.Peer().Role() == zab.Leading {
		for _, t := range w.Entries {
			c.observe(checker.ZabEvent{Kind: checker.ZabProposed, Node: uint64(s.id), Zxid: uint64(t.Zxid), Txn: t.Data})
		}
	}
}

// Peer links.

// peerMsg is what crosses netsim between members: a marshaled node.Message, sequenced per
// link and sender boot (a restart opens new connections).
type peerMsg struct {
	from   zab.PeerID
	boot   int
	seq    uint64
	sentAt time.Duration
	data   []byte
}

// TraceDigest digests the message for the trace (sim.TraceDigester): the marshaled
// node.Message and the connection fields, as sim/cluster's envelope does.
func (m peerMsg) TraceDigest() uint64 {
	h := sim.DigestMix(sim.DigestBytes(m.data), uint64(m.from))
	h = sim.DigestMix(h, uint64(m.boot))
	h = sim.DigestMix(h, m.seq)
	return sim.DigestMix(h, uint64(m.sentAt))
}

// peerInbound is the receiving side of one peer's current connection.
type peerInbound struct {
	boot  int
	order *hostio.InOrder[[]byte]
}

func (l *life) sendPeer(m node.Message) {
	s := l.s
	l.outSeq[m.To]++
	b := m.Marshal()
	msg := peerMsg{from: s.id, boot: s.boots, seq: l.outSeq[m.To], sentAt: s.c.world.Now(), data: b}
	s.c.stats.PeerMessages++
	s.host.Send(ServerName(int(m.To)), msg, len(b)+connMsgHeaderBytes)
}

// acceptPeer restores the order of one peer's connection and decodes what is deliverable.
func (l *life) acceptPeer(m peerMsg) []node.Input {
	from := m.from
	in := l.inbound[from]
	if in == nil || m.boot > in.boot {
		// A new connection starts at the first packet seen; older ones arriving later are
		// dropped, as a new TCP connection never sees the old one's packets.
		in = &peerInbound{boot: m.boot, order: hostio.NewInOrder[[]byte](m.seq)}
		l.inbound[from] = in
	}
	if m.boot < in.boot {
		return nil
	}
	ready, early := in.order.Accept(hostio.Packet[[]byte]{Seq: m.seq, SentAt: m.sentAt, Body: m.data})
	if early {
		boot, seq := m.boot, m.seq
		w := l.s.c.world
		l.s.host.After(hostio.GapWait(m.sentAt, l.s.c.opts.Link.Latency.Tail, w.Now()), func() {
			if in := l.inbound[from]; in != nil && in.boot == boot && in.order.Missing(seq) {
				l.s.host.Input(l.decodePeer(from, in.order.SkipTo(seq)))
			}
		})
	}
	return l.decodePeer(from, ready)
}

// decodePeer unmarshals deliverable peer packets: every message crosses the wire encoded,
// so the codec runs on everything the members send.
func (l *life) decodePeer(from zab.PeerID, ps []hostio.Packet[[]byte]) []node.Input {
	ins := make([]node.Input, 0, len(ps))
	for _, p := range ps {
		m, err := node.UnmarshalMessage(p.Body)
		if err != nil {
			l.s.c.fail(FailCodec, "%s: message from s%d does not decode: %v", l.s.name, from, err)
			return nil
		}
		m.From = from // the host knows the connection a message came on
		ins = append(ins, node.PeerMessage{Message: m})
	}
	return ins
}

// Client connections, server side.

// serverConn is the server end of one client connection.
type serverConn struct {
	client string
	order  *hostio.InOrder[connMsg]
	outSeq uint64
	closed bool
	// requests are the decoded requests awaiting replies, for bugStaleReads only.
	requests []wire.Request
	answered bool // the ConnectResponse went out
	// For the client-protocol host bugs: whether the ConnectRequest resumed a session, the
	// replies sent after the ConnectResponse, and a reply held back to be sent late.
	resumed  bool
	replies  int
	heldBack []byte
}

// acceptConn restores a client connection's order and turns its packets into node inputs.
// A packet of a connection this life never opened is answered with a close (a TCP RST: the
// server restarted, or closed it already).
func (l *life) acceptConn(from string, m connMsg) []node.Input {
	sc := l.conns[m.conn]
	if sc == nil {
		if m.kind == connOpen {
			sc = &serverConn{client: from, order: hostio.NewInOrder[connMsg](1)}
			l.conns[m.conn] = sc
		} else {
			if m.kind != connClose {
				l.sendConn(&serverConn{client: from}, m.conn, connClose, nil)
			}
			return nil
		}
	}
	if sc.closed {
		return nil
	}
	ready, early := sc.order.Accept(m.packet())
	if early {
		seq := m.seq
		w := l.s.c.world
		l.s.host.After(hostio.GapWait(m.sentAt, l.s.c.opts.Link.Latency.Tail, w.Now()), func() {
			if sc := l.conns[m.conn]; sc != nil && !sc.closed && sc.order.Missing(seq) {
				// A gap: the connection broke. Both sides see it closed.
				l.s.c.stats.ConnBreaks++
				l.closeClient(node.ConnID(m.conn), "connection broke (lost packet)")
				l.s.host.Input([]node.Input{node.ClientClosed{Conn: node.ConnID(m.conn)}})
			}
		})
	}
	var ins []node.Input
	for _, p := range ready {
		msg := p.Body
		switch msg.kind {
		case connOpen:
			if req, err := wire.DecodeConnectRequest(msg.frame); err == nil && req.SessionID != 0 {
				sc.resumed = true
			}
			ins = append(ins, node.ClientConnected{Conn: node.ConnID(m.conn), Remote: "10.1.0." + from[1:]},
				node.ClientFrame{Conn: node.ConnID(m.conn), Payload: msg.frame})
		case connFrame:
			if l.s.c.opts.bug == bugStaleReads {
				if req, err := wire.DecodeRequest(msg.frame); err == nil {
					sc.requests = append(sc.requests, req)
				}
			}
			ins = append(ins, node.ClientFrame{Conn: node.ConnID(m.conn), Payload: msg.frame})
		case connClose:
			sc.closed = true
			delete(l.conns, m.conn)
			return append(ins, node.ClientClosed{Conn: node.ConnID(m.conn)})
		}
	}
	return ins
}

func (l *life) clientSend(o node.ClientSend) {
	sc := l.conns[uint64(o.Conn)]
	if sc == nil || sc.closed {
		return
	}
	payload := o.Frame[4:]
	switch l.s.c.opts.bug {
	case bugDropWatchEvents:
		if len(payload) >= 4 && int32(binary.BigEndian.Uint32(payload)) == wire.XidNotification {
			return
		}
	case bugDropEventsAtEnd:
		if l.s.c.ending && len(payload) >= 4 && int32(binary.BigEndian.Uint32(payload)) == wire.XidNotification {
			return
		}
	case bugStaleReads:
		payload = l.staleRead(sc, payload)
	case bugSwapReplies, bugRepeatConnectResponse, bugCutReply, bugCutNotification, bugCutConnectResponse, bugOtherSessionOnResume:
		for _, p := range l.breakProtocol(sc, payload) {
			l.sendConn(sc, uint64(o.Conn), connFrame, p)
		}
		return
	}
	l.sendConn(sc, uint64(o.Conn), connFrame, payload)
}

// breakProtocol is the client-protocol host bugs: the frames to send instead of payload.
func (l *life) breakProtocol(sc *serverConn, payload []byte) [][]byte {
	bug := l.s.c.opts.bug
	if !sc.answered {
		sc.answered = true
		switch bug {
		case bugRepeatConnectResponse:
			return [][]byte{payload, payload}
		case bugCutConnectResponse:
			return [][]byte{payload[:min(len(payload), 5)]}
		case bugOtherSessionOnResume:
			if r, err := wire.DecodeConnectResponse(payload); err == nil && sc.resumed && r.SessionID != 0 {
				r.SessionID++
				return [][]byte{wire.AppendConnectResponse(nil, &r)[4:]}
			}
		}
		return [][]byte{payload}
	}
	if len(payload) >= 4 && int32(binary.BigEndian.Uint32(payload)) == wire.XidNotification {
		if bug == bugCutNotification {
			return [][]byte{payload[:min(len(payload), 6)]}
		}
		return [][]byte{payload}
	}
	sc.replies++
	switch {
	case bug == bugCutReply && sc.replies == 3:
		return [][]byte{payload[:min(len(payload), 3)]}
	case bug == bugSwapReplies && sc.replies == 3:
		sc.heldBack = payload
		return nil
	case bug == bugSwapReplies && sc.replies == 4:
		held := sc.heldBack
		sc.heldBack = nil
		return [][]byte{payload, held}
	}
	return [][]byte{payload}
}

// staleRead is bugStaleReads: a getData reply carries the data the host last saw at that
// path before the current one (its zxid and stat stay), as a server answering from an older
// tree would.
func (l *life) staleRead(sc *serverConn, payload []byte) []byte {
	if !sc.answered {
		sc.answered = true // the ConnectResponse
		return payload
	}
	if len(payload) < 4 || int32(binary.BigEndian.Uint32(payload)) == wire.XidNotification || len(sc.requests) == 0 {
		return payload
	}
	req := sc.requests[0]
	sc.requests = sc.requests[1:]
	if req.Header.Type != wire.OpGetData {
		return payload
	}
	rep, err := wire.DecodeReply(payload, wire.OpGetData)
	if err != nil || rep.Header.Err != wire.ErrOK {
		return payload
	}
	path := req.Body.(*wire.GetDataRequest).Path
	body := rep.Body.(*wire.GetDataResponse)
	seen := l.s.c.staleData[path]
	if len(seen) == 0 || string(seen[len(seen)-1]) != string(body.Data) {
		l.s.c.staleData[path] = append(seen, body.Data)
		seen = l.s.c.staleData[path]
	}
	if len(seen) >= 2 {
		body.Data = seen[len(seen)-2]
	}
	return wire.AppendReply(nil, wire.OpGetData, rep.Header, body)[4:]
}

func (l *life) closeClient(conn node.ConnID, reason string) {
	sc := l.conns[uint64(conn)]
	if sc == nil {
		return
	}
	l.sendConn(sc, uint64(conn), connClose, nil)
	sc.closed = true
	delete(l.conns, uint64(conn))
	l.s.host.Note(fmt.Sprintf("closed connection %#x of %s: %s", conn, sc.client, reason))
}

func (l *life) sendConn(sc *serverConn, conn uint64, kind connKind, frame []byte) {
	sc.outSeq++
	m := connMsg{conn: conn, seq: sc.outSeq, sentAt: l.s.c.world.Now(), kind: kind, frame: frame}
	l.s.host.Send(sc.client, m, len(frame)+connMsgHeaderBytes)
}

// forcedSites is Options.ForceSites: its sites fire every time, the others are asked of
// next (the world's BUGGIFY hook, or none).
type forcedSites struct {
	sites []string
	next  zab.Buggify
}

func (f forcedSites) Fire(site string) bool {
	if slices.Contains(f.sites, site) {
		return true
	}
	return f.next != nil && f.next.Fire(site)
}
