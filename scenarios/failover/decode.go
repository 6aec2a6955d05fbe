package failover

import (
	"slices"
	"time"

	"github.com/zabkit/zabkit/sim/cluster"
)

// Fuzz schedules are small and short so Go's fuzzer runs many of them a second.
const (
	// FuzzFaultsUntil is the fault phase of a decoded schedule.
	FuzzFaultsUntil = 300 * time.Millisecond
	// fuzzStepsMax bounds a decoded schedule.
	fuzzStepsMax = 16
	// fuzzStepBytes is what one step consumes.
	fuzzStepBytes = 4
)

// FromBytes decodes any bytes into a valid schedule (the fuzz target's input form): byte 0
// picks the seed (1..256), byte 1 the ensemble (3 or 5 voters, 0 or 1 observer), then every
// 4 bytes one step: its time as a fraction of FuzzFaultsUntil, its action, its server, and
// the other end of a cut or the membership of a partition. Steps are put in time order;
// extra bytes are ignored. Every schedule it returns passes Options.
func FromBytes(data []byte) Schedule {
	s := Schedule{Seed: 1, Base: BaseQuiet, Voters: 3, FaultsUntil: FuzzFaultsUntil}
	if len(data) > 0 {
		s.Seed = 1 + uint64(data[0])
	}
	if len(data) > 1 {
		s.Voters = []int{3, 5}[data[1]&1]
		s.Observers = int(data[1]>>1) & 1
	}
	n := s.Voters + s.Observers
	for rest := data[min(2, len(data)):]; len(rest) >= fuzzStepBytes && len(s.Steps) < fuzzStepsMax; rest = rest[fuzzStepBytes:] {
		at := (time.Duration(rest[0]) * s.FaultsUntil / 256).Truncate(time.Millisecond)
		s.Steps = append(s.Steps, newStep(at, Action(rest[1]%uint8(actionsCount)), n, int(rest[2]), int(rest[3])))
	}
	slices.SortStableFunc(s.Steps, func(a, b Step) int { return int(a.At - b.At) })
	s.Steps = Legal(s.Steps, s.FaultsUntil)
	return s
}

// newStep builds a step on n servers from two free choices: server picks the target (the
// sender of a cut), other picks the receiver of a cut or the membership bits of a partition.
func newStep(at time.Duration, a Action, n, server, other int) Step {
	st := Step{At: at, Action: a}
	switch a {
	case Heal:
	case Cut:
		from := server % n
		to := (from + 1 + other%(n-1)) % n
		st.Server, st.To = cluster.ServerName(from+1), cluster.ServerName(to+1)
	case Partition:
		mask := 1 + other%(1<<n-2) // neither side empty
		for i := range n {
			if mask&(1<<i) != 0 {
				st.Group = append(st.Group, cluster.ServerName(i+1))
			} else {
				st.Other = append(st.Other, cluster.ServerName(i+1))
			}
		}
	default:
		st.Server = cluster.ServerName(server%n + 1)
	}
	return st
}

// Legal keeps a generated schedule (fault phase until) inside the fault model the checks
// hold ZAB to, so that every failure of one is a bug. Crashes, power cuts, partitions, cuts
// and isolation of any servers at any time are inside it: disks keep what they synced. A
// corrupt log block is not, in general: recovery cannot tell a flipped bit in the last
// record from a torn unsynced write, cuts it, and the server forgets a txn it acked. If the
// other faults left that txn on a bare quorum, the forgetful server and those that never got
// it form a quorum without it, and a committed txn is lost (TestFailover found it: 5 voters,
// "isolate s1", "crash s5", "corrupt s2" just before the end; ZooKeeper has the same hole,
// see Alagappan et al., Protocol-Aware Recovery, FAST 2018). So a schedule keeps its first
// corrupt step only if it comes in the first half of the fault phase (the ensemble settles
// before the fault phase's end restarts the damaged server), and then it is the schedule's
// only fault: every crash, power cut, partition, cut and isolation is dropped (restarts and
// heals stay).
func Legal(steps []Step, until time.Duration) []Step {
	corrupt := slices.IndexFunc(steps, func(st Step) bool { return st.Action == Corrupt })
	keepCorrupt := corrupt >= 0 && steps[corrupt].At < until/2
	out := steps[:0:0]
	for i, st := range steps {
		switch st.Action {
		case Corrupt:
			if !keepCorrupt || i != corrupt {
				continue
			}
		case Crash, PowerCut, Isolate, Cut, Partition:
			if keepCorrupt {
				continue
			}
		}
		out = append(out, st)
	}
	return out
}
