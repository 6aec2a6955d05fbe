package hostio

import (
	"fmt"
	"slices"
	"time"
)

// ZAB assumes FIFO channels between peers (the paper's model: TCP), and ZooKeeper clients
// assume the same of their connection, while netsim delivers each copy after its own delay:
// a later packet can overtake an earlier one, and a copy can arrive twice. Every packet
// therefore carries a sequence number per direction, and the receiver restores the order
// with an InOrder: it delivers in order, drops duplicates and late copies, and holds a
// packet that arrived early until the missing ones arrive or are certainly lost. A copy
// arrives at most a known delay after it was sent (the link's latency tail, plus the
// longest retransmission), so once that much time has passed since the held packet was
// sent (GapWait), the gap is a loss: what TCP reports as a broken connection. Peer links
// then carry on as a new connection would (zab sees the gap as lost messages); client
// connections close.

// Packet is one sequenced message of a connection.
type Packet[T any] struct {
	Seq    uint64
	SentAt time.Duration
	Body   T
}

// InOrder is the receiving side of one direction of a connection.
type InOrder[T any] struct {
	next uint64      // the next sequence number to deliver
	held []Packet[T] // early arrivals, in seq order
}

// heldMax bounds the early packets held per connection.
const heldMax = 4096

// NewInOrder starts the receiving side of a connection whose first packet is first.
func NewInOrder[T any](first uint64) *InOrder[T] { return &InOrder[T]{next: first} }

// Accept takes one arrived packet and returns the packets now deliverable, in order, and
// whether p was held early (the caller then arms the gap timer for it: GapWait).
func (o *InOrder[T]) Accept(p Packet[T]) (ready []Packet[T], early bool) {
	switch {
	case p.Seq < o.next:
		return nil, false // a duplicate or a copy already skipped over
	case p.Seq == o.next:
		o.next++
		return append([]Packet[T]{p}, o.drain()...), false
	}
	i, found := slices.BinarySearchFunc(o.held, p.Seq, func(h Packet[T], seq uint64) int { return cmpU64(h.Seq, seq) })
	if found {
		return nil, false
	}
	if len(o.held) >= heldMax {
		panic(fmt.Sprintf("hostio: a connection holds %d early packets (next %d, arrived %d)", len(o.held), o.next, p.Seq))
	}
	o.held = slices.Insert(o.held, i, p)
	return nil, true
}

// Missing reports whether the packets before seq have still not all arrived.
func (o *InOrder[T]) Missing(seq uint64) bool { return o.next < seq }

// SkipTo gives up on the packets before seq and returns those now deliverable.
func (o *InOrder[T]) SkipTo(seq uint64) []Packet[T] {
	if o.next >= seq {
		return nil
	}
	o.next = seq
	return o.drain()
}

// drain removes and returns the held packets that are now in order.
func (o *InOrder[T]) drain() []Packet[T] {
	n := 0
	for n < len(o.held) && o.held[n].Seq < o.next {
		n++ // skipped over by an earlier gap
	}
	o.held = slices.Delete(o.held, 0, n)
	n = 0
	for n < len(o.held) && o.held[n].Seq == o.next {
		o.next++
		n++
	}
	out := slices.Clone(o.held[:n])
	o.held = slices.Delete(o.held, 0, n)
	return out
}

// GapWait is how long after now a packet sent at sentAt and held early waits for the ones
// before it: until every copy sent before it has arrived or is certainly lost, a copy
// arriving at most delayMax after it was sent.
func GapWait(sentAt, delayMax, now time.Duration) time.Duration {
	return max(sentAt+delayMax+time.Microsecond-now, 0)
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
