package failover

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var scheduleFlag = flag.String("schedule", "", "TestReplay: replay this schedule file (or ZABKIT_SCHEDULE)")

// TestReplay replays saved schedules. With -schedule=FILE (or ZABKIT_SCHEDULE=FILE) it
// runs that one and fails if the run fails, printing the whole failure. Without, it replays
// every schedule in testdata/failover as a regression test: one without bugs must pass (a
// failure the fuzzer once found stays fixed), one with bugs must still fail (the checks
// still catch the bug in the schedule's few steps).
func TestReplay(t *testing.T) {
	path := *scheduleFlag
	if path == "" {
		path = os.Getenv("ZABKIT_SCHEDULE")
	}
	if path != "" {
		s := readSchedule(t, path)
		r, err := s.Run()
		require.NoError(t, err)
		if r.Failed() {
			t.Fatalf("%s fails: %v\nsettings:\n%sschedule:\n%s", path, r.Failure, r.SettingsText(), s)
		}
		t.Logf("%s passes: %+v", path, r.Stats)
		return
	}
	files, err := filepath.Glob(filepath.Join(savedDir, "*.schedule"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "testdata/failover holds at least the bug schedules")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := readSchedule(t, f)
			r, err := s.Run()
			require.NoError(t, err)
			if len(s.Bugs) > 0 {
				require.True(t, r.Failed(), "%s: with bugs %v the schedule must still fail: the checks no longer catch it\n%s", f, s.Bugs, s)
				t.Logf("caught: %s", firstLine(r.Failure.String()))
				return
			}
			require.False(t, r.Failed(), "%s fails again: %v\nreplay: go test ./scenarios/failover -run TestReplay -schedule=%s -v", f, r.Failure, f)
		})
	}
}

func readSchedule(t *testing.T, path string) Schedule {
	t.Helper()
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	s, err := Parse(string(text))
	require.NoError(t, err, "%s", path)
	return s
}
