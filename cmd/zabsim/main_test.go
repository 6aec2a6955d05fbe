package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim/cluster"
	"github.com/zabkit/zabkit/sim/zk"
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

// The zk summary counts every op whose outcome the client never learned: no reply, or
// ConnectionLoss (zk.Stats.UnknownOps), and says so.
func TestServerSweepCountsUnknownOutcomes(t *testing.T) {
	const seed = 3 // a swarm seed whose faults leave ConnectionLoss results (sim/zk's tests)
	code, out, errOut := zabsim("run", "-stack", "zk", "-seed", fmt.Sprint(seed), "-duration", "1s", "-buggify=false")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	o := zk.Swarm(seed, time.Second)
	r := zk.Run(o)
	require.False(t, r.Failed(), "swarm seed %d, 1s: %v", seed, r)
	require.Positive(t, r.Stats.UnknownOps, "swarm seed %d, 1s: the test needs a seed with unknown outcomes", seed)
	want := fmt.Sprintf("%d (%d with an unknown outcome)", r.Stats.Ops, r.Stats.UnknownOps)
	require.Contains(t, out, want, "the summary's client ops row (zk.Run of the same seed has %d ops, %d unknown):\n%s",
		r.Stats.Ops, r.Stats.UnknownOps, out)
}

// settingRE matches a settings line of a -v run ("  name   value"; trace lines start with
// their time).
var settingRE = regexp.MustCompile(`(?m)^  [a-z][a-zA-Z.]* .*$`)

// -stack zk -kind K sweeps a sim/zk configuration kind through zk.Build: the seed's
// settings are that kind's, and a failure's replay command names it.
func TestServerSweepOfAKind(t *testing.T) {
	for _, tc := range []struct {
		kind, setting string
	}{
		{"pause", `pauses +every`},                    // Paused: process pauses
		{"snapsync", `buggify.forced +zab.sync-snap`}, // SnapSync: the SNAP site forced
		{"harsh", `faultUntil +6s`},                   // Harsh: its own fault phase, not -duration
		{"swarm", `faultUntil +1s`},                   // the default kind: -duration is its fault phase
	} {
		code, out, errOut := zabsim("run", "-stack", "zk", "-kind", tc.kind, "-seed", "1", "-duration", "1s", "-v")
		require.Equal(t, 0, code, "-kind %s: stdout (the first 3000 bytes):\n%.3000s\nstderr:\n%s", tc.kind, out, errOut)
		require.Contains(t, out, "stack                      zk (kind "+tc.kind+")", "-kind %s: the summary names the kind", tc.kind)
		settings := strings.Join(settingRE.FindAllString(out, -1), "\n")
		require.Regexp(t, tc.setting, settings, "-kind %s: the seed's settings must be the kind's", tc.kind)
		o, err := zk.Build(tc.kind, 1, time.Second)
		require.NoError(t, err)
		o.Buggify = cluster.SwarmBuggify(1)
		r := zk.Run(o)
		require.Contains(t, out, fmt.Sprintf("trace hash %016x", r.TraceHash), "-kind %s: the run must be zk.Build's seed 1 (settings:\n%s)", tc.kind, settings)
	}

	st, err := stackNamed("zk", "snapsync")
	require.NoError(t, err)
	sw := &sweep{stack: st, duration: defaultDuration}
	require.Equal(t, " -stack zk -kind snapsync", sw.replayFlags(), "a failure's replay command rebuilds the kind")
	st, err = stackNamed("zk", "")
	require.NoError(t, err)
	require.Equal(t, " -stack zk", (&sweep{stack: st, duration: defaultDuration}).replayFlags(), "the default kind needs no flag")

	code, _, errOut := zabsim("run", "-stack", "zk", "-kind", "nosuch", "-seeds", "1")
	require.Equal(t, 2, code, "an unknown kind is a usage error")
	require.Contains(t, errOut, "snapsync", "the error lists the kinds: %s", errOut)
	code, _, errOut = zabsim("run", "-kind", "pause", "-seeds", "1")
	require.Equal(t, 2, code, "-kind is for -stack zk")
	require.Contains(t, errOut, "-kind", "the error names the flag: %s", errOut)
}
