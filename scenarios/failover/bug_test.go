package failover

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Shrinking must work on a real bug: with ZOOKEEPER-1156's off-by-one back in the core
// (TRUNC also cuts its target zxid: zab.Bugs.TruncCutsTarget), rapid must find failing
// schedules, and shrink one it found with many steps: the first rapid seed from 1 whose
// first failing schedule has at least stepsFoundMin steps (found with shrinking off), then
// hunted again with shrinking on. Shrink deletes what rapid left that is not needed. The
// minimal schedule must be a few steps, fail again once saved and parsed back, and pass
// without the bug.
func TestRapidShrinksAScheduleThatFindsZOOKEEPER1156(t *testing.T) {
	const (
		bug           = "TruncCutsTarget"
		huntChecks    = 200
		huntSeedsMax  = 20
		stepsFoundMin = 6
		stepsMax      = 4 // "a few steps": what is left must read as a story
		// A short fault phase keeps the hunt's hundreds of shrinking runs to seconds.
		huntFaultsUntil = 300 * time.Millisecond
		// Deleting steps comes first among rapid's shrink passes and takes a second or two;
		// what follows only lowers times and servers.
		huntShrinkTime = 5 * time.Second
	)
	bugs := []string{bug}
	seed, found := uint64(0), 0
	for s := uint64(1); s <= huntSeedsMax && seed == 0; s++ {
		h := hunt(t, bugs, huntFaultsUntil, s, huntChecks, time.Millisecond)
		require.NotNil(t, h.found, "rapid seed %d found no failing schedule for %s in %d draws: the schedules or the checks miss ZOOKEEPER-1156\n%s",
			s, bug, huntChecks, h.report)
		if len(h.found.Steps) >= stepsFoundMin {
			seed, found = s, len(h.found.Steps)
		}
	}
	require.NotZero(t, seed, "no rapid seed up to %d found a failing schedule of %d steps or more: the generator draws too few faults", huntSeedsMax, stepsFoundMin)
	h := hunt(t, bugs, huntFaultsUntil, seed, huntChecks, huntShrinkTime)
	require.NotNil(t, h.minimal, "rapid seed %d found no failing schedule the second time: the runs are not deterministic\n%s", seed, h.report)
	require.Len(t, h.found.Steps, found, "rapid seed %d found another schedule the second time: the runs are not deterministic", seed)
	s, runs := polish(t, *h.minimal)
	t.Logf("rapid seed %d: the first failing schedule had %d steps, rapid shrank it to %d (%d runs), Shrink to %d (%d runs):\n%s\nfailure: %s",
		seed, found, len(h.minimal.Steps), h.runs, len(s.Steps), runs, s, firstLine(h.report))
	require.LessOrEqual(t, len(s.Steps), stepsMax, "the schedule must shrink to a few steps, got:\n%s", s)

	path := filepath.Join(t.TempDir(), "minimal.schedule")
	require.NoError(t, writeSchedule(path, s))
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	saved, err := Parse(string(text))
	require.NoError(t, err, "the saved schedule must parse:\n%s", text)
	require.Equal(t, s, saved, "the saved schedule is the minimal one")
	r, err := saved.Run()
	require.NoError(t, err)
	require.True(t, r.Failed(), "the saved minimal schedule must fail again when replayed:\n%s", text)
	t.Logf("replayed: %s", firstLine(r.Failure.String()))

	saved.Bugs = nil
	r, err = saved.Run()
	require.NoError(t, err)
	require.False(t, r.Failed(), "the fixed core must pass the same schedule (the failure is the bug's): %v\n%s", r.Failure, saved)
}
