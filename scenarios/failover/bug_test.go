package failover

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Shrinking must work on a real bug: with ZOOKEEPER-1156's off-by-one back in the core
// (TRUNC also cuts its target zxid: zab.Bugs.TruncCutsTarget), rapid must find a failing
// schedule among its first huntChecks draws and shrink it to a few steps, and the minimal
// schedule, saved and parsed back, must fail again, and pass without the bug.
func TestRapidShrinksAScheduleThatFindsZOOKEEPER1156(t *testing.T) {
	const (
		bug        = "TruncCutsTarget"
		huntSeed   = 1
		huntChecks = 200
		stepsMax   = 4 // "a few steps": what is left must read as a story
	)
	h := hunt(t, []string{bug}, huntSeed, huntChecks)
	require.NotNil(t, h.minimal, "rapid found no failing schedule for %s in %d draws (rapid seed %d): the schedules or the checks miss ZOOKEEPER-1156\n%s",
		bug, huntChecks, huntSeed, h.report)
	s := *h.minimal
	t.Logf("rapid's minimal schedule for %s (%d steps):\n%s\nfailure: %s", bug, len(s.Steps), s, firstLine(h.report))
	require.LessOrEqual(t, len(s.Steps), stepsMax, "rapid must shrink the schedule to a few steps, got:\n%s", s)

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
