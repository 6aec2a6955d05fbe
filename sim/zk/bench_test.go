package zk

import (
	"fmt"
	"testing"
	"time"

	"github.com/zabkit/zabkit/checker"
)

// BenchmarkOneSeed is the wall time of one whole seed (a 3 s fault phase, the liveness
// phase, the quiet end and every check), with the simulated time it covers per wall second.
func BenchmarkOneSeed(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts func(seed uint64) Options
	}{
		{"quiet", Quiet},
		{"swarm", func(seed uint64) Options { return Swarm(seed, 3*time.Second) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var virtual, check time.Duration
			var ops int
			seed := uint64(0)
			start := time.Now()
			for b.Loop() {
				seed++
				r := Run(tc.opts(seed))
				if r.Failed() {
					b.Fatalf("%v", r)
				}
				virtual += r.Stats.VirtualTime
				check += r.CheckTime
				ops += r.Stats.Ops
			}
			wall := time.Since(start)
			b.ReportMetric(virtual.Minutes()/wall.Seconds(), "sim-min/wall-s")
			b.ReportMetric(float64(ops)/float64(seed), "ops/seed")
			b.ReportMetric(check.Seconds()/wall.Seconds()*100, "%check")
		})
	}
}

// BenchmarkCheckSimulatedHistory is checker.Check (every client-level check, porcupine
// included) on histories the simulator recorded: ten clients on a fault-free ensemble, the
// key space widened with the history so each key keeps to a few thousand ops.
func BenchmarkCheckSimulatedHistory(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			o := Quiet(1)
			o.Clients = 10
			o.LivenessBoundTicks = 50
			o.Workload.Subtrees = max(4, n/2_000)
			o.FaultUntil = time.Duration(n) * time.Second / 700
			r := Run(o)
			if r.Failed() {
				b.Fatalf("%v", r)
			}
			h := r.History
			b.ResetTimer()
			for b.Loop() {
				rep := checker.Check(h, checker.Config{Tree: treeConfig})
				if !rep.OK() {
					b.Fatalf("%v", rep.String())
				}
			}
			b.ReportMetric(float64(len(h.Ops)), "ops")
			b.ReportMetric(float64(r.Stats.LongestPartition), "longest-partition")
		})
	}
}
