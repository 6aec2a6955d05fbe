package sim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
)

// TestTraceHashCoversEveryFieldButNemesisLines: changing any field of an event changes
// the hash, and a KindNemesis line (a wake-up that injected nothing) is kept and counted
// but leaves the hash alone, so a schedule replaying a nemesis run's faults hashes the same.
func TestTraceHashCoversEveryFieldButNemesisLines(t *testing.T) {
	base := sim.Event{At: time.Millisecond, Kind: sim.KindSend, Host: "a", Peer: "b", ID: 7, Size: 10, Digest: 99, Text: "x"}
	hash := func(e sim.Event) uint64 {
		tr := sim.NewTrace(false)
		tr.Add(e)
		return tr.Hash()
	}
	for name, change := range map[string]func(e *sim.Event){
		"At": func(e *sim.Event) { e.At++ }, "Kind": func(e *sim.Event) { e.Kind = sim.KindDeliver },
		"Host": func(e *sim.Event) { e.Host = "c" }, "Peer": func(e *sim.Event) { e.Peer = "c" },
		"ID": func(e *sim.Event) { e.ID++ }, "Size": func(e *sim.Event) { e.Size++ },
		"Digest": func(e *sim.Event) { e.Digest++ }, "Text": func(e *sim.Event) { e.Text = "y" },
	} {
		e := base
		change(&e)
		require.NotEqual(t, hash(base), hash(e), "changing %s must change the hash", name)
	}

	with, without := sim.NewTrace(true), sim.NewTrace(true)
	for _, tr := range []*sim.Trace{with, without} {
		tr.Add(base)
	}
	with.Add(sim.Event{At: 2 * time.Millisecond, Kind: sim.KindNemesis, Text: "no restart, no host is down"})
	require.Equal(t, without.Hash(), with.Hash(), "a nemesis line must not change the hash")
	require.EqualValues(t, 2, with.Len(), "a nemesis line counts as an event")
	require.Equal(t, "      2.000000ms      nemesis  no restart, no host is down", with.Lines()[1])
}
