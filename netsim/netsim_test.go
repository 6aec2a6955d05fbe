package netsim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/clock"
)

var fixed = Link{Latency: Latency{Min: time.Millisecond, Typical: time.Millisecond, Tail: time.Millisecond}}

type world struct {
	clock *clock.Virtual
	net   *Network
	got   map[string][]Message
	eps   []Endpoint
}

func newWorld(t *testing.T, seed uint64, l Link, names ...string) *world {
	t.Helper()
	w := &world{clock: clock.NewVirtual(), got: map[string][]Message{}}
	w.net = New(w.clock, rand.New(rand.NewPCG(seed, 7)), l)
	for _, name := range names {
		w.eps = append(w.eps, w.net.Attach(name, func(m Message) { w.got[name] = append(w.got[name], m) }))
	}
	return w
}

func TestDeliveryAfterLatency(t *testing.T) {
	w := newWorld(t, 1, Link{Latency: Latency{Min: 3 * time.Millisecond, Typical: 3 * time.Millisecond, Tail: 3 * time.Millisecond}}, "a", "b")
	w.net.Send(w.eps[0], w.eps[1], "hello", 5)
	w.clock.Advance(2 * time.Millisecond)
	require.Empty(t, w.got["b"], "nothing may arrive before the minimum latency")
	w.clock.Advance(time.Millisecond)
	require.Len(t, w.got["b"], 1)
	require.Equal(t, "hello", w.got["b"][0].Payload)
	require.Equal(t, Stats{Sent: 1, Delivered: 1, SentBytes: 5, DeliveredBytes: 5}, w.net.Stats())
}

func TestPartitions(t *testing.T) {
	cases := []struct {
		name    string
		apply   func(n *Network, e []Endpoint)
		reaches [3][3]bool // reaches[from][to]
	}{
		{"none", func(n *Network, e []Endpoint) {}, [3][3]bool{{true, true, true}, {true, true, true}, {true, true, true}}},
		{"groups {a,b} {c}", func(n *Network, e []Endpoint) { n.Partition([]Endpoint{e[0], e[1]}, []Endpoint{e[2]}) },
			[3][3]bool{{true, true, false}, {true, true, false}, {false, false, true}}},
		{"one-way cut a->b", func(n *Network, e []Endpoint) { n.Cut(e[0], e[1]) },
			[3][3]bool{{true, false, true}, {true, true, true}, {true, true, true}}},
		{"isolate c", func(n *Network, e []Endpoint) { n.Isolate(e[2]) },
			[3][3]bool{{true, true, false}, {true, true, false}, {false, false, true}}},
		{"isolate then heal", func(n *Network, e []Endpoint) { n.Isolate(e[2]); n.Heal() },
			[3][3]bool{{true, true, true}, {true, true, true}, {true, true, true}}},
		{"isolate then heal one link", func(n *Network, e []Endpoint) { n.Isolate(e[2]); n.HealLink(e[2], e[0]) },
			[3][3]bool{{true, true, true}, {true, true, false}, {true, false, true}}},
		{"groups replace the earlier cut", func(n *Network, e []Endpoint) { n.Cut(e[0], e[1]); n.Partition([]Endpoint{e[0]}, []Endpoint{e[2]}) },
			[3][3]bool{{true, true, false}, {true, true, true}, {false, true, true}}},
	}
	names := []string{"a", "b", "c"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1, fixed, names...)
			tc.apply(w.net, w.eps)
			for from := range 3 {
				for to := range 3 {
					if from != to {
						w.net.Send(w.eps[from], w.eps[to], names[from], 1)
					}
				}
			}
			w.clock.Advance(time.Second)
			for from := range 3 {
				for to := range 3 {
					if from == to {
						continue
					}
					heard := false
					for _, m := range w.got[names[to]] {
						heard = heard || m.Payload == names[from]
					}
					require.Equal(t, tc.reaches[from][to], heard, "%s -> %s", names[from], names[to])
					require.Equal(t, tc.reaches[from][to], w.net.Connected(w.eps[from], w.eps[to]))
				}
			}
		})
	}
}

func TestPartitionStartingInFlightLosesTheMessage(t *testing.T) {
	w := newWorld(t, 1, fixed, "a", "b")
	w.net.Send(w.eps[0], w.eps[1], "x", 1)
	w.net.Isolate(w.eps[1])
	w.clock.Advance(time.Second)
	require.Empty(t, w.got["b"])
	require.EqualValues(t, 1, w.net.Stats().DroppedPartition)
}

func TestMessagesToADownEndpointVanish(t *testing.T) {
	w := newWorld(t, 1, fixed, "a", "b")
	w.net.Send(w.eps[0], w.eps[1], "sent while up", 3)
	w.net.SetUp(w.eps[1], false)
	w.net.Send(w.eps[0], w.eps[1], "sent while down", 4)
	w.clock.Advance(time.Second)
	w.net.SetUp(w.eps[1], true)
	w.clock.Advance(time.Second)
	require.Empty(t, w.got["b"], "b crashed with one message in flight and got another while down: neither may arrive, even after b is back up")
	s := w.net.Stats()
	require.EqualValues(t, 2, s.DroppedDown, "both copies count as dropped at a down endpoint: %+v", s)
	require.EqualValues(t, 7, s.DroppedBytes, "the dropped bytes are both messages' sizes: %+v", s)
}

// TestMessagesToAPreviousLifeVanish is the restart race: b crashes, a message is sent to
// it (or was already in flight), and b restarts before the message's arrival time. The
// message was addressed to the process that crashed; the new process must not see it.
func TestMessagesToAPreviousLifeVanish(t *testing.T) {
	slow := Link{Latency: Latency{Min: 10 * time.Millisecond, Typical: 10 * time.Millisecond, Tail: 10 * time.Millisecond}}
	cases := []struct {
		name string
		run  func(w *world)
	}{
		{"sent while down, receiver back before arrival", func(w *world) {
			w.net.SetUp(w.eps[1], false)
			w.net.Send(w.eps[0], w.eps[1], "x", 1)
			w.clock.Advance(5 * time.Millisecond)
			w.net.SetUp(w.eps[1], true)
		}},
		{"in flight at the crash, receiver back before arrival", func(w *world) {
			w.net.Send(w.eps[0], w.eps[1], "x", 1)
			w.clock.Advance(2 * time.Millisecond)
			w.net.SetUp(w.eps[1], false)
			w.clock.Advance(3 * time.Millisecond)
			w.net.SetUp(w.eps[1], true)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1, slow, "a", "b")
			tc.run(w)
			w.clock.Advance(time.Second) // the arrival time (10 ms) passes with b up
			require.Empty(t, w.got["b"], "a message addressed to b's previous life arrived in its new life")
			require.EqualValues(t, 1, w.net.Stats().DroppedDown, "stats: %+v", w.net.Stats())

			w.net.Send(w.eps[0], w.eps[1], "y", 1)
			w.clock.Advance(time.Second)
			require.Len(t, w.got["b"], 1, "a message sent to the new life must arrive")
			require.Equal(t, "y", w.got["b"][0].Payload)
		})
	}
}

func TestLossDuplicationAndReorderingRates(t *testing.T) {
	l := Link{
		Latency:              Latency{Min: time.Millisecond, Typical: 5 * time.Millisecond, Tail: 50 * time.Millisecond, TailProbability: 0.05},
		LossProbability:      0.2,
		DuplicateProbability: 0.1,
	}
	w := newWorld(t, 42, l, "a", "b")
	const sends = 20000
	for i := range sends {
		w.net.Send(w.eps[0], w.eps[1], i, 1)
	}
	w.clock.Advance(time.Minute)
	s := w.net.Stats()
	require.InDelta(t, 0.2*sends, float64(s.DroppedLoss), 0.02*sends, "loss rate")
	require.InDelta(t, 0.1*0.8*sends, float64(s.Duplicated), 0.02*sends, "duplication rate")
	require.Equal(t, s.Sent-s.DroppedLoss+s.Duplicated, s.Delivered, "every copy not lost is delivered")
	require.Equal(t, s.Duplicated, s.DuplicatedBytes, "each duplicate is one 1-byte copy: %+v", s)
	require.Equal(t, s.DroppedLoss, s.DroppedBytes, "each loss is one 1-byte copy: %+v", s)
	inversions := 0
	for i := 1; i < len(w.got["b"]); i++ {
		if w.got["b"][i].Payload.(int) < w.got["b"][i-1].Payload.(int) {
			inversions++
		}
	}
	require.Positive(t, inversions, "copies with independent delays must sometimes overtake each other")
}

func TestLatencyStaysWithinBounds(t *testing.T) {
	l := Latency{Min: 2 * time.Millisecond, Typical: 4 * time.Millisecond, Tail: 30 * time.Millisecond, TailProbability: 0.1}
	rng := rand.New(rand.NewPCG(3, 3))
	for range 10000 {
		d := l.Draw(rng)
		require.GreaterOrEqual(t, d, l.Min)
		require.LessOrEqual(t, d, l.Tail)
	}
}

func TestSameSeedSameDeliveries(t *testing.T) {
	run := func(seed uint64) []uint64 {
		l := Link{Latency: Latency{Min: 0, Typical: 3 * time.Millisecond, Tail: 9 * time.Millisecond, TailProbability: 0.1}, LossProbability: 0.1, DuplicateProbability: 0.1}
		w := newWorld(t, seed, l, "a", "b", "c")
		for i := range 500 {
			w.net.Send(w.eps[i%3], w.eps[(i+1)%3], i, 1)
		}
		w.clock.Advance(time.Minute)
		var ids []uint64
		for _, name := range []string{"a", "b", "c"} {
			for _, m := range w.got[name] {
				ids = append(ids, m.ID)
			}
		}
		return ids
	}
	require.Equal(t, run(9), run(9))
	require.NotEqual(t, run(9), run(10))
}

func TestInvalidLinksAreRefused(t *testing.T) {
	for _, l := range []Link{
		{Latency: Latency{Min: 2, Typical: 1, Tail: 3}},
		{Latency: Latency{Min: 1, Typical: 2, Tail: 1}},
		{LossProbability: 1.5},
		{DuplicateProbability: -0.1},
	} {
		require.Error(t, l.Validate(), "%+v", l)
	}
}

// TestADownReceiverShiftsNoDraw: sending to a down endpoint makes the same random draws as
// sending to an up one, so a crash changes nothing about the delivery of other messages.
func TestADownReceiverShiftsNoDraw(t *testing.T) {
	l := Link{Latency: Latency{Min: 0, Typical: 3 * time.Millisecond, Tail: 9 * time.Millisecond, TailProbability: 0.1}, LossProbability: 0.1, DuplicateProbability: 0.1}
	arrivals := func(bDown bool) []time.Duration {
		var at []time.Duration
		w := newWorld(t, 5, l, "a", "b")
		c := w.net.Attach("c", func(Message) { at = append(at, w.clock.Now()) })
		w.net.SetUp(w.eps[1], !bDown)
		for i := range 200 {
			w.net.Send(w.eps[0], w.eps[1], i, 1)
			w.net.Send(w.eps[0], c, i, 1)
		}
		w.clock.Advance(time.Minute)
		return at
	}
	up, down := arrivals(false), arrivals(true)
	require.NotEmpty(t, up)
	require.Equal(t, up, down, "c's arrivals must not depend on whether b was down")
}

// TestInFlightMaxPanics: the network refuses a copy beyond its bound, and the panic
// prints the counters and where the copies are headed.
func TestInFlightMaxPanics(t *testing.T) {
	w := newWorld(t, 1, fixed, "a", "b", "c")
	require.Equal(t, InFlightMax, w.net.inFlightMax, "a new network has the default bound")
	w.net.inFlightMax = 3
	w.net.Send(w.eps[0], w.eps[1], "x", 1)
	w.net.Send(w.eps[0], w.eps[1], "x", 1)
	w.net.Send(w.eps[1], w.eps[2], "x", 1)
	require.Equal(t, 3, w.net.InFlight())
	require.PanicsWithValue(t, "netsim: 3 message copies in flight, the most a run may hold, at 0s: a send loop?\n"+
		"  stats {Sent:4 Delivered:0 Duplicated:0 DroppedLoss:0 DroppedPartition:0 DroppedDown:0 SentBytes:4 DeliveredBytes:0 DroppedBytes:0 DuplicatedBytes:0}\n"+
		"  in flight to: b=2 c=1",
		func() { w.net.Send(w.eps[2], w.eps[0], "x", 1) })

	w = newWorld(t, 1, fixed, "a", "b")
	w.net.inFlightMax = 1
	w.net.SetUp(w.eps[1], false)
	w.net.Send(w.eps[0], w.eps[1], "x", 1)
	w.clock.Advance(time.Second)
	require.Zero(t, w.net.InFlight(), "a dropped copy is no longer in flight")
	require.NotPanics(t, func() { w.net.Send(w.eps[0], w.eps[1], "x", 1) })
}
