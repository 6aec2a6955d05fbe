package daemon

import (
	"testing"
	"time"

	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/daemon/loadgen"
)

// BenchmarkEnsemble drives an in-process 3-server ensemble (fsync on, ZooKeeper's default
// 2 s tick) with 16 go-zookeeper sessions, one request outstanding each, per workload, and
// reports ops/s and latency percentiles. b.N is ignored beyond one 2-second run per
// workload: the figures are throughput and latency of a bounded closed-loop load.
//
//	go test ./daemon -run '^$' -bench Ensemble -benchtime 1x
func BenchmarkEnsemble(b *testing.B) {
	e, err := StartEnsemble(EnsembleOptions{Dir: b.TempDir(), Servers: 3, Logger: testLogger(),
		Tune: func(c *config.Config) { c.MaxClientCnxns = 0 }})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	deadline := time.Now().Add(waitMax)
	for e.Leader() < 0 {
		if time.Now().After(deadline) {
			b.Fatal("no leader")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, op := range loadgen.Ops {
		b.Run(op, func(b *testing.B) {
			r, err := loadgen.Run(loadgen.Options{Servers: e.Addrs(), Sessions: 16, Duration: 2 * time.Second, Op: op, ValueBytes: 100})
			if err != nil {
				b.Fatal(err)
			}
			if r.Errors > 0 {
				b.Fatalf("%d errors: %v", r.Errors, r)
			}
			b.ReportMetric(r.OpsPerSec, "ops/s")
			b.ReportMetric(float64(r.P50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
			b.ReportMetric(0, "ns/op")
		})
	}
}
