package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/scenarios/failover"
)

func zabsim(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestReplayRunsAScheduleFile(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass.schedule")
	require.NoError(t, os.WriteFile(pass, []byte("seed 4\ncluster quiet voters=3 observers=0\nfaults-until 500ms\nat 50ms crash s3\nat 200ms restart s3\n"), 0o644))
	code, out, errOut := zabsim("replay", "-schedule", pass)
	require.Equal(t, 0, code, "a healthy schedule passes; stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "ok: schedule "+pass+" (2 steps, seed 4) passes every check")

	code, out, _ = zabsim("replay", "-schedule", pass, "-seed", "5", "-v")
	require.Equal(t, 0, code, "-v replay of a healthy schedule exits 0")
	require.True(t, regexp.MustCompile(`fault +crash s3\n`).MatchString(out), "the trace shows the schedule's faults as the nemesis writes them")
	require.Contains(t, out, "\nseed 5\n", "-seed replaces the schedule's seed")
	require.Contains(t, out, "ok: schedule "+pass+" (2 steps, seed 5)")

	fail := filepath.Join(dir, "bug.schedule")
	fixture, err := os.ReadFile("../../scenarios/failover/testdata/failover/zookeeper-1156-trunc-cuts-target.schedule")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fail, fixture, 0o644))
	code, out, _ = zabsim("replay", "-schedule", fail)
	require.Equal(t, 1, code, "a schedule with ZOOKEEPER-1156 switched on fails; stdout:\n%s", out)
	require.Contains(t, out, "FAILED: schedule "+fail+" (3 steps, seed 2221)")
}

func TestReplayOneSwarmSeed(t *testing.T) {
	code, out, errOut := zabsim("replay", "-seed", "3", "-duration", "300ms")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "seeds                      1")
}

// zabsim shrink turns a failing swarm seed (of the default 2 s sweep, with ZOOKEEPER-1154
// switched on: the first seed whose nemesis injected 20 faults or more) into a much smaller
// schedule that still fails the same way, and saves it where replay runs it.
func TestShrinkMinimizesAFailingSeed(t *testing.T) {
	const seedsMax, faultsMin = 100, 20
	bugs := []string{"DiffByRange"}
	seed := uint64(0)
	for s := uint64(1); s <= seedsMax && seed == 0; s++ {
		if r, events := recordSwarm(s, 2*time.Second, bugs); r.Failed() && len(failover.FromTrace(events)) >= faultsMin {
			seed = s
		}
	}
	require.NotZero(t, seed, "no swarm seed up to %d fails with %v after %d faults or more", seedsMax, bugs, faultsMin)

	path := filepath.Join(t.TempDir(), "min.schedule")
	code, out, errOut := zabsim("shrink", "-seed", strconv.FormatUint(seed, 10), "-bug", "DiffByRange", "-o", path)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	m := regexp.MustCompile(`minimal schedule: (\d+) of (\d+) steps`).FindStringSubmatch(out)
	require.NotNil(t, m, "shrink reports its result:\n%s", out)
	kept, total := atoi(t, m[1]), atoi(t, m[2])
	require.GreaterOrEqual(t, total, faultsMin, "the schedule holds the seed's faults:\n%s", out)
	require.LessOrEqual(t, kept*4, total, "shrinking deletes three steps in four at least:\n%s", out)
	t.Logf("seed %d: %d faults shrunk to %d", seed, total, kept)

	text, err := os.ReadFile(path)
	require.NoError(t, err)
	s, err := failover.Parse(string(text))
	require.NoError(t, err, "the saved schedule parses:\n%s", text)
	require.Len(t, s.Steps, kept)
	require.Equal(t, bugs, s.Bugs, "the bug is part of the saved schedule")
	code, out, _ = zabsim("replay", "-schedule", path)
	require.Equal(t, 1, code, "the saved minimal schedule fails when replayed:\n%s", out)
}

func TestShrinkOfAPassingSeedSaysSo(t *testing.T) {
	code, out, _ := zabsim("shrink", "-seed", "3", "-duration", "300ms")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "seed 3 passes")
	require.Contains(t, out, "nothing to shrink")
}

func TestScheduleCommandsRefuseBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"replay"},
		{"replay", "-schedule", "/nonexistent/x.schedule"},
		{"replay", "-seed", "1", "extra"},
		{"replay", "-nope"},
		{"shrink"},
		{"shrink", "-seed", "1", "-bug", "NoSuchBug"},
		{"shrink", "-seed", "1", "-runs", "0"},
	} {
		code, _, errOut := zabsim(args...)
		require.Equal(t, 2, code, "args %q must be refused", args)
		require.NotEmpty(t, errOut, "args %q: the refusal says why", args)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	require.NoError(t, err)
	return v
}

func TestShrinkMinimizesAScheduleFile(t *testing.T) {
	fixture, err := os.ReadFile("../../scenarios/failover/testdata/failover/zookeeper-1156-trunc-cuts-target.schedule")
	require.NoError(t, err)
	padded := string(fixture) + "at 400ms heal\nat 450ms crash s1\nat 500ms restart s1\nat 600ms isolate s2\nat 700ms heal\n"
	path := filepath.Join(t.TempDir(), "padded.schedule")
	require.NoError(t, os.WriteFile(path, []byte(padded), 0o644))
	code, out, errOut := zabsim("shrink", "-schedule", path, "-o", path+".min")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "(8 steps) fails")
	min, err := os.ReadFile(path + ".min")
	require.NoError(t, err)
	s, err := failover.Parse(string(min))
	require.NoError(t, err)
	require.LessOrEqual(t, len(s.Steps), 3, "the padding goes, the bug's steps stay:\n%s", min)

	code, _, errOut = zabsim("shrink", "-schedule", path, "-bug", "DiffByRange")
	require.Equal(t, 2, code, "a schedule names its own bugs")
	require.Contains(t, errOut, "its own bugs")
}
