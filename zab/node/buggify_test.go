package node

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
)

// testBuggify is sim.Buggify's semantics (FoundationDB's BUGGIFY) for the in-package
// harness: a site is activated for the whole run with probability 1/4 the first time it is
// asked, and an active site fires with probability 1/4 each time. With only set, exactly
// those sites are active.
type testBuggify struct {
	rng    *rand.Rand
	only   []string
	active map[string]bool
	fired  map[string]int
}

func newTestBuggify(seed uint64, only []string) *testBuggify {
	return &testBuggify{rng: rand.New(rand.NewPCG(seed, 0xb066)), only: only, active: map[string]bool{}, fired: map[string]int{}}
}

func (b *testBuggify) Fire(site string) bool {
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

// alwaysFires fires at every site: for checks of what reaches zab.
type alwaysFires struct{ asked []string }

func (a *alwaysFires) Fire(site string) bool { a.asked = append(a.asked, site); return true }

func TestBuggifySitesAreTheMembersAndZabsItPassesOn(t *testing.T) {
	sites := BuggifySites()
	require.Subset(t, sites, []string{BuggifySnapshotNow, BuggifyTinyWindow})
	require.NotContains(t, sites, zab.BuggifyBusy, "the member never passes zab.busy on")
	require.NotContains(t, sites, zab.BuggifySnapshotNow, "zab takes no snapshots under a member")
	require.Len(t, sites, 2+len(zab.BuggifySites())-2)
	for i, s := range sites {
		require.NotContains(t, sites[i+1:], s, "site %q listed twice", s)
	}
}

func TestZabGetsTheMembersHookWithoutItsBusySite(t *testing.T) {
	require.Nil(t, (&Config{}).zabConfig(nil).Buggify, "no hook: zab gets none (a nil interface, not a wrapped nil)")
	hook := &alwaysFires{}
	zb := (&Config{Buggify: hook}).zabConfig(nil).Buggify
	require.NotNil(t, zb)
	require.False(t, zb.Fire(zab.BuggifyBusy), "zab.busy must never fire under a member: runPeer asserts zab never refuses")
	require.Empty(t, hook.asked, "zab.busy must not even be asked (no draw wasted)")
	for _, s := range zab.BuggifySites() {
		if s != zab.BuggifyBusy {
			require.True(t, zb.Fire(s), "zab site %s reaches the member's hook", s)
		}
	}
}

// TestDaemonNeverSetsBuggify is a law for the daemon's author: Buggified is false for a
// configuration that never mentions the hook, and no non-test source of daemon/ or cmd/
// sets a Buggify field (in a composite literal or by assignment). The daemon should also
// refuse to start when Config.Buggified is true, next to its AnyBugs check.
func TestDaemonNeverSetsBuggify(t *testing.T) {
	require.False(t, (&Config{ID: 1, Voters: []zab.PeerID{1}, TickMillis: 100}).Buggified(), "a configuration without a hook is not buggified")
	require.True(t, (&Config{Buggify: &alwaysFires{}}).Buggified())
	root := filepath.Join("..", "..")
	checked := 0
	// cmd/zabsim is the simulator's command line: it may switch BUGGIFY on.
	for _, dir := range []string{"daemon", filepath.Join("cmd", "zabd")} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return fmt.Errorf("parse %s: %w", path, err)
			}
			checked++
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.KeyValueExpr:
					if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Buggify" {
						t.Errorf("%s sets Buggify in a literal: the daemon must never enable BUGGIFY", path)
					}
				case *ast.AssignStmt:
					for _, lhs := range n.Lhs {
						if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Buggify" {
							t.Errorf("%s assigns Buggify: the daemon must never enable BUGGIFY", path)
						}
					}
				}
				return true
			})
			return nil
		})
		require.NoError(t, err)
	}
	require.Positive(t, checked, "no daemon or cmd source found under %s", root)
}

type buggifyTotals struct {
	runs int
	worldStats
}

func (s *buggifyTotals) add(w worldStats) {
	s.runs++
	if s.syncModes == nil {
		s.syncModes = map[zab.MessageType]int{}
	}
	for k, v := range w.syncModes {
		s.syncModes[k] += v
	}
	s.snapInstalls += w.snapInstalls
	s.snapshots += w.snapshots
	s.snapshotsInSync += w.snapshotsInSync
	s.windowWaits += w.windowWaits
	s.snapSuperseded += w.snapSuperseded
}

func (s buggifyTotals) String() string {
	return fmt.Sprintf("runs=%d DIFF=%d TRUNC=%d SNAP=%d SNAP-installs=%d (below the member's own snapshot %d) snapshots=%d (outside BROADCAST %d) window-waits=%d",
		s.runs, s.syncModes[zab.MsgDiff], s.syncModes[zab.MsgTrunc], s.syncModes[zab.MsgSnap], s.snapInstalls, s.snapSuperseded,
		s.snapshots, s.snapshotsInSync, s.windowWaits)
}

// TestRandomFaultsWithBuggify is TestRandomFaults (every check it makes: agreement,
// durability of acknowledged writes, session order, watches, ephemerals, liveness after
// healing) with FoundationDB's BUGGIFY drawn per seed, then with every site active; the
// log compares how often the rare paths are reached with and without it.
func TestRandomFaultsWithBuggify(t *testing.T) {
	n := 2 * *faultSeeds
	if testing.Short() {
		n = *faultSeeds / 2
	}
	var runSeeds []uint64
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_SEED")
		runSeeds = append(runSeeds, seed)
	} else {
		for i := range n {
			runSeeds = append(runSeeds, uint64(100+i))
		}
	}
	var off, drawn, all buggifyTotals
	activeRuns := map[string]int{}
	for _, seed := range runSeeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Logf("replay: ZABKIT_SEED=%d go test ./zab/node -run 'TestRandomFaultsWithBuggify' -v", seed)
			b := newTestBuggify(seed, nil)
			defer func() {
				if t.Failed() {
					t.Logf("BUGGIFY active: %v, fired %v", b.activated(), b.fired)
				}
			}()
			drawn.add(runFaultsWith(t, seed, func(c *Config) { c.Buggify = b }))
			for _, s := range b.activated() {
				activeRuns[s]++
			}
			everySite := newTestBuggify(seed, BuggifySites())
			all.add(runFaultsWith(t, seed, func(c *Config) { c.Buggify = everySite }))
			off.add(runFaultsWith(t, seed, nil))
		})
	}
	t.Logf("without BUGGIFY:        %v", off)
	t.Logf("BUGGIFY drawn per seed: %v (runs per active site: %v)", drawn, activeRuns)
	t.Logf("every site active:      %v", all)
	if len(runSeeds) < 6 {
		return // a pinned seed: too few runs for the aggregate checks below
	}
	require.Greater(t, all.snapshots, 2*off.snapshots, "with every site active, snapshots must be far more common")
	require.Greater(t, all.snapshotsInSync, off.snapshotsInSync, "with every site active, snapshots outside BROADCAST must be more common")
	require.Greater(t, all.syncModes[zab.MsgSnap], off.syncModes[zab.MsgSnap], "with every site active, SNAP syncs must be more common")
	require.Greater(t, all.windowWaits, off.windowWaits, "with every site active, requests must wait for the leader's window")
}

// TestEachBuggifySiteIsLegalInAMember activates one site at a time (firing 1/4 of the times
// it is asked) in the fault test: every check of TestRandomFaults holds, and the site was
// reached and fired.
func TestEachBuggifySiteIsLegalInAMember(t *testing.T) {
	n := *faultSeeds
	if testing.Short() {
		n = 2
	}
	for _, site := range BuggifySites() {
		t.Run(site, func(t *testing.T) {
			fired := 0
			for i := range n {
				seed := uint64(100 + i)
				b := newTestBuggify(seed, []string{site})
				ok := t.Run(fmt.Sprint(seed), func(t *testing.T) {
					runFaultsWith(t, seed, func(c *Config) { c.Buggify = b })
				})
				require.True(t, ok, "site %s alone broke seed %d", site, seed)
				fired += b.fired[site]
			}
			t.Logf("%s fired %d times over %d seeds", site, fired, n)
			if !testing.Short() {
				require.Positive(t, fired, "site %s never fired over %d seeds", site, n)
			}
		})
	}
}
