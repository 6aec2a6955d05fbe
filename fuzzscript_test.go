package zabkit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestFuzzScriptToleratesOnlyTheEngineRace pins the rule scripts/fuzz.sh uses to tell Go
// 1.26's fuzz-engine deadline race (go.dev/issue/75804) from a real finding: only a log whose
// sole failure is the bare "context deadline exceeded" line counts as the race; every log that
// shows a failing input, a panic, a test error or a timeout is a failure.
func TestFuzzScriptToleratesOnlyTheEngineRace(t *testing.T) {
	const head = "fuzz: elapsed: 10s, execs: 314449 (30203/sec), new interesting: 0 (total: 8)\n"
	cases := []struct {
		name string
		log  string
		race bool
	}{
		{"bare deadline at the boundary", head + "--- FAIL: FuzzCutFrame (10.10s)\n    context deadline exceeded\nFAIL\n", true},
		{"failing input written", "--- FAIL: FuzzCutFrame (0.31s)\n    --- FAIL: FuzzCutFrame (0.00s)\n" +
			"        frame_test.go:40: cut 3 bytes, want 4\n    Failing input written to testdata/fuzz/FuzzCutFrame/1f2e\n" +
			"    context deadline exceeded\n", false},
		{"panic in a worker", head + "--- FAIL: FuzzCutFrame (2.00s)\n    fuzzing process hung or terminated unexpectedly: exit status 2\n" +
			"panic: runtime error: index out of range\n    context deadline exceeded\n", false},
		{"test error without a saved input", "--- FAIL: FuzzCutFrame (0.01s)\n    frame_test.go:12: seed corpus decode: short read\n" +
			"    context deadline exceeded\n", false},
		{"go test timeout", head + "panic: test timed out after 10m0s\n    context deadline exceeded\n", false},
		{"other failure", head + "--- FAIL: FuzzCutFrame (10.10s)\n    fuzzing process hung or terminated unexpectedly: exit status 2\n", false},
	}
	script := "source <(sed -n '/^boundary_race()/,/^}/p' scripts/fuzz.sh); boundary_race \"$1\""
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "fuzz.log")
			if err := os.WriteFile(path, []byte(c.log), 0o644); err != nil {
				t.Fatal(err)
			}
			err := exec.Command("bash", "-c", script, "_", path).Run()
			race := err == nil
			if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
				t.Fatalf("running the classifier from scripts/fuzz.sh: %v", err)
			}
			if race != c.race {
				t.Fatalf("scripts/fuzz.sh classified this log as race=%v, want race=%v; log:\n%s", race, c.race, c.log)
			}
		})
	}
}
