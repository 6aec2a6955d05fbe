package cluster

import (
	"testing"
	"time"
)

// BenchmarkQuietThreeServers measures the simulated ensemble without faults: 3 voters,
// real storage on virtual disks, every message marshaled, the checker on every event.
// Reported: committed txns per wall second, simulated events per committed txn, and
// simulated seconds per wall second.
func BenchmarkQuietThreeServers(b *testing.B) {
	var commits int
	var events int64
	var simulated, wall time.Duration
	for i := 0; b.Loop(); i++ {
		o := Quiet(uint64(i + 1))
		o.LoadTxnsMax = 2000
		o.LoadIntervalMin, o.LoadIntervalMax = 200*time.Microsecond, 400*time.Microsecond
		start := time.Now()
		r := Run(o)
		wall += time.Since(start)
		if r.Failed() {
			b.Fatalf("seed %d: %v", r.Seed, r.Failure)
		}
		commits += r.Stats.Commits
		events += r.Events
		simulated += r.Simulated
	}
	b.ReportMetric(float64(commits)/wall.Seconds(), "commits/s")
	b.ReportMetric(float64(events)/float64(commits), "events/commit")
	b.ReportMetric(simulated.Seconds()/wall.Seconds(), "sim-s/wall-s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSwarm measures the default sweep's mix: seeds per wall second on one core.
func BenchmarkSwarm(b *testing.B) {
	var simulated, wall time.Duration
	var events int64
	seeds := 0
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		r := Run(Swarm(uint64(i+1), 2*time.Second))
		wall += time.Since(start)
		if r.Failed() {
			b.Fatalf("seed %d: %v", r.Seed, r.Failure)
		}
		simulated += r.Simulated
		events += r.Events
		seeds++
	}
	b.ReportMetric(float64(seeds)/wall.Seconds()*60, "seeds/min")
	b.ReportMetric(simulated.Seconds()/wall.Seconds(), "sim-s/wall-s")
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
}
