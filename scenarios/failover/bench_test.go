package failover

import (
	"testing"
	"time"
)

// BenchmarkSchedule measures one TestFailover-sized run: a 1 s fault phase of six faults on
// 3 voters, then the liveness phase. Reported: schedules per wall second and simulated
// seconds per wall second (one core).
func BenchmarkSchedule(b *testing.B) {
	s, err := Parse(`seed 1
cluster quiet voters=3 observers=0
faults-until 1s
at 100ms crash s3
at 250ms restart s3
at 400ms partition {s1} {s2,s3}
at 600ms heal
at 700ms powercut s2
at 800ms cut s1->s3
`)
	if err != nil {
		b.Fatal(err)
	}
	var simulated time.Duration
	start := time.Now()
	runs := 0
	for b.Loop() {
		s.Seed = uint64(runs + 1)
		r, err := s.Run()
		if err != nil || r.Failed() {
			b.Fatalf("seed %d: %v %v\n%s", s.Seed, err, r.Failure, s)
		}
		simulated += r.Simulated
		runs++
	}
	wall := time.Since(start)
	b.ReportMetric(float64(runs)/wall.Seconds(), "schedules/s")
	b.ReportMetric(simulated.Seconds()/wall.Seconds(), "sim-s/wall-s")
	b.ReportMetric(0, "ns/op")
}
