package failover

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim/cluster"
)

const everyStep = `# every kind of step
seed 7
cluster quiet voters=3 observers=1
faults-until 1s
bugs TruncCutsTarget,DiffByRange
at 0s heal
at 10ms crash s1
at 20ms restart s1
at 30ms isolate s4
at 40ms cut s1->s2
at 50ms partition {s1,s3} {s2,s4}
at 60ms powercut s2
at 70.5ms corrupt s3
`

func TestScheduleTextRoundTrips(t *testing.T) {
	s, err := Parse(everyStep)
	require.NoError(t, err)
	require.Equal(t, Schedule{
		Seed: 7, Base: BaseQuiet, Voters: 3, Observers: 1, FaultsUntil: time.Second,
		Bugs: []string{"TruncCutsTarget", "DiffByRange"},
		Steps: []Step{
			{At: 0, Action: Heal},
			{At: 10 * time.Millisecond, Action: Crash, Server: "s1"},
			{At: 20 * time.Millisecond, Action: Restart, Server: "s1"},
			{At: 30 * time.Millisecond, Action: Isolate, Server: "s4"},
			{At: 40 * time.Millisecond, Action: Cut, Server: "s1", To: "s2"},
			{At: 50 * time.Millisecond, Action: Partition, Group: []string{"s1", "s3"}, Other: []string{"s2", "s4"}},
			{At: 60 * time.Millisecond, Action: PowerCut, Server: "s2"},
			{At: 70*time.Millisecond + 500*time.Microsecond, Action: Corrupt, Server: "s3"},
		},
	}, s)
	again, err := Parse(s.String())
	require.NoError(t, err, "String's form must parse:\n%s", s)
	require.Equal(t, s, again, "String then Parse must give the schedule back")
	wantLines := strings.Split(strings.TrimSpace(everyStep), "\n")[1:]
	require.Equal(t, wantLines, strings.Split(strings.TrimSpace(s.String()), "\n"), "the text form is the file form, line for line")

	swarm, err := Parse("seed 3\ncluster swarm\nfaults-until 2s\nat 1.234567891s cut s5->s1\n")
	require.NoError(t, err)
	require.Equal(t, BaseSwarm, swarm.Base)
	require.Equal(t, 1234567891*time.Nanosecond, swarm.Steps[0].At, "nanosecond times (a nemesis's) survive the text form")
	require.Equal(t, "at 1.234567891s cut s5->s1", swarm.Steps[0].String())
}

func TestParseRefusesBadSchedules(t *testing.T) {
	head := "seed 1\ncluster quiet voters=3 observers=0\nfaults-until 1s\n"
	for _, tc := range []struct{ text, want string }{
		{"", `no "seed" line`},
		{"seed 1\nfaults-until 1s\n", `no "cluster" line`},
		{"seed x\n", "line 1"},
		{head + "seed 2\n", `"seed" given twice`},
		{head + "colour blue\n", "unknown directive"},
		{head + "at 10ms explode s1\n", `unknown fault "explode"`},
		{head + "at soon crash s1\n", "line 4"},
		{head + "at 10ms crash\n", "wants one server name"},
		{head + "at 10ms crash s0\n", "wants one server name"},
		{head + "at 10ms crash s01\n", "wants one server name"},
		{head + "at 10ms heal s1\n", "heal takes no argument"},
		{head + "at 10ms cut s1-s2\n", "cut wants FROM->TO"},
		{head + "at 10ms cut s1->s1\n", "cut wants FROM->TO"},
		{head + "at 10ms partition {s1} {s1,s2}\n", "repeated server"},
		{head + "at 10ms partition {} {s2}\n", "not a non-empty"},
		{head + "at 10ms partition {s1} {s2} {s3}\n", "two groups"},
		{head + "at 10ms partition {s1 {s2}\n", "not a non-empty"},
		{head + "at 1s crash s1\n", "outside the fault phase"},
		{head + "at 20ms crash s1\nat 10ms restart s1\n", "before the step above it"},
		{head + "bugs NoSuchBug\n", `no zab bug switch "NoSuchBug"`},
		{head + "bugs Any\n", `no zab bug switch "Any"`},
		{"seed 1\ncluster quiet voters=0 observers=0\nfaults-until 1s\n", "0 voters"},
		{"seed 1\ncluster quiet voters=3\nfaults-until 1s\n", "quiet voters=N observers=M"},
		{"seed 1\ncluster loud\nfaults-until 1s\n", "quiet voters=N observers=M"},
		{"seed 1\ncluster swarm\nfaults-until -1s\n", "not positive"},
	} {
		_, err := Parse(tc.text)
		require.Error(t, err, "Parse must refuse:\n%s", tc.text)
		require.Contains(t, err.Error(), tc.want, "Parse's error for:\n%s", tc.text)
	}
}

func TestOptionsRefusesUnknownServers(t *testing.T) {
	s, err := Parse("seed 1\ncluster quiet voters=3 observers=0\nfaults-until 1s\nat 10ms partition {s1} {s4}\n")
	require.NoError(t, err, "the text is well formed")
	_, err = s.Options()
	require.ErrorContains(t, err, `no server "s4"`)
	_, err = s.Run()
	require.ErrorContains(t, err, `no server "s4"`, "Run refuses what Options refuses, without running")
}

func TestOptionsTurnTheNemesisOff(t *testing.T) {
	s := Schedule{Seed: 9, Base: BaseSwarm, FaultsUntil: time.Second}
	o, err := s.Options()
	require.NoError(t, err)
	want := cluster.Swarm(9, time.Second)
	require.NotZero(t, want.Nemesis.Interval, "seed 9's swarm has a nemesis to turn off")
	require.Zero(t, o.Nemesis.Interval, "a schedule run has no nemesis")
	require.Equal(t, want.Voters, o.Voters, "the rest of the swarm's draw stays")
	require.Equal(t, want.DiskFaults, o.DiskFaults)
	require.NotNil(t, o.Hooks.Start)
	require.False(t, o.ZabBugs.Any(), "no bugs line: the fixed core")

	s.Bugs = []string{"TruncCutsTarget", "DiffByRange"}
	o, err = s.Options()
	require.NoError(t, err)
	require.Equal(t, []string{"DiffByRange", "TruncCutsTarget"}, o.ZabBugs.Names(), "the bugs line switches exactly those bugs on")
}

// A swarm seed's faults, replayed as a schedule on the same seed with the nemesis off, give
// the very same run: FromTrace loses nothing and the schedule's end is the nemesis's end.
func TestFromTraceReplaysSwarmSeeds(t *testing.T) {
	faults := 0
	for seed := uint64(1); seed <= 8; seed++ {
		o := cluster.Swarm(seed, time.Second)
		o.Record = true
		c, err := cluster.New(o)
		require.NoError(t, err)
		orig := c.Run()
		require.False(t, orig.Failed(), "seed %d: %v", seed, orig.Failure)
		steps := FromTrace(c.World().Trace.Events())
		faults += len(steps)
		s := Schedule{Seed: seed, Base: BaseSwarm, FaultsUntil: time.Second, Steps: steps}
		replay, err := s.Run()
		require.NoError(t, err)
		require.Equal(t, orig.TraceHash, replay.TraceHash,
			"seed %d: the schedule of its %d faults must replay the nemesis run exactly; reproduce: go test ./scenarios/failover -run TestFromTraceReplaysSwarmSeeds\n%s", seed, len(steps), s)
		require.Equal(t, orig.Stats, replay.Stats)
	}
	require.Greater(t, faults, 20, "the seeds' nemeses injected faults to replay")
}

func TestShrinkDeletesEveryStepTheFailureDoesNotNeed(t *testing.T) {
	var steps []Step
	for i := range 20 {
		steps = append(steps, Step{At: time.Duration(i) * time.Millisecond, Action: Crash, Server: cluster.ServerName(1 + i%3)})
	}
	s := Schedule{Seed: 1, Base: BaseQuiet, Voters: 3, FaultsUntil: time.Second, Steps: steps}
	// The "failure" needs the steps at 3ms and 17ms, and at least one of 8ms and 9ms.
	has := func(s Schedule, ms int) bool {
		return slices.ContainsFunc(s.Steps, func(st Step) bool { return st.At == time.Duration(ms)*time.Millisecond })
	}
	fails := func(s Schedule) bool { return has(s, 3) && has(s, 17) && (has(s, 8) || has(s, 9)) }
	min, runs := Shrink(s, fails, 1000)
	require.Len(t, min.Steps, 3, "three steps are needed; got\n%s", min)
	require.True(t, fails(min), "the result still fails")
	require.Less(t, runs, 60, "delta debugging needs far fewer runs than the 2^20 subsets")

	_, runs = Shrink(s, fails, 5)
	require.Equal(t, 5, runs, "runsMax bounds the runs")
	none, _ := Shrink(s, func(Schedule) bool { return true }, 100)
	require.Empty(t, none.Steps, "a failure that needs no fault shrinks to no steps")
}

func TestFromBytesAlwaysGivesARunnableSchedule(t *testing.T) {
	for _, data := range [][]byte{nil, {0}, {255, 255}, {1, 1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte(strings.Repeat("\xff\x07\x00\x09", 40))} {
		s := FromBytes(data)
		_, err := s.Options()
		require.NoError(t, err, "bytes %x decode to a schedule Options refuses:\n%s", data, s)
		again, err := Parse(s.String())
		require.NoError(t, err)
		require.Equal(t, s, again, "a decoded schedule survives its text form")
		require.LessOrEqual(t, len(s.Steps), fuzzStepsMax)
	}
	s := FromBytes([]byte{4, 1, 0, byte(Corrupt), 0, 0, 10, byte(Corrupt), 1, 0, 20, byte(Partition), 2, 5})
	require.Equal(t, "seed 5\ncluster quiet voters=5 observers=0\nfaults-until 300ms\nat 0s corrupt s1\n", s.String(),
		"decoding is fixed (a saved fuzz input keeps its meaning); Legal leaves the first corrupt step alone")
	s = FromBytes([]byte{4, 1, 20, byte(Partition), 2, 5, 40, byte(Cut), 3, 1})
	require.Equal(t, "seed 5\ncluster quiet voters=5 observers=0\nfaults-until 300ms\nat 23ms partition {s2,s3} {s1,s4,s5}\nat 46ms cut s4->s1\n", s.String())
}
