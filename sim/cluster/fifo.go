package cluster

import (
	"time"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
	"github.com/zabkit/zabkit/zab"
)

// Peer links are TCP-like connections (hostio.InOrder restores their order). A copy is
// delivered at most Link.Latency.Tail after it was sent, plus Options.RetransmitDelayMax
// for a retransmitted one, which bounds the wait for a gap. netsim's loss and partitions
// still reach zab as gaps; reordering and duplication do not.

// envelope is what crosses netsim.
type envelope struct {
	boot   int // the sender's boot: a restart starts a new connection
	seq    uint64
	sentAt time.Duration
	data   []byte // the marshaled zab.Message
}

// TraceDigest digests the envelope for the trace (sim.TraceDigester): the marshaled message
// and the connection fields, so the determinism check compares what peers sent, not only
// message ids and sizes.
func (e envelope) TraceDigest() uint64 {
	h := sim.DigestMix(sim.DigestBytes(e.data), uint64(e.boot))
	h = sim.DigestMix(h, e.seq)
	return sim.DigestMix(h, uint64(e.sentAt))
}

// inbound is the receiving side of one peer's current connection.
type inbound struct {
	boot  int
	order *hostio.InOrder[[]byte]
}

// accept takes one arrived envelope and returns the marshaled messages now deliverable, in
// order.
func (l *life) accept(from zab.PeerID, e envelope) []hostio.Packet[[]byte] {
	in := l.inbound[from]
	if in == nil || e.boot > in.boot {
		// A new connection starts at the first message seen; earlier ones that arrive
		// later are dropped, as a new TCP connection never sees the old one's packets.
		in = &inbound{boot: e.boot, order: hostio.NewInOrder[[]byte](e.seq)}
		l.inbound[from] = in
	}
	if e.boot < in.boot {
		return nil // an old connection
	}
	ready, early := in.order.Accept(hostio.Packet[[]byte]{Seq: e.seq, SentAt: e.sentAt, Body: e.data})
	if early {
		o := l.s.c.opts
		wait := hostio.GapWait(e.sentAt, o.RetransmitDelayMax+o.Link.Latency.Tail, l.s.c.world.Now())
		boot, seq := e.boot, e.seq
		l.s.host.After(wait, func() { l.skipGap(from, boot, seq) })
	}
	return ready
}

// skipGap gives up on the messages before seq: they were lost.
func (l *life) skipGap(from zab.PeerID, boot int, seq uint64) {
	in := l.inbound[from]
	if in == nil || in.boot != boot || !in.order.Missing(seq) {
		return
	}
	if in := l.hand(from, in.order.SkipTo(seq)); len(in.batch) > 0 {
		l.s.host.Input(in)
	}
}
