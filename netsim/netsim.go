// Package netsim is the simulator's virtual network: named endpoints (servers and
// clients) exchange messages over links with drawn latency, loss, duplication and
// reordering, and can be cut apart by symmetric or one-way partitions. Every random
// choice comes from the rand stream the world hands in, and every delivery is a timer on
// the world's virtual clock, so a seed replays the same network bit for bit.
package netsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/zabkit/zabkit/clock"
)

// Endpoint names one attached party by its attach order.
type Endpoint int32

// Message is one copy of a message in flight.
type Message struct {
	ID        uint64 // unique per Send; a duplicate keeps the ID of its original
	From, To  Endpoint
	Payload   any // never inspected; senders must not mutate it after Send
	SizeBytes int

	// toLife is the receiver's life when the message was sent. A copy that arrives in
	// another life was addressed to a process that has since crashed (or, if it was sent
	// while the receiver was down, to no process at all), and vanishes.
	toLife uint64
}

// Handler receives the messages delivered to an endpoint.
type Handler func(m Message)

// Network is the virtual network. It is not safe for concurrent use.
type Network struct {
	clock    *clock.Virtual
	rng      *rand.Rand
	defaults Link

	names     []string
	index     map[string]Endpoint
	handlers  []Handler
	down      []bool
	life      []uint64 // per endpoint, bumped each time it goes down or comes up
	cut       [][]bool // cut[from][to]: messages from -> to are dropped
	overrides map[[2]Endpoint]Link

	nextID      uint64
	stats       Stats
	observer    func(Event)
	inFlight    int   // copies scheduled and not yet delivered or dropped
	inFlightTo  []int // the same, per receiving endpoint, for the overflow panic
	inFlightMax int
}

// InFlightMax bounds the message copies in flight at once. A simulated run has at most a
// few thousand; a million is a send loop, and the network stops it with a panic rather
// than let the run eat the machine's memory.
const InFlightMax = 1 << 20

// New returns a network on the world's clock, drawing from rng, with every link
// configured as defaults until SetLink says otherwise.
func New(c *clock.Virtual, rng *rand.Rand, defaults Link) *Network {
	if err := defaults.Validate(); err != nil {
		panic(err)
	}
	return &Network{clock: c, rng: rng, defaults: defaults, index: map[string]Endpoint{}, inFlightMax: InFlightMax}
}

// Attach adds a named endpoint whose deliveries go to h. Names are unique.
func (n *Network) Attach(name string, h Handler) Endpoint {
	if _, ok := n.index[name]; ok {
		panic(fmt.Sprintf("netsim: endpoint %q attached twice", name))
	}
	e := Endpoint(len(n.names))
	n.names = append(n.names, name)
	n.index[name] = e
	n.handlers = append(n.handlers, h)
	n.down = append(n.down, false)
	n.life = append(n.life, 0)
	n.inFlightTo = append(n.inFlightTo, 0)
	for i := range n.cut {
		n.cut[i] = append(n.cut[i], false)
	}
	n.cut = append(n.cut, make([]bool, len(n.names)))
	return e
}

// Lookup returns the endpoint attached under name.
func (n *Network) Lookup(name string) (Endpoint, bool) {
	e, ok := n.index[name]
	return e, ok
}

// Name is the name an endpoint was attached under.
func (n *Network) Name(e Endpoint) string { return n.names[e] }

// Endpoints is the number of attached endpoints.
func (n *Network) Endpoints() int { return len(n.names) }

// Stats returns the counters so far.
func (n *Network) Stats() Stats { return n.stats }

// InFlight is the number of message copies sent and not yet delivered or dropped.
func (n *Network) InFlight() int { return n.inFlight }

// SetObserver registers f to see every send, delivery, drop and duplication.
func (n *Network) SetObserver(f func(Event)) { n.observer = f }

// SetLink configures the one-way link from -> to.
func (n *Network) SetLink(from, to Endpoint, l Link) {
	if err := l.Validate(); err != nil {
		panic(err)
	}
	if n.overrides == nil {
		n.overrides = map[[2]Endpoint]Link{}
	}
	n.overrides[[2]Endpoint{from, to}] = l
}

func (n *Network) link(from, to Endpoint) *Link {
	if l, ok := n.overrides[[2]Endpoint{from, to}]; ok {
		return &l
	}
	return &n.defaults
}

// SetUp marks an endpoint up or down. A down endpoint is a crashed process: a message sent
// to it while it is down vanishes, and so does every message sent to it before it went
// down that had not arrived yet, even when it comes back up before that message's arrival
// time. The messages were addressed to a process that no longer exists, as a TCP segment
// of a dead connection is refused by the restarted host.
//
// Every change of state starts a new life of the endpoint, and a copy is dropped (as
// DropDown) when it arrives in a life other than the one it was sent to. The drop of a
// message sent while the receiver is down therefore happens at its arrival time, not at
// Send: Send makes the same random draws whatever the receiver's state, so a crash shifts
// no later draw of the network's stream and a seed's other deliveries stay where they were.
func (n *Network) SetUp(e Endpoint, up bool) {
	if up == n.down[e] {
		n.life[e]++
	}
	n.down[e] = !up
}

// Up reports whether the endpoint is up.
func (n *Network) Up(e Endpoint) bool { return !n.down[e] }

// Send puts a message on the link from -> to and returns its ID. The network decides,
// from its rand stream, whether it is lost, how many copies arrive and when each arrives;
// copies get independent delays, so messages on one link can be reordered.
func (n *Network) Send(from, to Endpoint, payload any, sizeBytes int) uint64 {
	n.nextID++
	m := Message{ID: n.nextID, From: from, To: to, Payload: payload, SizeBytes: sizeBytes, toLife: n.life[to]}
	n.stats.Sent++
	n.stats.SentBytes += int64(sizeBytes)
	n.observe(EventSend, m, "")
	if n.cut[from][to] {
		n.drop(m, DropPartition)
		return m.ID
	}
	l := n.link(from, to)
	if l.LossProbability > 0 && n.rng.Float64() < l.LossProbability {
		n.drop(m, DropLoss)
		return m.ID
	}
	n.schedule(m, l)
	// Duplicates are bounded: at most one extra copy per send, so a storm of duplicates
	// cannot grow the event queue without limit.
	if l.DuplicateProbability > 0 && n.rng.Float64() < l.DuplicateProbability {
		n.stats.Duplicated++
		n.stats.DuplicatedBytes += int64(sizeBytes)
		n.observe(EventDuplicate, m, "")
		n.schedule(m, l)
	}
	return m.ID
}

func (n *Network) schedule(m Message, l *Link) {
	if n.inFlight >= n.inFlightMax {
		panic(n.overflow())
	}
	n.inFlight++
	n.inFlightTo[m.To]++
	delay := l.Latency.Draw(n.rng)
	n.clock.AfterFunc(delay, func() { n.deliver(m) })
}

// overflow describes the network when it has too many copies in flight.
func (n *Network) overflow() string {
	var b strings.Builder
	fmt.Fprintf(&b, "netsim: %d message copies in flight, the most a run may hold, at %v: a send loop?\n  stats %+v\n  in flight to:", n.inFlight, n.clock.Now(), n.stats)
	for e, k := range n.inFlightTo {
		if k > 0 {
			fmt.Fprintf(&b, " %s=%d", n.names[e], k)
		}
	}
	return b.String()
}

func (n *Network) deliver(m Message) {
	n.inFlight--
	n.inFlightTo[m.To]--
	switch {
	case n.down[m.To] || n.life[m.To] != m.toLife:
		n.drop(m, DropDown)
	case n.cut[m.From][m.To]:
		// A partition that starts while the message is in flight loses it too, as a
		// broken TCP connection loses what it had not yet delivered.
		n.drop(m, DropPartition)
	default:
		n.stats.Delivered++
		n.stats.DeliveredBytes += int64(m.SizeBytes)
		n.observe(EventDeliver, m, "")
		n.handlers[m.To](m)
	}
}

func (n *Network) drop(m Message, why string) {
	n.stats.DroppedBytes += int64(m.SizeBytes)
	switch why {
	case DropLoss:
		n.stats.DroppedLoss++
	case DropPartition:
		n.stats.DroppedPartition++
	case DropDown:
		n.stats.DroppedDown++
	}
	n.observe(EventDrop, m, why)
}

func (n *Network) observe(k EventKind, m Message, why string) {
	if n.observer != nil {
		n.observer(Event{Kind: k, Message: m, Reason: why})
	}
}

// Latency is a one-way delay distribution: Min plus an exponential with mean
// Typical-Min, except that with probability TailProbability the delay is drawn uniformly
// from [Typical, Tail] — the slow packets of a real network. All delays are capped at Tail.
type Latency struct {
	Min, Typical, Tail time.Duration
	TailProbability    float64
}

// Draw returns one delay.
func (l Latency) Draw(rng *rand.Rand) time.Duration {
	if l.TailProbability > 0 && l.Tail > l.Typical && rng.Float64() < l.TailProbability {
		return l.Typical + time.Duration(rng.Int64N(int64(l.Tail-l.Typical)+1))
	}
	d := l.Min
	if mean := l.Typical - l.Min; mean > 0 {
		d += time.Duration(rng.ExpFloat64() * float64(mean))
	}
	return min(d, l.Tail)
}

// Link configures one direction between two endpoints.
type Link struct {
	Latency              Latency
	LossProbability      float64
	DuplicateProbability float64
}

// Validate reports a configuration the network cannot honour.
func (l Link) Validate() error {
	lat := l.Latency
	if lat.Min < 0 || lat.Typical < lat.Min || lat.Tail < lat.Typical {
		return fmt.Errorf("netsim: latency must satisfy 0 <= min <= typical <= tail, got %v/%v/%v", lat.Min, lat.Typical, lat.Tail)
	}
	for _, p := range []float64{lat.TailProbability, l.LossProbability, l.DuplicateProbability} {
		if p < 0 || p > 1 {
			return fmt.Errorf("netsim: probability %v outside [0, 1]", p)
		}
	}
	return nil
}

// Stats counts what the network did.
type Stats struct {
	Sent, Delivered, Duplicated                int64
	DroppedLoss, DroppedPartition, DroppedDown int64
	SentBytes, DeliveredBytes                  int64
	DroppedBytes, DuplicatedBytes              int64
}

// Dropped is the number of copies that never arrived, for any reason.
func (s Stats) Dropped() int64 { return s.DroppedLoss + s.DroppedPartition + s.DroppedDown }

// EventKind is what happened to a message.
type EventKind uint8

// Event kinds.
const (
	EventSend EventKind = iota + 1
	EventDeliver
	EventDrop
	EventDuplicate
)

// Reasons a message copy was dropped.
const (
	DropLoss      = "loss"
	DropPartition = "partition"
	DropDown      = "down"
)

// Event is one network event, for the world's trace.
type Event struct {
	Kind    EventKind
	Message Message
	Reason  string // for EventDrop
}
