package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

var _ zab.Buggify = (*Buggify)(nil) // the hook zab.Config and node.Config take

func TestNilBuggifyInAConfigNeverFires(t *testing.T) {
	var off *Buggify
	var hook zab.Buggify = off // what a host stores when the run does not buggify
	for _, s := range node.BuggifySites() {
		require.False(t, hook.Fire(s), "a nil *Buggify fired at %s", s)
	}
	require.Empty(t, off.Activated())
	require.Empty(t, off.Counts())
}

func TestBuggifyActivatesAQuarterOfTheSitesPerRun(t *testing.T) {
	const runs = 4000
	sites := node.BuggifySites()
	active := 0
	subsets := map[string]bool{}
	for seed := range uint64(runs) {
		b := NewBuggify(Stream(seed, "buggify"))
		for _, s := range sites {
			if b.Active(s) {
				active++
			}
		}
		subsets[strings.Join(b.Activated(), " ")] = true
	}
	share := float64(active) / float64(runs*len(sites))
	require.InDelta(t, 0.25, share, 0.02, "share of sites active over %d seeds: want about 1/4, got %.3f", runs, share)
	require.Greater(t, len(subsets), 200, "seeds must switch on many different subsets of the %d sites (swarm), got %d", len(sites), len(subsets))
}

func TestBuggifyActiveSiteFiresAQuarterOfTheTimesAndInactiveNever(t *testing.T) {
	b := NewBuggify(Stream(1, "buggify"))
	var on, off string
	for i := 0; on == "" || off == ""; i++ {
		require.Less(t, i, 1000, "no active and inactive site found among 1000 names")
		s := fmt.Sprintf("test.site-%d", i)
		if b.Active(s) && on == "" {
			on = s
		} else if !b.Active(s) && off == "" {
			off = s
		}
	}
	const asks = 20000
	fired := 0
	for range asks {
		if b.Fire(on) {
			fired++
		}
		require.False(t, b.Fire(off), "inactive site %s fired", off)
	}
	require.InDelta(t, 0.25, float64(fired)/asks, 0.015, "active site %s fired %d of %d times: want about 1/4", on, fired, asks)
	want := []SiteCount{{Site: on, Asked: asks, Fired: fired}, {Site: off, Asked: asks, Fired: 0}}
	slices.SortFunc(want, func(x, y SiteCount) int { return strings.Compare(x.Site, y.Site) })
	require.Equal(t, want, b.Counts(), "Counts must report, sorted by site, what was asked and fired")
}

// TestBuggifyIsAFunctionOfTheSeed: the same seed gives the same activations, whatever order
// the sites are first asked in, and the same firing sequence; another seed differs.
func TestBuggifyIsAFunctionOfTheSeed(t *testing.T) {
	sites := node.BuggifySites()
	reversed := slices.Clone(sites)
	slices.Reverse(reversed)
	run := func(seed uint64, order []string) ([]string, []bool) {
		b := NewBuggify(Stream(seed, "buggify"))
		var fires []bool
		for range 50 {
			for _, s := range order {
				fires = append(fires, b.Fire(s))
			}
		}
		return b.Activated(), fires
	}
	for seed := range uint64(20) {
		a1, f1 := run(seed, sites)
		a2, f2 := run(seed, sites)
		a3, _ := run(seed, reversed)
		require.Equal(t, a1, a2, "seed %d: activation must replay", seed)
		require.Equal(t, f1, f2, "seed %d: firing must replay", seed)
		require.Equal(t, a1, a3, "seed %d: activation must not depend on the order sites are asked", seed)
	}
	differ := false
	for seed := uint64(1); seed < 20 && !differ; seed++ {
		a0, _ := run(0, sites)
		a, _ := run(seed, sites)
		differ = !slices.Equal(a0, a)
	}
	require.True(t, differ, "seeds 0..19 all activated the same sites")
}

func TestWorldRecordsTheActiveBuggifySitesAsASetting(t *testing.T) {
	for seed := range uint64(30) {
		w := NewWorld(Options{Seed: seed})
		b := w.NewBuggify(node.BuggifySites())
		var got string
		for _, s := range w.Settings() {
			if s.Name == "buggify" {
				got = s.Value
			}
		}
		want := strings.Join(b.Activated(), " ")
		if want == "" {
			want = "none"
		}
		require.Equal(t, want, got, "seed %d: the buggify setting must list the active sites", seed)
		again := NewBuggify(Stream(seed, "buggify"))
		for _, s := range node.BuggifySites() {
			require.Equal(t, again.Active(s), b.Active(s), "seed %d: the world's hook is the seed's buggify stream", seed)
		}
	}
}
