package node

import (
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// The leader's side: its session tracker (ZooKeeper's SessionTrackerImpl, which alone
// decides expiry), the owner of every session, and the request pipeline that prepares
// forwarded requests against the tree plus outstanding changes and proposes them.

// trackedSession is one session as the leader tracks it.
type trackedSession struct {
	timeoutMs int32
	expiresAt zab.Time
	// owner is the stream that created or last revalidated the session (zero after a leader
	// change until the client reconnects); lastSeq is the last request taken from it.
	owner   Stream
	lastSeq uint64
	closing bool // its closeSession is prepared: it takes no more requests
}

// startLeading builds the tracker from the replicated sessions with a fresh full timeout
// each, as a new ZooKeeper leader does (sessions restored from the log survive a leader
// change), and starts proposals from a clean slate of outstanding changes.
func (n *Node) startLeading() {
	n.tree.Reset()
	n.tracker = make(map[int64]*trackedSession)
	for _, id := range n.tree.Sessions() {
		timeout, _ := n.tree.SessionTimeoutMs(id)
		n.track(id, timeout, Stream{}, 0)
	}
	n.lastProposed = n.peer.LastLogged()
	n.reapAt = n.now + zab.Time(n.cfg.ReapIntervalTicks*n.cfg.TickMillis)
}

// stopLeading drops what only a leader holds: outstanding changes of proposals that may
// never commit, and the tracker.
func (n *Node) stopLeading() {
	n.tree.Reset()
	n.tracker = nil
	// Waiting requests are dropped unanswered: their members stop serving this epoch too, and
	// a member still waiting closes the connection when the forward times out.
	n.waiting, n.waitingBytes = nil, 0
}

func (n *Node) track(id int64, timeoutMs int32, owner Stream, seq uint64) {
	n.tracker[id] = &trackedSession{timeoutMs: timeoutMs, expiresAt: n.expiry(timeoutMs), owner: owner, lastSeq: seq}
}

// expiry is now + timeout rounded up to the next tick (ExpiryQueue.roundToNextInterval).
func (n *Node) expiry(timeoutMs int32) zab.Time {
	t := n.now + zab.Time(timeoutMs)
	tick := zab.Time(n.cfg.TickMillis)
	return (t/tick + 1) * tick
}

// touchSession refreshes a live session (a request or ping reached some member).
func (n *Node) touchSession(id int64, timeoutMs int32) {
	if s := n.tracker[id]; s != nil && !s.closing {
		if timeoutMs > 0 {
			s.timeoutMs = timeoutMs
		}
		s.expiresAt = max(s.expiresAt, n.expiry(s.timeoutMs))
	}
}

// touchLocal records activity of a connected session: applied at once on the leader,
// batched to the leader at the next tick elsewhere (the learner's ping piggyback). A full
// batch is sent at once rather than dropping a touch, and so is a batch holding a session of
// at most shortSessionTicks: ZooKeeper's learners report touches every half tick (the
// leader's PING), so a tick's batching would leave a 2-tick session half the slack it has
// on ZooKeeper, and a member's brief stall would expire a client that pinged on time.
func (n *Node) touchLocal(c *conn) {
	if n.serve.leading {
		n.touchSession(c.session, c.timeoutMs)
		return
	}
	if _, ok := n.touched[c.session]; !ok && len(n.touched) >= touchesBatchMax {
		n.flushTouches()
	}
	n.touched[c.session] = c.timeoutMs
	if int64(c.timeoutMs) <= shortSessionTicks*int64(n.cfg.TickMillis) {
		n.flushTouches()
	}
}

func (n *Node) flushTouches() {
	if !n.serve.serving || len(n.touched) == 0 {
		return
	}
	m := Message{Kind: KindTouch, From: n.cfg.ID, To: n.serve.leader, Epoch: n.serve.epoch}
	for _, id := range sortedKeys(n.touched) {
		m.Touches = append(m.Touches, Touch{Session: id, TimeoutMs: n.touched[id]})
	}
	clear(n.touched)
	n.emit(SendPeer{Message: m})
}

// waitingForward is a forwarded request that needs a proposal while the leader's window is
// full: it waits, in arrival order, for earlier proposals to apply.
type waitingForward struct {
	epoch  zab.Epoch
	stream Stream
	f      Forward
}

// lead takes one forwarded request on the leader. ok says whether ans must go back to the
// stream's member; the answer to a request the leader proposes is its txn.
//
// A request that needs a proposal while the window is full (or while others wait) waits in
// arrival order instead of being refused: ZooKeeper throttles a loaded leader by reading
// less (globalOutstandingLimit), it does not close connections whose requests are valid.
// Only a full waiting queue refuses, so memory stays bounded.
func (n *Node) lead(epoch zab.Epoch, st Stream, f Forward) (ans Message, ok bool) {
	proposes := f.Kind == ForwardCreateSession || f.Kind == ForwardRequest
	if proposes && n.serve.leading && epoch == n.serve.epoch && (len(n.waiting) > 0 || n.windowFull()) {
		if len(n.waiting) >= n.forwardsWaitingMax() || n.waitingBytes+len(f.Payload) > forwardsWaitingBytesMax {
			return Message{Kind: KindRefused, Epoch: n.serve.epoch, Stream: st, Seq: f.Seq,
				Reason: "too many requests waiting for the proposal window"}, true
		}
		n.waiting = append(n.waiting, waitingForward{epoch: epoch, stream: st, f: f})
		n.waitingBytes += len(f.Payload)
		return Message{}, false
	}
	return n.take(epoch, st, f)
}

// forwardsWaitingMax bounds the requests waiting for the leader's window: room for many
// members each pipelining up to the host's read bound.
func (n *Node) forwardsWaitingMax() int {
	return forwardsWaitingPerWindowSlot * n.cfg.ProposalsInFlightMax
}

// takeWaiting takes waiting requests, oldest first, while the window has room, and sends
// each answer to the stream's member (this one's own streams are answered here).
func (n *Node) takeWaiting() {
	for len(n.waiting) > 0 && n.serve.leading && !n.windowFull() {
		w := n.waiting[0]
		n.waiting[0] = waitingForward{}
		n.waiting = n.waiting[1:]
		n.waitingBytes -= len(w.f.Payload)
		ans, ok := n.take(w.epoch, w.stream, w.f)
		if !ok {
			continue
		}
		if w.stream.Server == n.cfg.ID {
			n.answered(ans)
			continue
		}
		ans.From, ans.To = n.cfg.ID, w.stream.Server
		n.emit(SendPeer{Message: ans})
	}
	if len(n.waiting) == 0 {
		n.waiting, n.waitingBytes = nil, 0
	}
}

// take is lead once the request may propose: the callers checked the window (asking it
// again could draw BuggifyTinyWindow differently).
func (n *Node) take(epoch zab.Epoch, st Stream, f Forward) (ans Message, ok bool) {
	refuse := func(reason string) (Message, bool) {
		return Message{Kind: KindRefused, Epoch: n.serve.epoch, Stream: st, Seq: f.Seq, Reason: reason}, true
	}
	if !n.serve.leading || epoch != n.serve.epoch {
		return refuse("not the leader of that epoch")
	}
	s := n.tracker[f.Session]
	switch f.Kind {
	case ForwardCreateSession:
		if s != nil && s.owner == st && f.Seq == 1 {
			return Message{}, false // a duplicate
		}
		if f.Seq != 1 || s != nil || f.TimeoutMs <= 0 {
			return refuse("bad createSession")
		}
		n.track(f.Session, f.TimeoutMs, st, 1)
		n.proposeTree(Origin{Stream: st, Seq: 1}, tree.Request{SessionID: f.Session,
			Type: wire.OpCreateSession, TimeoutMs: f.TimeoutMs})
		return Message{}, false
	case ForwardRevalidate:
		valid := s != nil && !s.closing && f.Seq == 1
		if valid && s.owner == st {
			// A duplicate: answer again, but never rewind the stream, or requests already
			// taken would be taken twice.
			return Message{Kind: KindRevalidated, Epoch: n.serve.epoch, Stream: st, Seq: f.Seq, Valid: true}, true
		}
		if valid {
			// The stream takes the session over: requests still in flight from its previous
			// connection are refused from now on (SessionMoved).
			s.owner, s.lastSeq = st, 1
			n.touchSession(f.Session, f.TimeoutMs)
		}
		return Message{Kind: KindRevalidated, Epoch: n.serve.epoch, Stream: st, Seq: f.Seq, Valid: valid}, true
	}
	switch {
	case s == nil:
		return refuse("session unknown")
	case s.owner != st:
		return refuse("session moved")
	case f.Seq <= s.lastSeq:
		return Message{}, false // a duplicate of a request already taken
	case f.Seq != s.lastSeq+1:
		return refuse("request lost on the way")
	}
	req, err := wire.DecodeRequest(f.Payload)
	if err != nil || !isWrite(req.Header.Type) {
		return refuse("undecodable forwarded request")
	}
	if txnBytesBound(req, len(f.Payload), f.Auth) > n.txnBytesMax() {
		return refuse("request too large once its ACLs are expanded")
	}
	s.lastSeq = f.Seq
	n.touchSession(f.Session, 0)
	origin := Origin{Stream: st, Seq: f.Seq}
	if req.Header.Type == wire.OpSync {
		n.propose(&Txn{Origin: origin, Sync: true})
		return Message{}, false
	}
	if req.Header.Type == wire.OpCloseSession {
		s.closing = true
	}
	n.proposeTree(origin, tree.Request{SessionID: f.Session, Cxid: req.Header.Xid,
		Auth: f.Auth, Type: req.Header.Type, Body: req.Body})
	return Message{}, false
}

// inFlight counts proposals not yet applied: zxids of one epoch are consecutive.
func (n *Node) inFlight() int {
	if n.lastApplied.Epoch() == n.lastProposed.Epoch() {
		return int(n.lastProposed.Counter() - n.lastApplied.Counter())
	}
	return int(n.lastProposed.Counter())
}

func (n *Node) txnBytesMax() int { return zabTxnBytesMax(n.cfg.FrameBytesMax) }

// nextZxid is the zxid zab gives the next proposal (zab.Peer.propose).
func (n *Node) nextZxid() zab.Zxid {
	last := n.peer.LastLogged()
	if last.Epoch() == n.serve.epoch {
		return last + 1
	}
	return zab.MakeZxid(n.serve.epoch, 1)
}

// proposeTree prepares a request at the zxid it will get and proposes the txn. Preparing a
// closeSession (a client's or an expiry) marks the session closing in the outstanding
// changes, so nothing the session sends later is ordered after its close (ZOOKEEPER-1208,
// and -1496 for expiry).
func (n *Node) proposeTree(origin Origin, req tree.Request) {
	req.Zxid = int64(n.nextZxid())
	req.TimeMs = int64(n.now)
	if n.cfg.Bugs.EphemeralAfterClose && req.Type == wire.OpCloseSession { // ZOOKEEPER-1208: the rule is to prepare the close
		n.propose(&Txn{Origin: origin, Tree: tree.Txn{Type: req.Type, SessionID: req.SessionID, Cxid: req.Cxid, TimeMs: req.TimeMs}})
		return
	}
	n.propose(&Txn{Origin: origin, Tree: n.tree.Prepare(req)})
}

func (n *Node) propose(x *Txn) {
	want := n.nextZxid()
	data := x.Marshal()
	n.assertf(len(data) <= n.txnBytesMax(), "txn of %d bytes passed the size bound", len(data))
	n.assertf(n.serve.leading && n.peer.Established(), "proposal while not the established leader")
	n.assertf(want.Counter() != ^uint32(0), "zxid counter exhausted at %v", want)
	got := n.runPeer(zab.Propose{Data: data})
	n.assertf(got == want, "zab proposed %v, the tree prepared %v", got, want)
	n.lastProposed = got
}

// expireSessions proposes closeSession for every session past its expiry, in id order.
func (n *Node) expireSessions() {
	expired := 0
	for _, id := range sortedKeys(n.tracker) {
		s := n.tracker[id]
		if s.closing || s.expiresAt > n.now {
			continue
		}
		if expired == expireBatchMax || n.windowFull() {
			return // the rest at the next tick
		}
		expired++
		s.closing = true
		n.proposeTree(Origin{}, tree.Request{SessionID: id, Type: wire.OpCloseSession})
		if !n.serve.leading {
			return
		}
	}
}

// reap deletes empty containers and expired TTL nodes (ContainerManager), a batch per round.
func (n *Node) reap() {
	if n.now < n.reapAt {
		return
	}
	n.reapAt = n.now + zab.Time(n.cfg.ReapIntervalTicks*n.cfg.TickMillis)
	for _, path := range n.tree.Reapable(int64(n.now), 0, reapBatchMax) {
		if !n.serve.leading || n.windowFull() {
			return
		}
		n.proposeTree(Origin{}, tree.Request{Type: wire.OpDeleteContainer, Body: &wire.DeleteRequest{Path: path, Version: -1}})
	}
}
