// Package sim is zabkit's seeded simulated world: one goroutine, a virtual clock whose
// timers are the event queue, a virtual network (netsim), a virtual disk per host
// (sim/vdisk), crashes and restarts, and a trace of every event with a running hash.
//
// A world is a pure function of its seed: every random choice is drawn from a stream
// split off the seed by name, and every tie in time is broken by insertion order. The same
// seed on the same code gives a byte-identical trace (see determinism_test.go).
package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Stream returns the random stream called name of the given seed. Each host and each
// subsystem draws from its own stream (e.g. "net", "host/s1", "disk/s1", "nemesis"), so a
// new draw in one place shifts no other stream. PCG is used with explicit seeds so the
// sequence is the same on every Go release that keeps the algorithm.
func Stream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
