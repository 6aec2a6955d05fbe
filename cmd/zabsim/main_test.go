package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim/cluster"
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
	for _, args := range [][]string{nil, {"walk"}, {"run", "-v"}, {"run", "-seeds", "0"}, {"run", "-nope"},
		{"run", "-stack", "etcd"}, {"run", "-buggify=maybe"}, {"run", "-bug", "NoSuchBug"}, {"run", "-budget", "-1s"}} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, run(args, &out, &errOut), "args %q must be refused", args)
		require.NotEmpty(t, errOut.String(), "args %q: refusal says why", args)
	}
}

// TestBuggifiedSeedNamesItsActiveSites: with -buggify a seed records which of the core's
// rare-path hooks it activated, so the replay command reproduces the same run; without the
// flag one seed in four is buggified (cluster.SwarmBuggify), and -buggify=false turns it off.
func TestBuggifiedSeedNamesItsActiveSites(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"run", "-seed", "5", "-duration", "300ms", "-buggify", "-v"}, &out, &errOut)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	require.Regexp(t, `(?m)^\s+buggify\s+(none|zab\.|hostio\.)`, out.String(), "the settings name the active BUGGIFY sites (or none)")

	out.Reset()
	code = run([]string{"run", "-seed", "5", "-duration", "300ms", "-buggify=false", "-v"}, &out, &errOut)
	require.Equal(t, 0, code)
	require.Regexp(t, `(?m)^\s+buggify\s+off$`, out.String(), "with -buggify=false no site is drawn, and the settings say so")

	var on, off uint64
	for s := uint64(1); on == 0 || off == 0; s++ {
		if cluster.SwarmBuggify(s) {
			on = s
		} else {
			off = s
		}
	}
	for seed, want := range map[uint64]bool{on: true, off: false} {
		out.Reset()
		code = run([]string{"run", "-seed", fmt.Sprint(seed), "-duration", "300ms", "-v"}, &out, &errOut)
		require.Equal(t, 0, code)
		require.Equal(t, !want, regexp.MustCompile(`(?m)^\s+buggify\s+off$`).MatchString(out.String()),
			"seed %d without -buggify: BUGGIFY drawn %v by cluster.SwarmBuggify, the settings must say so", seed, want)
	}
}

// The default sweep buggifies the seeds cluster.SwarmBuggify draws, about one in four, and
// its summary says how many.
func TestSweepBuggifiesAQuarterOfItsSeeds(t *testing.T) {
	const n = 12
	want := 0
	for s := uint64(1); s <= n; s++ {
		if cluster.SwarmBuggify(s) {
			want++
		}
	}
	require.Positive(t, want, "seeds 1..%d draw no BUGGIFY: pick more seeds", n)
	code, out, errOut := zabsim("run", "-seeds", fmt.Sprint(n), "-duration", "200ms")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, fmt.Sprintf("seeds                      %d (%d with BUGGIFY)", n, want))
}

// -budget stops starting seeds once the wall-clock budget is spent.
func TestSweepStopsAtItsBudget(t *testing.T) {
	code, out, errOut := zabsim("run", "-seeds", "100000", "-budget", "300ms", "-duration", "200ms", "-parallel", "1")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	m := regexp.MustCompile(`seeds +(\d+) \(`).FindStringSubmatch(out)
	require.NotNil(t, m, "summary lacks the seed count:\n%s", out)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.Less(t, n, 100000, "a 300 ms budget ran every one of 100000 seeds:\n%s", out)
	require.Positive(t, n)
}

// -stack zk sweeps whole zab/node servers with ZooKeeper clients (sim/zk) and sums the
// client-level counters.
func TestSweepOfTheServerStack(t *testing.T) {
	code, out, errOut := zabsim("run", "-stack", "zk", "-seeds", "2", "-duration", "500ms")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	for _, want := range []string{"stack                      zk", "seeds                      2", "client ops", "sessions", "watch events"} {
		require.Contains(t, out, want, "summary lacks %q:\n%s", want, out)
	}
	code, _, errOut = zabsim("run", "-stack", "zk", "-bug", "DiffByRange", "-seeds", "1")
	require.Equal(t, 2, code, "-bug is for the cluster stack")
	require.Contains(t, errOut, "-bug")
}
