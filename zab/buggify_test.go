package zab

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testBuggify is sim.Buggify's semantics (FoundationDB's BUGGIFY) for the in-package
// harness, which cannot import the simulator: a site is activated for the whole run with
// probability 1/4 the first time it is asked, and an active site fires with probability 1/4
// each time. With only set, exactly those sites are active (none for an empty list).
type testBuggify struct {
	rng    *rand.Rand
	only   []string
	active map[string]bool
	asked  map[string]int
	fired  map[string]int
}

func newTestBuggify(seed uint64, only []string) *testBuggify {
	return &testBuggify{rng: rand.New(rand.NewPCG(seed, 0xb066)), only: only,
		active: map[string]bool{}, asked: map[string]int{}, fired: map[string]int{}}
}

func (b *testBuggify) Fire(site string) bool {
	b.asked[site]++
	on, ok := b.active[site]
	if !ok {
		if b.only != nil {
			on = slices.Contains(b.only, site)
		} else {
			on = b.rng.IntN(4) == 0
		}
		b.active[site] = on
	}
	if !on || b.rng.IntN(4) != 0 {
		return false
	}
	b.fired[site]++
	return true
}

// activated lists the active sites among those asked, sorted.
func (b *testBuggify) activated() []string {
	var out []string
	for site, on := range b.active {
		if on {
			out = append(out, site)
		}
	}
	slices.Sort(out)
	return out
}

// TestBuggifySitesAreListed keeps BuggifySites complete: every Buggify* constant of
// buggify.go is listed once, and every name says it is zab's.
func TestBuggifySitesAreListed(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "buggify.go", nil, 0)
	require.NoError(t, err)
	var declared []string
	ast.Inspect(file, func(n ast.Node) bool {
		if v, ok := n.(*ast.ValueSpec); ok {
			for i, name := range v.Names {
				if strings.HasPrefix(name.Name, "Buggify") {
					declared = append(declared, strings.Trim(v.Values[i].(*ast.BasicLit).Value, `"`))
				}
			}
		}
		return true
	})
	listed := BuggifySites()
	require.ElementsMatch(t, declared, listed, "BuggifySites must list every Buggify* constant of buggify.go")
	require.Len(t, declared, len(listed))
	for _, s := range listed {
		require.True(t, strings.HasPrefix(s, "zab."), "site %q must be named zab.<what>", s)
		require.Equal(t, 1, strings.Count(strings.Join(listed, " ")+" ", s+" "), "site %q listed twice", s)
	}
}

// TestBuggifyThatNeverFiresChangesNothing: a hook that is asked everywhere but never fires
// leaves a faulty run's trace byte for byte as without a hook, so the sites cost nothing
// when off (the resend jitter is still drawn, no stream shifts) and the production path is
// the path every unbuggified test already checks.
func TestBuggifyThatNeverFiresChangesNothing(t *testing.T) {
	for _, seed := range seeds(t, 10) {
		run := func(b *testBuggify) (uint64, clusterStats) {
			opt := faultyOptions(seed, 3, 1)
			opt.buggify = b
			c := newCluster(t, seed, opt)
			c.runFaults(2000)
			c.heal()
			c.awaitProgress(livenessBoundTicks)
			c.finish()
			return c.trace.Sum64(), c.stats
		}
		off := newTestBuggify(seed, []string{})
		plain, stats := run(nil)
		hooked, _ := run(off)
		require.Equal(t, plain, hooked, "seed %d: a hook that never fires changed the trace (replay: ZABKIT_SEED=%d go test ./zab -run %s)", seed, seed, t.Name())
		require.Positive(t, stats.delivered, "seed %d: the run delivered nothing", seed)
		require.Positive(t, len(off.asked), "seed %d: no site was asked", seed)
	}
}

// TestBuggifiedRunReplays: with every site active, a seed still gives the same trace twice
// (the hook draws from the seed and the core asks it in a deterministic order).
func TestBuggifiedRunReplays(t *testing.T) {
	for _, seed := range seeds(t, 5) {
		run := func() uint64 {
			opt := faultyOptions(seed, 5, 1)
			opt.buggify = newTestBuggify(seed, BuggifySites())
			c := newCluster(t, seed, opt)
			c.runFaults(2000)
			c.heal()
			c.awaitProgress(livenessBoundTicks)
			c.finish()
			return c.trace.Sum64()
		}
		require.Equal(t, run(), run(), "seed %d: a buggified run must replay byte for byte (ZABKIT_SEED=%d go test ./zab -run %s)", seed, seed, t.Name())
	}
}

// buggifyRun is one faulty run with a hook; it checks every invariant and liveness.
func buggifyRun(t *testing.T, seed uint64, voters, observers int, b *testBuggify) clusterStats {
	t.Helper()
	opt := faultyOptions(seed, voters, observers)
	opt.buggify = b
	c := newCluster(t, seed, opt)
	c.runFaults(3000)
	c.heal()
	c.awaitProgress(livenessBoundTicks)
	c.run(c.now + 200)
	c.finish()
	return c.stats
}

type buggifyTotals struct {
	runs, diff, trunc, snap, snapshots, restores, busy, fallbacks, silences, delivered int
}

func (s *buggifyTotals) add(c clusterStats) {
	s.runs++
	s.diff += c.syncModes[MsgDiff]
	s.trunc += c.syncModes[MsgTrunc]
	s.snap += c.syncModes[MsgSnap]
	s.snapshots += c.snapshots
	s.restores += c.restores
	s.busy += c.busy
	s.fallbacks += c.fallbacks
	s.silences += c.silences
	s.delivered += c.delivered
}

func (s buggifyTotals) String() string {
	return fmt.Sprintf("runs=%d DIFF=%d TRUNC=%d SNAP=%d snapshots=%d SNAP-installs=%d busy=%d fallbacks=%d (leader silent: %d) delivered=%d",
		s.runs, s.diff, s.trunc, s.snap, s.snapshots, s.restores, s.busy, s.fallbacks, s.silences, s.delivered)
}

// TestEachBuggifySiteIsLegal activates one site at a time (firing 1/4 of the times it is
// asked, FoundationDB's rate) in faulty runs: every invariant holds, the healed cluster
// recovers within the liveness bound, the site was reached and fired, and where the site
// has a visible effect, the effect shows against the same seeds without BUGGIFY.
func TestEachBuggifySiteIsLegal(t *testing.T) {
	sizes := []struct{ voters, observers int }{{3, 0}, {3, 1}, {5, 0}}
	effects := map[string]func(on, off buggifyTotals) bool{
		BuggifySyncSnap:    func(on, off buggifyTotals) bool { return on.snap > off.snap && on.diff < off.diff },
		BuggifySnapshotNow: func(on, off buggifyTotals) bool { return on.snapshots > off.snapshots },
		BuggifyBusy:        func(on, off buggifyTotals) bool { return on.busy > off.busy },
		BuggifyTrimLog:     func(on, off buggifyTotals) bool { return on.snap > off.snap },
	}
	var off buggifyTotals
	runSeeds := seeds(t, 8)
	for i, seed := range runSeeds {
		size := sizes[i%len(sizes)]
		off.add(buggifyRun(t, seed, size.voters, size.observers, nil))
	}
	for _, site := range BuggifySites() {
		t.Run(site, func(t *testing.T) {
			var on buggifyTotals
			asked, fired := 0, 0
			for i, seed := range runSeeds {
				size := sizes[i%len(sizes)]
				b := newTestBuggify(seed, []string{site})
				on.add(buggifyRun(t, seed, size.voters, size.observers, b))
				asked += b.asked[site]
				fired += b.fired[site]
			}
			t.Logf("%s: asked %d, fired %d; with it %v; without %v", site, asked, fired, on, off)
			if len(runSeeds) < 4 {
				return // -short or a pinned seed: too few runs for the aggregate checks below
			}
			require.Positive(t, fired, "site %s never fired over seeds %v (asked %d times)", site, runSeeds, asked)
			if effect := effects[site]; effect != nil {
				require.True(t, effect(on, off), "site %s shows no effect over seeds %v:\nwith it    %v\nwithout it %v", site, runSeeds, on, off)
			}
		})
	}
}

// TestBuggifyFaultsKeepInvariantsAndRecover is the fault sweep of faults_test.go with
// FoundationDB's BUGGIFY drawn per seed (each site active with probability 1/4, an active
// site firing 1/4 of the time), then with every site active at once. The log compares how
// often the rare paths are reached with and without it.
func TestBuggifyFaultsKeepInvariantsAndRecover(t *testing.T) {
	sizes := []struct{ voters, observers, seeds int }{{3, 0, 20}, {5, 0, 10}, {3, 2, 10}, {5, 1, 5}}
	var off, drawn, all buggifyTotals
	activeRuns := map[string]int{}
	for _, size := range sizes {
		for _, seed := range seeds(t, size.seeds) {
			name := fmt.Sprintf("voters=%d/observers=%d/seed=%d", size.voters, size.observers, seed)
			t.Run(name, func(t *testing.T) {
				b := newTestBuggify(seed, nil)
				defer func() {
					if t.Failed() {
						t.Logf("BUGGIFY active: %v, fired %v", b.activated(), b.fired)
					}
				}()
				drawn.add(buggifyRun(t, seed, size.voters, size.observers, b))
				for _, s := range b.activated() {
					activeRuns[s]++
				}
				all.add(buggifyRun(t, seed, size.voters, size.observers, newTestBuggify(seed, BuggifySites())))
				off.add(buggifyRun(t, seed, size.voters, size.observers, nil))
			})
		}
	}
	t.Logf("without BUGGIFY:          %v", off)
	t.Logf("BUGGIFY drawn per seed:   %v (runs per active site: %v)", drawn, activeRuns)
	t.Logf("every site active:        %v", all)
	if all.runs < 10 {
		return // a pinned seed: too few runs for the aggregate checks below
	}
	require.Greater(t, all.snap+all.trunc, off.snap+off.trunc, "with every site active, TRUNC and SNAP syncs must be more common")
	require.Greater(t, all.snapshots, off.snapshots, "with every site active, snapshots must be more common")
}
