package scenarios

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/cluster"
)

// traceOf runs a swarm seed and returns its trace.
func traceOf(t *testing.T, seed uint64, record bool) *sim.Trace {
	o := cluster.Swarm(seed, time.Second)
	o.Record = record
	c, err := cluster.New(o)
	require.NoError(t, err)
	if r := c.Run(); r.Failed() {
		t.Fatalf("seed %d failed: %v\nreplay: go test ./scenarios -run TestScenarios/swarm -seed=%d -v", seed, r.Failure, seed)
	}
	return c.World().Trace
}

// The whole stack is a function of the seed: the same trace hash twice, with GOMAXPROCS 1
// and 2, and with other seeds running at the same time in other goroutines (no state shared
// between worlds).
func TestSameSeedSameTraceAcrossGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, seed := range seeds(t, 8) {
		hashes := map[int]uint64{}
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			err := sim.CheckDeterminism(func(record bool) *sim.Trace { return traceOf(t, seed, record) })
			require.NoError(t, err, "seed %d, GOMAXPROCS=%d\nreplay: go test ./scenarios -run TestSameSeedSameTraceAcrossGOMAXPROCS -seed=%d", seed, procs, seed)
			hashes[procs] = traceOf(t, seed, false).Hash()
		}
		require.Equal(t, hashes[1], hashes[2], "seed %d: trace hash differs between GOMAXPROCS=1 and 2\nreplay: go test ./scenarios -run TestSameSeedSameTraceAcrossGOMAXPROCS -seed=%d", seed, seed)
	}
}

func TestConcurrentWorldsDoNotInterfere(t *testing.T) {
	list := seeds(t, 6)
	alone := make([]uint64, len(list))
	for i, s := range list {
		alone[i] = traceOf(t, s, false).Hash()
	}
	together := make([]uint64, len(list))
	var wg sync.WaitGroup
	for i, s := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := cluster.Swarm(s, time.Second)
			c, err := cluster.New(o)
			if err != nil {
				panic(fmt.Sprintf("seed %d: %v", s, err))
			}
			c.Run()
			together[i] = c.World().Trace.Hash()
		}()
	}
	wg.Wait()
	require.Equal(t, alone, together, "seeds %v: traces differ when worlds run concurrently", list)
}
