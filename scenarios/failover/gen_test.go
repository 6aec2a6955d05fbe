package failover

import (
	"slices"
	"time"

	"pgregory.net/rapid"
)

// Bounds of the schedules rapid draws: a short fault phase on 3 or 5 voters (an observer
// sometimes), up to scheduleStepsMax faults. Each draw is labelled, so rapid's shrinker
// deletes steps and lowers times, servers and actions towards plainer faults.
const (
	failoverFaultsUntil = time.Second
	scheduleStepsMax    = 12
)

// drawSchedule draws a schedule whose fault phase lasts until (bugs are the caller's).
func drawSchedule(t *rapid.T, until time.Duration) Schedule {
	s := Schedule{
		Seed:        rapid.Uint64Range(1, 1<<16).Draw(t, "seed"),
		Base:        BaseQuiet,
		Voters:      rapid.SampledFrom([]int{3, 5}).Draw(t, "voters"),
		Observers:   rapid.IntRange(0, 1).Draw(t, "observers"),
		FaultsUntil: until,
	}
	n := s.Voters + s.Observers
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
	s.Steps = Legal(s.Steps)
	return s
}
