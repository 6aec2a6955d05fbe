package zk

import (
	"fmt"
	"slices"
	"time"
)

// Both kinds of connection in the world (member to member, client to server) are TCP
// connections, while netsim delivers each copy after its own delay: a later packet can
// overtake an earlier one, and a copy can arrive twice. Every packet therefore carries a
// sequence number per direction, and the receiver restores the order with an inOrder: it
// delivers in order, drops duplicates and late copies, and holds a packet that arrived early
// until the missing ones arrive or are certainly lost. A copy arrives at most
// Link.Latency.Tail after it was sent, so once that much time has passed since the held
// packet was sent, the gap is a loss: what TCP reports as a broken connection. Peer links
// then carry on as a new connection would (zab sees the gap as lost messages); client
// connections close.

// packet is one sequenced message of a connection.
type packet struct {
	seq    uint64
	sentAt time.Duration
	body   any
}

// inOrder is the receiving side of one direction of a connection.
type inOrder struct {
	next uint64   // the next sequence number to deliver
	held []packet // early arrivals, in seq order
}

// heldMax bounds the early packets held per connection.
const heldMax = 4096

// accept takes one arrived packet and returns the packets now deliverable, in order, and
// whether p was held early (the caller then arms the gap timer for it).
func (o *inOrder) accept(p packet) (ready []packet, early bool) {
	switch {
	case p.seq < o.next:
		return nil, false // a duplicate or a copy already skipped over
	case p.seq == o.next:
		o.next++
		return append([]packet{p}, o.drain()...), false
	}
	i, found := slices.BinarySearchFunc(o.held, p.seq, func(h packet, seq uint64) int { return cmpU64(h.seq, seq) })
	if found {
		return nil, false
	}
	if len(o.held) >= heldMax {
		panic(fmt.Sprintf("zk: a connection holds %d early packets (next %d, arrived %d)", len(o.held), o.next, p.seq))
	}
	o.held = slices.Insert(o.held, i, p)
	return nil, true
}

// missing reports whether the packets before seq have still not all arrived.
func (o *inOrder) missing(seq uint64) bool { return o.next < seq }

// skipTo gives up on the packets before seq and returns those now deliverable.
func (o *inOrder) skipTo(seq uint64) []packet {
	if o.next >= seq {
		return nil
	}
	o.next = seq
	return o.drain()
}

// drain removes and returns the held packets that are now in order.
func (o *inOrder) drain() []packet {
	n := 0
	for n < len(o.held) && o.held[n].seq < o.next {
		n++ // skipped over by an earlier gap
	}
	o.held = slices.Delete(o.held, 0, n)
	n = 0
	for n < len(o.held) && o.held[n].seq == o.next {
		o.next++
		n++
	}
	out := slices.Clone(o.held[:n])
	o.held = slices.Delete(o.held, 0, n)
	return out
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// gapWait is how long after sentAt a held packet waits for the ones before it.
func gapWait(sentAt, tail, now time.Duration) time.Duration {
	return max(sentAt+tail+time.Microsecond-now, 0)
}

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

func (m connMsg) packet() packet { return packet{seq: m.seq, sentAt: m.sentAt, body: m} }

// connMsgHeaderBytes is what the connection layer adds to a frame on the wire.
const connMsgHeaderBytes = 24
