package sim_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
)

// seeds returns the seeds a test sweeps: count seeds from 1, or just ZABKIT_SEED when it
// is set, so any failure replays with `ZABKIT_SEED=N go test ./sim -run <Test>`.
func seeds(t *testing.T, count int) []uint64 {
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_SEED must be an unsigned integer")
		return []uint64{seed}
	}
	if testing.Short() {
		count = min(count, 10)
	}
	out := make([]uint64, count)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

func runGossip(c gossipConfig) *sim.Trace {
	gw := newGossipWorld(c)
	gw.world.RunUntil(time.Second, 10_000_000)
	return gw.world.Trace
}

// TestSameSeedSameTrace is the determinism law: a seed run twice gives the identical
// trace, over many seeds of a faulty gossip workload with crashes, partitions, loss,
// duplication and disks.
func TestSameSeedSameTrace(t *testing.T) {
	for _, seed := range seeds(t, 100) {
		c := gossipConfig{seed: seed, hosts: 3 + int(seed%4), faults: true, disks: true}
		err := sim.CheckDeterminism(func(record bool) *sim.Trace {
			c.record = record
			return runGossip(c)
		})
		require.NoError(t, err, "replay: ZABKIT_SEED=%d go test ./sim -run TestSameSeedSameTrace", seed)
	}
}

// TestDeterminismCheckCatchesMapOrder shows the check above can fail: a host that picks
// its peers by ranging over a map gives a different trace on the same seed, and the check
// names the first event that differs.
func TestDeterminismCheckCatchesMapOrder(t *testing.T) {
	c := gossipConfig{seed: 7, hosts: 5, mapOrder: true}
	err := sim.CheckDeterminism(func(record bool) *sim.Trace {
		c.record = record
		return runGossip(c)
	})
	require.Error(t, err, "a map-order dependent host must make the same seed diverge")
	require.Contains(t, err.Error(), "traces differ at event")
	t.Logf("the check reported, as it should:\n%v", err)
}

// TestDeterminismCheckSeesPayloads shows the trace hashes what messages hold, not only who
// sent how many bytes to whom: a host that lists the rumors it pushes in map order sends
// the same messages to the same peers at the same times with the same sizes, and only the
// content differs. With the content hidden from the trace (a payload with no TraceDigest)
// the check cannot see the bug, which proves the bug is payload-only; with the content
// digested it must.
func TestDeterminismCheckSeesPayloads(t *testing.T) {
	check := func(opaque bool) error {
		c := gossipConfig{seed: 11, hosts: 5, faults: true, payloadMapOrder: true, opaque: opaque}
		return sim.CheckDeterminism(func(record bool) *sim.Trace {
			c.record = record
			return runGossip(c)
		})
	}
	require.NoError(t, check(true), "with payloads hidden from the trace the map-order bug must be invisible, else this test does not isolate payloads")
	err := check(false)
	require.Error(t, err, "a payload built in map order must make the same seed diverge once the trace digests payloads; reproduce: go test ./sim -run TestDeterminismCheckSeesPayloads")
	first, second := diffLine(err.Error(), "first:"), diffLine(err.Error(), "second:")
	require.NotEqual(t, first, second, "the report must show two different events:\n%v", err)
	require.Equal(t, withoutDigest(first), withoutDigest(second), "the first difference must be in a payload digest only:\n%v", err)
	t.Logf("the check reported, as it should:\n%v", err)
}

// diffLine returns the event line that follows label in a CheckDeterminism report.
func diffLine(report, label string) string {
	for _, line := range strings.Split(report, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), label); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

var digestField = regexp.MustCompile(` digest=[0-9a-f]+`)

func withoutDigest(line string) string { return digestField.ReplaceAllString(line, "") }

// TestDifferentSeedsDiffer: the seed reaches the run. Two seeds with the same trace would
// mean the world ignores its seed, and the 100-seed sweep above tests one run 100 times.
func TestDifferentSeedsDiffer(t *testing.T) {
	a := runGossip(gossipConfig{seed: 1, hosts: 3, faults: true})
	b := runGossip(gossipConfig{seed: 2, hosts: 3, faults: true})
	require.NotEqual(t, a.Hash(), b.Hash(),
		"seeds 1 and 2 gave the same trace hash %016x (%d and %d events): the seed does not reach the world; reproduce: go test ./sim -run TestDifferentSeedsDiffer",
		a.Hash(), a.Len(), b.Len())
}

// TestGossipConverges checks the workload itself does something: after the fault phase
// heals, every host knows every rumor that any live host knows.
func TestGossipConverges(t *testing.T) {
	for _, seed := range seeds(t, 20) {
		gw := newGossipWorld(gossipConfig{seed: seed, hosts: 5, faults: true, disks: true})
		gw.world.RunUntil(3*time.Second, 50_000_000)
		var first []string
		for i, h := range gw.hosts {
			require.True(t, gw.world.IsUp(h.Name()), "seed %d: %s must be up after the fault phase", seed, h.Name())
			known := h.Machine().(*gossip).known
			if i == 0 {
				first = known
				continue
			}
			require.Equal(t, first, known, "seed %d: %s and %s disagree after healing\nsettings:\n%s", seed, gw.hosts[0].Name(), h.Name(), gw.world.SettingsText())
		}
		require.NotEmpty(t, first)
	}
}
