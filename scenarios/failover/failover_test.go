package failover

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/zabkit/zabkit/sim/cluster"
)

// savedDir is where a failing property saves its minimal schedule (TestReplay replays it).
var savedDir = filepath.Join("testdata", "failover")

// failoverChecksDefault is how many schedules TestFailover runs unless -rapid.checks or
// RAPID_CHECKS says otherwise (-short runs a fifth): about 8 s on one core.
const failoverChecksDefault = 500

// TestFailover is the failover fuzzer: rapid draws fault schedules on quiet and swarm
// ensembles and runs each with every check; a failure is shrunk to a minimal schedule,
// which the log prints and savedDir keeps. -rapid.checks sets how many schedules.
func TestFailover(t *testing.T) {
	if !flagGiven("rapid.checks") && os.Getenv("RAPID_CHECKS") == "" {
		defer setFlags(t, map[string]string{"rapid.checks": fmt.Sprint(failoverChecksDefault)})()
	}
	var failing *Schedule
	var total cluster.Stats
	runs := 0
	t.Cleanup(func() { saveFailing(t, failing) })
	rapid.Check(t, property(nil, failoverFaultsUntil, &failing, func(_ Schedule, r cluster.Result) { total.Add(r.Stats); runs++ }))
	// The schedules must have failed over, or the property held for want of trying.
	require.Greater(t, total.Elections, runs, "the schedules forced new leaders: %+v", total)
	require.Positive(t, total.Crashes, "the schedules crashed servers: %+v", total)
	require.Positive(t, total.SyncDiff+total.SyncTrunc+total.SyncSnap, "restarted servers synced: %+v", total)
	t.Logf("%d schedules: %d elections, %d crashes, %d recovery cuts, %d refused disks, sync DIFF=%d TRUNC=%d SNAP=%d",
		runs, total.Elections, total.Crashes, total.RecoveryCuts, total.Refusals, total.SyncDiff, total.SyncTrunc, total.SyncSnap)
}

// property runs one drawn schedule (fault phase until) with bugs switched on and fails the
// draw if the run fails. *failing ends as the last failing schedule run: rapid runs the
// minimal one last. ran, if set, sees every schedule and result.
func property(bugs []string, until time.Duration, failing **Schedule, ran func(Schedule, cluster.Result)) func(*rapid.T) {
	return func(t *rapid.T) {
		s := drawSchedule(t, until)
		s.Bugs = bugs
		r, err := s.Run()
		if err != nil {
			t.Fatalf("the generator drew a schedule Options refuses: %v\n%s", err, s)
		}
		if ran != nil {
			ran(s, r)
		}
		if r.Failed() {
			*failing = &s
			failRun(t, s, r)
		}
	}
}

// failRun fails the draw from a different line for each kind of failure: rapid's shrinker
// keeps a smaller case only if it fails with the same traceback, so a safety failure
// shrinks to a schedule that still breaks safety, not to one that merely stalls. The
// particulars (zxids, times, the schedule) go to the log, which rapid prints for the
// minimal case.
func failRun(t *rapid.T, s Schedule, r cluster.Result) {
	t.Helper()
	t.Logf("%v\nschedule (%d steps):\n%s", r.Failure, len(s.Steps), s)
	switch sig := Signature(r.Failure); r.Failure.Kind {
	case cluster.FailSafety:
		t.Fatalf("the run broke safety: %s", sig)
	case cluster.FailLiveness:
		t.Fatalf("the run stalled: %s", sig)
	case cluster.FailPanic:
		t.Fatalf("the run panicked: %s", sig)
	default:
		t.Fatalf("the run failed: %s", sig)
	}
}

// polishRunsMax bounds polish.
const polishRunsMax = 200

// polish finishes rapid's shrinking with Shrink: rapid shrinks the draws' bitstream under a
// time bound and may stop with steps the failure does not need; Shrink deletes those, in a
// few dozen runs, keeping the failure's Signature.
func polish(t *testing.T, s Schedule) (Schedule, int) {
	t.Helper()
	r, err := s.Run()
	if err != nil || !r.Failed() {
		t.Errorf("rapid's minimal schedule does not fail when run again (%v): the runs are not deterministic\n%s", err, s)
		return s, 1
	}
	sig := Signature(r.Failure)
	min, runs := Shrink(s, func(c Schedule) bool {
		r, err := c.Run()
		return err == nil && Signature(r.Failure) == sig
	}, polishRunsMax)
	return min, runs + 1
}

// saveFailing polishes the minimal failing schedule of a failed test, writes it to
// savedDir and says how to replay it.
func saveFailing(t *testing.T, s *Schedule) {
	if !t.Failed() || s == nil {
		return
	}
	before := len(s.Steps)
	polished, _ := polish(t, *s)
	s = &polished
	t.Logf("rapid's minimal schedule had %d steps; Shrink left %d", before, len(s.Steps))
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	path := filepath.Join(savedDir, fmt.Sprintf("%s-%s.schedule", name, time.Now().Format("20060102-150405")))
	if err := writeSchedule(path, *s); err != nil {
		t.Logf("could not save the minimal schedule: %v", err)
		return
	}
	t.Logf("minimal failing schedule (%d steps) saved; replay:\n  go test ./scenarios/failover -run TestReplay -schedule=%s -v\n  go run ./cmd/zabsim replay -schedule scenarios/failover/%s -v\n%s",
		len(s.Steps), path, path, s)
}

func writeSchedule(path string, s Schedule) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	header := "# failover schedule: replay with go run ./cmd/zabsim replay -schedule FILE -v\n"
	return os.WriteFile(path, []byte(header+s.String()), 0o644)
}

// flagGiven reports whether the named flag was set on the command line (setFlags's changes
// do not count: the flags given are noted before its first change).
func flagGiven(name string) bool { return commandLineFlags()[name] }

var commandLineFlags = sync.OnceValue(func() map[string]bool {
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
})

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
