package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
)

// TestNemesisCorruptWeightFlipsBits: the corrupt weight makes the nemesis flip bits in the
// hosts' synced disk blocks, each flip a fault line of the trace; a zero weight flips none.
func TestNemesisCorruptWeightFlipsBits(t *testing.T) {
	run := func(seed uint64, corruptWeight int) (flips int64, faultLines []string) {
		gw := newGossipWorld(gossipConfig{seed: seed, hosts: 3, faults: true, disks: true, record: true,
			nemesis: func(o *sim.NemesisOptions) { o.CorruptWeight = corruptWeight }})
		gw.world.RunUntil(time.Second, 10_000_000)
		for _, d := range gw.disks {
			flips += d.Stats().Corruptions
		}
		for _, e := range gw.world.Trace.Events() {
			if e.Kind == sim.KindFault && strings.HasPrefix(e.Text, "bitflip ") {
				faultLines = append(faultLines, e.String())
			}
		}
		return flips, faultLines
	}
	for _, seed := range seeds(t, 5) {
		flips, lines := run(seed, 3)
		require.Positive(t, flips, "seed %d: corrupt weight 3 of 12 over ~16 faults flipped no bit; reproduce: ZABKIT_SEED=%d go test ./sim -run TestNemesisCorruptWeightFlipsBits", seed, seed)
		require.Len(t, lines, int(flips), "seed %d: every flip must be one bitflip fault line of the trace, got %d flips and lines:\n%s", seed, flips, strings.Join(lines, "\n"))

		flips, lines = run(seed, 0)
		require.Zero(t, flips, "seed %d: corrupt weight 0 flipped bits: %s", seed, strings.Join(lines, "\n"))
	}
}

// TestCorruptNeedsSyncedData: World.Corrupt flips nothing on a host with no disk or no
// synced block, and says why; a flip is a fault line of the trace.
func TestCorruptNeedsSyncedData(t *testing.T) {
	gw := newGossipWorld(gossipConfig{seed: 1, hosts: 2, record: true})
	_, err := gw.world.Corrupt("n1")
	require.EqualError(t, err, "sim: host n1 has no corruptible disk")

	gw = newGossipWorld(gossipConfig{seed: 1, hosts: 2, disks: true, record: true})
	_, err = gw.world.Corrupt("n1")
	require.EqualError(t, err, "sim: nothing synced on n1's disk")
	require.Zero(t, gw.world.Trace.Len(), "a corruption that flipped nothing is no event")
	gw.world.RunUntil(100*time.Millisecond, 1_000_000)
	c, err := gw.world.Corrupt("n1")
	require.NoError(t, err, "after 100 ms of gossip n1 has synced rumors")
	require.Equal(t, "rumors", c.File)
	require.EqualValues(t, 1, gw.disks[0].Stats().Corruptions)
	require.Regexp(t, `^     fault    bitflip n1 rumors offset=\d+ bit=\d$`, lastLine(gw.world.Trace))
}

// TestNemesisBitflipWithNothingSyncedIsIdle: a bitflip drawn before any disk holds synced
// data is a nemesis line, like every other wake-up that injects nothing.
func TestNemesisBitflipWithNothingSyncedIsIdle(t *testing.T) {
	gw := newGossipWorld(gossipConfig{seed: 1, hosts: 2, record: true})
	sim.StartNemesis(gw.world, sim.NemesisOptions{Hosts: []string{"n1", "n2"}, Interval: time.Millisecond, Until: 10 * time.Millisecond, CorruptWeight: 1})
	gw.world.RunUntil(10*time.Millisecond, 1_000_000)
	require.Regexp(t, `nemesis  no bitflip: sim: host n[12] has no corruptible disk`, strings.Join(gw.world.Trace.Lines(), "\n"))
}

// lastLine is the trace's last line without its time.
func lastLine(tr *sim.Trace) string {
	lines := tr.Lines()
	if len(lines) == 0 {
		return ""
	}
	_, rest, _ := strings.Cut(lines[len(lines)-1], "ms ")
	return rest
}
