package zk

import (
	"testing"
	"time"
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
