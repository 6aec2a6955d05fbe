package zk

import (
	"time"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
)

// Both kinds of connection in the world (member to member, client to server) are TCP
// connections over netsim, which may reorder and duplicate: every packet carries a sequence
// number per direction, and the receiver restores the order with a hostio.InOrder. A copy
// arrives at most Link.Latency.Tail after it was sent, so once that much time has passed
// since a held packet was sent (hostio.GapWait), the gap is a loss: what TCP reports as a
// broken connection. Peer links then carry on as a new connection would (zab sees the gap
// as lost messages); client connections close.

// Client connection traffic.

// connKind is what a client connection packet carries.
type connKind uint8

const (
	// connOpen opens the connection (client to server, always seq 1) and carries the
	// ConnectRequest frame.
	connOpen connKind = iota + 1
	// connFrame carries one frame payload (without its 4-byte length prefix).
	connFrame
	// connClose closes the connection (either side): FIN or RST, the other side sees the
	// connection end after every packet before it.
	connClose
)

// connMsg is what crosses netsim on a client connection.
type connMsg struct {
	conn   uint64 // unique in the world: allocated by the client
	seq    uint64 // per direction, from 1
	sentAt time.Duration
	kind   connKind
	frame  []byte
}

// TraceDigest digests the packet for the trace (sim.TraceDigester): the frame's bytes and
// every connection field, so the trace hash and the determinism check see what clients and
// servers said to each other, not only that a packet of some size went by.
func (m connMsg) TraceDigest() uint64 {
	h := sim.DigestMix(sim.DigestBytes(m.frame), m.conn)
	h = sim.DigestMix(h, m.seq)
	h = sim.DigestMix(h, uint64(m.sentAt))
	return sim.DigestMix(h, uint64(m.kind))
}

func (m connMsg) packet() hostio.Packet[connMsg] {
	return hostio.Packet[connMsg]{Seq: m.seq, SentAt: m.sentAt, Body: m}
}

// connMsgHeaderBytes is what the connection layer adds to a frame on the wire.
const connMsgHeaderBytes = 24
