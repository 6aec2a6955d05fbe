package failover

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLegalKeepsADamagedDiskAloneAndEarly(t *testing.T) {
	parse := func(lines string) []Step {
		s, err := Parse("seed 1\ncluster quiet voters=3 observers=0\nfaults-until 1s\n" + lines)
		require.NoError(t, err)
		return s.Steps
	}
	for _, tc := range []struct{ name, in, want string }{
		{"no corrupt step: all stays",
			"at 10ms crash s1\nat 20ms partition {s1} {s2,s3}\nat 30ms cut s2->s3\nat 40ms isolate s2\nat 50ms powercut s3\nat 60ms heal\nat 70ms restart s1\n",
			"at 10ms crash s1\nat 20ms partition {s1} {s2,s3}\nat 30ms cut s2->s3\nat 40ms isolate s2\nat 50ms powercut s3\nat 60ms heal\nat 70ms restart s1\n"},
		{"an early corrupt step comes alone (restarts and heals stay)",
			"at 10ms crash s1\nat 100ms corrupt s2\nat 200ms restart s2\nat 300ms isolate s3\nat 400ms heal\nat 450ms corrupt s3\n",
			"at 100ms corrupt s2\nat 200ms restart s2\nat 400ms heal\n"},
		{"a late corrupt step goes, the other faults stay",
			"at 10ms crash s1\nat 500ms corrupt s2\nat 600ms restart s1\n",
			"at 10ms crash s1\nat 600ms restart s1\n"},
	} {
		got := Legal(parse(tc.in), time.Second)
		require.Equal(t, tc.want, text(got), tc.name)
	}
}

// The schedule Legal was tightened for: outside the fault model, it really loses a
// committed txn, and the checks say so. Legal drops its late corrupt step.
func TestACorruptTailOnABareQuorumLosesACommittedTxn(t *testing.T) {
	s := readSchedule(t, "testdata/outside-model/corrupt-tail-forgets-an-ack.schedule")
	r, err := s.Run()
	require.NoError(t, err)
	require.True(t, r.Failed(), "the damaged disk on a bare quorum must lose a txn:\n%s", s)
	require.Contains(t, r.Failure.Detail, "CommittedLogDurability violated", "the checks name the loss: %v", r.Failure)
	require.NotContains(t, text(Legal(s.Steps, s.FaultsUntil)), "corrupt", "Legal keeps such a schedule out of the fuzzers")
}

func text(steps []Step) string {
	var b strings.Builder
	for _, st := range steps {
		b.WriteString(st.String() + "\n")
	}
	return b.String()
}
