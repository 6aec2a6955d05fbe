package failover

import (
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/zabkit/zabkit/sim/cluster"
)

// Bounds of the schedules rapid draws: a short fault phase, up to scheduleStepsMax faults,
// on a quiet ensemble of 3 or 5 voters (an observer sometimes) or on the seed's swarm
// configuration (3 to 7 voters, observers, lossy links, tearing disks, skewed clocks). Each draw is labelled, so rapid's shrinker
// deletes steps and lowers times, servers and actions towards plainer faults.
const (
	failoverFaultsUntil = time.Second
	scheduleStepsMax    = 12
)

// drawSchedule draws a schedule whose fault phase lasts until (bugs are the caller's).
func drawSchedule(t *rapid.T, until time.Duration) Schedule {
	s := Schedule{
		Seed:        rapid.Uint64Range(1, 1<<16).Draw(t, "seed"),
		Base:        rapid.SampledFrom([]Base{BaseQuiet, BaseSwarm}).Draw(t, "base"),
		FaultsUntil: until,
	}
	var n int
	if s.Base == BaseSwarm {
		o := cluster.Swarm(s.Seed, until) // the seed draws the ensemble, network and disks
		n = o.Voters + o.Observers
	} else {
		s.Voters = rapid.SampledFrom([]int{3, 5}).Draw(t, "voters")
		s.Observers = rapid.IntRange(0, 1).Draw(t, "observers")
		n = s.Voters + s.Observers
	}
	untilMs := int(until / time.Millisecond)
	step := rapid.Custom(func(t *rapid.T) Step {
		at := time.Duration(rapid.IntRange(0, untilMs-1).Draw(t, "at ms")) * time.Millisecond
		a := Action(rapid.IntRange(0, int(actionsCount)-1).Draw(t, "action"))
		server := rapid.IntRange(0, n-1).Draw(t, "server")
		other := 0
		switch a {
		case Cut:
			other = rapid.IntRange(0, n-2).Draw(t, "to")
		case Partition:
			other = rapid.IntRange(0, 1<<n-3).Draw(t, "partition mask")
		}
		return newStep(at, a, n, server, other)
	})
	s.Steps = rapid.SliceOfN(step, 0, scheduleStepsMax).Draw(t, "steps")
	slices.SortStableFunc(s.Steps, func(a, b Step) int { return int(a.At - b.At) })
	s.Steps = Legal(s.Steps, until)
	return s
}
