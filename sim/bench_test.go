package sim_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
)

// echo is the benchmark's machine: every millisecond it pings a random peer, and answers
// every ping with a pong. It is as cheap as a machine can be, so the benchmark measures
// the world's own cost per event.
type echo struct {
	peers      []string
	rng        *rand.Rand
	nextTickMs int64
}

type echoIn struct {
	tick bool
	from string
	ping bool
}

type echoOut struct {
	to   string
	ping bool
}

func (e *echo) NextDeadline() (int64, bool) { return e.nextTickMs, true }

func (e *echo) Handle(nowMs int64, in echoIn) []echoOut {
	switch {
	case in.tick:
		if nowMs < e.nextTickMs {
			return nil
		}
		e.nextTickMs = nowMs + 1
		return []echoOut{{to: e.peers[e.rng.IntN(len(e.peers))], ping: true}}
	case in.ping:
		return []echoOut{{to: in.from}}
	}
	return nil
}

func newEchoWorld(seed uint64, hosts int) *sim.World {
	w := sim.NewWorld(sim.Options{Seed: seed, Link: netsim.Link{
		Latency:              netsim.Latency{Min: 100 * time.Microsecond, Typical: 500 * time.Microsecond, Tail: 5 * time.Millisecond, TailProbability: 0.01},
		LossProbability:      0.01,
		DuplicateProbability: 0.01,
	}})
	var names []string
	for i := range hosts {
		names = append(names, fmt.Sprintf("n%d", i+1))
	}
	for _, name := range names {
		var peers []string
		for _, p := range names {
			if p != name {
				peers = append(peers, p)
			}
		}
		sim.AddHost(w, name, sim.Program[echoIn, echoOut]{
			Boot: func(h *sim.Host[echoIn, echoOut]) sim.Machine[echoIn, echoOut] {
				return &echo{peers: peers, rng: h.Rand()}
			},
			Message: func(from string, payload any) echoIn { return echoIn{from: from, ping: payload.(bool)} },
			Tick:    func() echoIn { return echoIn{tick: true} },
			Execute: func(h *sim.Host[echoIn, echoOut], out echoOut) { h.Send(out.to, out.ping, 16) },
		}, sim.HostOptions{})
	}
	return w
}

// BenchmarkWorldEvents runs a 5-host world whose hosts ping each other every simulated
// millisecond and reports simulated events per wall second and how much faster than real
// time the world runs. Each b.N is one event.
func BenchmarkWorldEvents(b *testing.B) {
	w := newEchoWorld(1, 5)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var events int64
	for events < int64(b.N) {
		events += w.RunUntil(w.Now()+time.Second, int64(b.N)-events)
	}
	wall := time.Since(start)
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(w.Now().Seconds()/wall.Seconds(), "sim-s/wall-s")
	b.ReportMetric(float64(w.Trace.Len())/float64(events), "trace-lines/event")
}

// BenchmarkGossipWorld is the determinism test's workload (5 hosts, disks, faults) for
// one simulated second per iteration.
func BenchmarkGossipWorld(b *testing.B) {
	var events int64
	start := time.Now()
	for i := range b.N {
		gw := newGossipWorld(gossipConfig{seed: uint64(i + 1), hosts: 5, faults: true, disks: true})
		events += gw.world.RunUntil(time.Second, 10_000_000)
	}
	wall := time.Since(start)
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/wall.Seconds(), "sim-s/wall-s")
}
