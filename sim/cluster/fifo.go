package cluster

import (
	"slices"
	"time"

	"github.com/zabkit/zabkit/zab"
)

// ZAB assumes FIFO channels between peers (the paper's model: TCP), while netsim delivers
// each copy after its own delay, so a later message can overtake an earlier one, and copies
// can repeat. The hosts therefore run a small TCP-like layer: every message carries its
// sender's boot and a sequence number per link; the receiver delivers in order, drops
// duplicates and late copies, and holds a message that arrived early until the missing ones
// arrive or are certainly lost. A copy is delivered at most Link.Latency.Tail after it was
// sent (plus Options.RetransmitDelayMax for a retransmitted one), so once that much time has
// passed since the held message was sent, everything before it has arrived or never will:
// the gap is a loss, as when a TCP connection breaks and a new one starts. netsim's loss and
// partitions still reach zab as gaps; reordering and duplication do not.

// envelope is what crosses netsim.
type envelope struct {
	boot   int // the sender's boot: a restart starts a new connection
	seq    uint64
	sentAt time.Duration
	data   []byte // the marshaled zab.Message
}

// inbound is the receiver's state of one connection.
type inbound struct {
	boot int
	next uint64
	held []envelope // early arrivals, in seq order
}

// heldMax bounds the early messages held per connection.
const heldMax = 4096

// accept takes one arrived envelope and returns the envelopes now deliverable, in order.
func (l *life) accept(from zab.PeerID, e envelope) []envelope {
	in := l.inbound[from]
	switch {
	case in == nil || e.boot > in.boot:
		// A new connection starts at the first message seen; earlier ones that arrive
		// later are dropped, as a new TCP connection never sees the old one's packets.
		l.inbound[from] = &inbound{boot: e.boot, next: e.seq + 1}
		return []envelope{e}
	case e.boot < in.boot || e.seq < in.next:
		return nil // an old connection, a duplicate or a copy already skipped over
	case e.seq == in.next:
		in.next++
		return append([]envelope{e}, in.drain()...)
	}
	i, found := slices.BinarySearchFunc(in.held, e.seq, func(h envelope, seq uint64) int { return cmpU64(h.seq, seq) })
	if found {
		return nil
	}
	if len(in.held) >= heldMax {
		panic("cluster: a connection holds too many early messages")
	}
	in.held = slices.Insert(in.held, i, e)
	o := l.s.c.opts
	wait := e.sentAt + o.RetransmitDelayMax + o.Link.Latency.Tail + time.Microsecond - l.s.c.world.Now()
	boot, seq := e.boot, e.seq
	l.s.host.After(max(wait, 0), func() { l.skipGap(from, boot, seq) })
	return nil
}

// skipGap gives up on the messages before seq: they were lost.
func (l *life) skipGap(from zab.PeerID, boot int, seq uint64) {
	in := l.inbound[from]
	if in == nil || in.boot != boot || in.next >= seq {
		return
	}
	in.next = seq
	l.s.host.Input(input{batch: in.drain(), from: from})
}

// drain returns the held messages that are now in order.
func (in *inbound) drain() []envelope {
	n := 0
	for n < len(in.held) && in.held[n].seq < in.next {
		n++ // skipped over by an earlier gap
	}
	in.held = slices.Delete(in.held, 0, n)
	n = 0
	for n < len(in.held) && in.held[n].seq == in.next {
		in.next++
		n++
	}
	out := slices.Clone(in.held[:n])
	in.held = slices.Delete(in.held, 0, n)
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
