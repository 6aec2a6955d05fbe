package zab

import (
	"testing"

	"pgregory.net/rapid"
)

// faultAction is one step of a rapid-drawn fault schedule.
type faultAction struct {
	WaitTicks int
	Kind      int // 0 crash, 1 isolate, 2 cut one link, 3 heal links
	Node      int
	Other     int
}

// TestFaultSchedulesProperty draws whole fault schedules with rapid, so that a failure
// shrinks to the fewest, shortest faults that still break an invariant or liveness. rapid
// also draws which BUGGIFY sites are active (none in about half the cases), so a failure
// shrinks to the fewest sites it needs.
func TestFaultSchedulesProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		voters := rapid.SampledFrom([]int{3, 5}).Draw(rt, "voters")
		observers := rapid.IntRange(0, 1).Draw(rt, "observers")
		seed := rapid.Uint64().Draw(rt, "seed")
		n := voters + observers
		schedule := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) faultAction {
			return faultAction{
				WaitTicks: rapid.IntRange(0, 15).Draw(t, "wait"),
				Kind:      rapid.IntRange(0, 3).Draw(t, "kind"),
				Node:      rapid.IntRange(1, n).Draw(t, "node"),
				Other:     rapid.IntRange(1, n).Draw(t, "other"),
			}
		}), 0, 30).Draw(rt, "schedule")
		opt := defaultOptions(voters, observers)
		opt.lossPerMille = rapid.IntRange(0, 50).Draw(rt, "lossPerMille")
		opt.snapshotEveryTxns = rapid.IntRange(0, 20).Draw(rt, "snapshotEveryTxns")
		if rapid.Bool().Draw(rt, "buggify") {
			sites := rapid.SliceOfNDistinct(rapid.SampledFrom(BuggifySites()), 1, -1, rapid.ID[string]).Draw(rt, "buggifySites")
			opt.buggify = newTestBuggify(seed, sites)
		}
		c := newCluster(rt, seed, opt)
		for _, a := range schedule {
			c.run(c.now + Time(int64(a.WaitTicks)*opt.tickMillis))
			id := PeerID(a.Node)
			switch a.Kind {
			case 0:
				if nd := c.nodes[id]; nd.up {
					c.crash(nd, "schedule")
				}
			case 1:
				c.isolate(id)
			case 2:
				if a.Other != a.Node {
					c.cut[link{id, PeerID(a.Other)}] = true
				}
			case 3:
				clear(c.cut)
			}
		}
		c.heal()
		c.awaitProgress(livenessBoundTicks)
		c.finish()
	})
}
