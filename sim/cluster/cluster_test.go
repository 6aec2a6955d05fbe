package cluster

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/sim"
)

// envSeeds returns ZABKIT_SEED if set, else seeds 1..n.
func envSeeds(t *testing.T, n int) []uint64 {
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_SEED=%q", s)
		return []uint64{v}
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

func requireOK(t *testing.T, r Result) {
	t.Helper()
	if r.Failed() {
		t.Fatalf("seed %d failed: %v\nsettings:\n%sreproduce: ZABKIT_SEED=%d go test ./sim/cluster -run '%s'",
			r.Seed, r.Failure, r.SettingsText(), r.Seed, t.Name())
	}
}

func TestQuietEnsembleCommitsEverything(t *testing.T) {
	for _, seed := range envSeeds(t, 3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := Quiet(seed)
			r := Run(o)
			requireOK(t, r)
			require.Equal(t, 1, r.Stats.Elections, "a fault-free ensemble elects once")
			require.GreaterOrEqual(t, r.Stats.Commits, o.LoadTxnsMax+o.LivenessTxns, "every txn commits without faults: %+v", r.Stats)
			require.Zero(t, r.Stats.Crashes)
		})
	}
}

func TestSwarmSeedsKeepInvariantsAndRecover(t *testing.T) {
	n := 20
	if testing.Short() {
		n = 5
	}
	for _, seed := range envSeeds(t, n) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := Run(Swarm(seed, time.Second))
			requireOK(t, r)
			t.Logf("seed %d: %+v", seed, r.Stats)
		})
	}
}

func TestSameSeedSameTrace(t *testing.T) {
	for _, seed := range envSeeds(t, 5) {
		err := sim.CheckDeterminism(func(record bool) *sim.Trace {
			o := Swarm(seed, 500*time.Millisecond)
			o.Record = record
			c, err := New(o)
			require.NoError(t, err)
			requireOK(t, c.Run())
			return c.World().Trace
		})
		require.NoError(t, err, "seed %d: reproduce: ZABKIT_SEED=%d go test ./sim/cluster -run TestSameSeedSameTrace", seed, seed)
	}
}

// The checks must catch a broken host: each deliberate bug is found within a bound of
// swarm seeds, by the check named.
func TestChecksCatchBrokenHosts(t *testing.T) {
	cases := []struct {
		name     string
		bug      hostBug
		seedsMax int
	}{
		{"ack before sync", bugAckBeforeSync, 300},
		{"TRUNC ignored on disk", bugIgnoreTrunc, 300},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(tc.seedsMax); seed++ {
				o := Swarm(seed, time.Second)
				o.bug = tc.bug
				if r := Run(o); r.Failed() {
					require.NotEqual(t, FailLiveness, r.Failure.Kind, "a broken host must break safety, not only liveness: %v", r.Failure)
					t.Logf("caught at seed %d: %v", seed, firstLine(r.Failure.String()))
					return
				}
			}
			t.Fatalf("the %s bug survived %d swarm seeds: the checks or the fault model miss it", tc.name, tc.seedsMax)
		})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Peer messages reach the trace with a digest of their content: two runs that sent the same
// ids and sizes but different bytes have different trace hashes.
func TestEnvelopesAreDigestedInTheTrace(t *testing.T) {
	a := envelope{boot: 1, seq: 7, sentAt: 3 * time.Millisecond, data: []byte("commit 1.5")}
	b := a
	b.data = []byte("commit 1.6")
	require.NotEqual(t, a.TraceDigest(), b.TraceDigest(), "the bytes reach the digest")
	c := a
	c.seq = 8
	require.NotEqual(t, a.TraceDigest(), c.TraceDigest(), "the sequence number reaches the digest")
	require.Equal(t, a.TraceDigest(), sim.PayloadDigest(a), "the trace takes the envelope's own digest")
	o := Quiet(1)
	o.Record = true
	c2, err := New(o)
	require.NoError(t, err)
	requireOK(t, c2.Run())
	digested := 0
	for _, e := range c2.World().Trace.Events() {
		if e.Kind == sim.KindSend && e.Digest != 0 {
			digested++
		}
	}
	require.Positive(t, digested, "sends carry digests in the trace")
}
