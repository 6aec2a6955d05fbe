package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunSweepPrintsSummary(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"run", "-seeds", "4", "-parallel", "2", "-duration", "500ms"}, &out, &errOut)
	require.Equal(t, 0, code, "a short sweep of healthy seeds exits 0; stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	for _, want := range []string{"seeds                      4", "failures                   0", "commits", "elections", "crashes", "bytes cut at recovery", "simulated s / wall s"} {
		require.Contains(t, out.String(), want, "summary lacks %q:\n%s", want, out.String())
	}
	require.Contains(t, errOut.String(), "seeds 4/4", "progress line missing: %q", errOut.String())
}

func TestReplayOneSeedPrintsTrace(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"run", "-seed", "3", "-duration", "300ms", "-v"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	s := out.String()
	require.Contains(t, s, "seed 3 settings:")
	require.Contains(t, s, "LEADING BROADCAST", "the trace shows the election")
	require.Greater(t, strings.Count(s, "\n"), 1000, "the whole trace is printed")
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{nil, {"walk"}, {"run", "-v"}, {"run", "-seeds", "0"}, {"run", "-nope"}} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, run(args, &out, &errOut), "args %q must be refused", args)
		require.NotEmpty(t, errOut.String(), "args %q: refusal says why", args)
	}
}

// TestBuggifiedSeedNamesItsActiveSites: with -buggify a seed records which of the core's
// rare-path hooks it activated, so the replay command reproduces the same run.
func TestBuggifiedSeedNamesItsActiveSites(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"run", "-seed", "5", "-duration", "300ms", "-buggify", "-v"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	require.Regexp(t, `(?m)^\s+buggify\s+\S`, out.String(), "the settings name the active BUGGIFY sites (or none)")

	out.Reset()
	code = run([]string{"run", "-seed", "5", "-duration", "300ms", "-v"}, &out, &errOut)
	require.Equal(t, 0, code)
	require.NotRegexp(t, `(?m)^\s+buggify\s+\S`, out.String(), "without -buggify no site is drawn")
}
