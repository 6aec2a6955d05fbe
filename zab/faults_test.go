package zab

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// runFaults drives random faults for duration ms: crashes (any node, often the leader),
// isolated nodes, random two-sided partitions and heals, on top of the network's loss,
// duplication and reordering.
func (c *cluster) runFaults(duration Time) {
	end := c.now + duration
	tick := c.opt.tickMillis
	for c.now < end {
		c.run(min(end, c.now+Time(tick+c.rng.Int64N(10*tick))))
		id := c.ids[c.rng.IntN(len(c.ids))]
		switch c.rng.IntN(6) {
		case 0:
			if n := c.nodes[id]; n.up {
				c.crash(n, "fault")
			}
		case 1:
			if l := c.leader(); l != nil {
				c.crash(l, "fault: leader")
			}
		case 2:
			c.isolate(id)
		case 3:
			for _, a := range c.ids {
				for _, b := range c.ids {
					if a != b && c.rng.IntN(2) == 0 {
						c.cut[link{a, b}] = true
					}
				}
			}
		case 4, 5:
			clear(c.cut)
		}
	}
}

// seeds returns the seeds a randomized test runs: ZABKIT_SEED pins one, ZABKIT_SEEDS sets
// how many, -short runs few.
func seeds(t *testing.T, n int) []uint64 {
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ZABKIT_SEED=%q: %v", s, err)
		}
		return []uint64{v}
	}
	if s := os.Getenv("ZABKIT_SEEDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("ZABKIT_SEEDS=%q: %v", s, err)
		}
		n = v
	} else if testing.Short() {
		n = max(1, n/5)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// faultyOptions draws the network and disk misbehaviour of one run from its seed.
func faultyOptions(seed uint64, voters, observers int) harnessOptions {
	o := defaultOptions(voters, observers)
	c := newSeedRand(seed)
	o.lossPerMille = c.IntN(80)
	o.dupPerMille = c.IntN(80)
	o.reorder = c.IntN(4) == 0
	o.latencyMax = Time(2 + c.IntN(30))
	o.diskMax = Time(1 + c.IntN(20))
	if c.IntN(3) == 0 {
		o.diffTxnsMax = 1 + c.IntN(20) // force SNAP for laggards
	}
	if c.IntN(2) == 0 {
		o.snapshotEveryTxns = 1 + c.IntN(40) // compact logs often
	}
	return o
}

// livenessBoundTicks is how long a healed cluster may take to elect, sync and commit: a few
// initLimit/syncLimit timeouts for stale sessions to expire, then an election.
const livenessBoundTicks = 120

func TestClusterFaultsKeepInvariantsAndRecover(t *testing.T) {
	sizes := []struct{ voters, observers, seeds int }{{3, 0, 40}, {5, 0, 25}, {7, 0, 10}, {7, 2, 5}, {3, 2, 20}, {5, 1, 10}}
	modes := map[MessageType]int{}
	worst := int64(0)
	for _, size := range sizes {
		for _, seed := range seeds(t, size.seeds) {
			t.Run(fmt.Sprintf("voters=%d/observers=%d/seed=%d", size.voters, size.observers, seed), func(t *testing.T) {
				c := newCluster(t, seed, faultyOptions(seed, size.voters, size.observers))
				c.runFaults(3000)
				c.heal()
				worst = max(worst, c.awaitProgress(livenessBoundTicks))
				c.run(c.now + 200)
				c.finish()
				for k, v := range c.stats.syncModes {
					modes[k] += v
				}
			})
		}
	}
	t.Logf("sync modes seen: %v; slowest recovery after heal: %d ticks (bound %d)", modes, worst, livenessBoundTicks)
}
