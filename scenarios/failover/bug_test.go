package failover

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Shrinking must work on a real bug: with ZOOKEEPER-1156's off-by-one back in the core
// (TRUNC also cuts its target zxid: zab.Bugs.TruncCutsTarget), rapid must find a failing
// schedule among its first huntChecks draws (rapid seed huntSeed finds one of 9 steps at
// the 7th draw) and shrink it, Shrink then deletes what rapid left that is not needed,
// and the minimal schedule must be a few steps, fail again once saved and parsed back, and
// pass without the bug.
func TestRapidShrinksAScheduleThatFindsZOOKEEPER1156(t *testing.T) {
	const (
		bug        = "TruncCutsTarget"
		huntSeed   = 13
		huntChecks = 200
		stepsMax   = 4 // "a few steps": what is left must read as a story
		// A short fault phase keeps the hunt's hundreds of shrinking runs to seconds.
		huntFaultsUntil = 300 * time.Millisecond
	)
	h := hunt(t, []string{bug}, huntFaultsUntil, huntSeed, huntChecks)
	require.NotNil(t, h.minimal, "rapid found no failing schedule for %s in %d draws (rapid seed %d): the schedules or the checks miss ZOOKEEPER-1156\n%s",
		bug, huntChecks, huntSeed, h.report)
	s, runs := polish(t, *h.minimal)
	t.Logf("rapid's first failing schedule had %d steps, rapid shrank it to %d (%d runs), Shrink to %d (%d runs):\n%s\nfailure: %s",
		len(h.found.Steps), len(h.minimal.Steps), h.runs, len(s.Steps), runs, s, firstLine(h.report))
	require.LessOrEqual(t, len(s.Steps), stepsMax, "the schedule must shrink to a few steps, got:\n%s", s)
	require.Less(t, len(s.Steps), len(h.found.Steps), "steps were deleted from the schedule rapid found:\n%s", h.found)

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
