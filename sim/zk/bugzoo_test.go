package zk

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/node"
)

// zab/node's bug switches (issue 6's zoo) are found by the simulated clients and the
// checks: each within a bounded number of seeds, and the first failing seed passes with
// the switch off (the control: it is the bug that fails it).
func TestNodeBugsAreCaught(t *testing.T) {
	zoo := []struct {
		name   string
		bugs   node.Bugs
		opts   func(seed uint64) Options
		seeds  int
		slow   bool
		checks []string // one of these fails; none: any failure kind
	}{
		{"WatchFiredTwice", node.Bugs{WatchFiredTwice: true}, Quiet, 5, false,
			[]string{checker.CheckWatchOneShot}},
		{"WatchEventAfterReply", node.Bugs{WatchEventAfterReply: true}, Quiet, 5, false,
			[]string{checker.CheckWatchDelivered}},
		// The tree refuses the ephemeral of a closed session with a panic (its invariant).
		{"EphemeralAfterClose", node.Bugs{EphemeralAfterClose: true}, Quiet, 5, false, nil},
		{"ServeBeforeSynced", node.Bugs{ServeBeforeSynced: true}, Harsh, 80, true,
			[]string{checker.CheckLinearizable, checker.CheckReadState, checker.CheckSessionZxid, checker.CheckReadOwnWrite}},
		{"SyncWithoutQuorum", node.Bugs{SyncWithoutQuorum: true}, Harsh, 80, true,
			[]string{checker.CheckLinearizable, checker.CheckSyncRead}},
	}
	for _, z := range zoo {
		t.Run(z.name, func(t *testing.T) {
			if z.slow && os.Getenv("ZABKIT_BUG_ZOO") == "" {
				t.Skip("ZABKIT_BUG_ZOO=1 runs the switches that need up to 80 harsh seeds")
			}
			start := time.Now()
			for seed := uint64(1); seed <= uint64(z.seeds); seed++ {
				o := z.opts(seed)
				o.OutDir = t.TempDir()
				o.Bugs = z.bugs
				r := Run(o)
				if !r.Failed() {
					continue
				}
				if z.checks != nil {
					require.NotNil(t, r.Report, "%s, seed %d: %v", z.name, seed, r.Failure)
					require.Subset(t, z.checks, r.Report.Failed()[:1], "%s, seed %d: the first failed check", z.name, seed)
				}
				control := z.opts(seed)
				control.OutDir = t.TempDir()
				c := Run(control)
				require.False(t, c.Failed(), "%s: seed %d also fails without the bug:\n%v", z.name, seed, c)
				t.Logf("%s caught at seed %d (%v) in %v", z.name, seed, r.Failure.Kind, time.Since(start).Round(time.Millisecond))
				return
			}
			t.Fatalf("%s: no failure in %d seeds: the simulated clients or the checks miss it", z.name, z.seeds)
		})
	}
}
