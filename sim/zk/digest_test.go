package zk

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
)

// Client and peer packets reach the trace with a digest of their content.
func TestPayloadsDigestTheirContent(t *testing.T) {
	c := connMsg{conn: 3, seq: 7, sentAt: 5 * time.Millisecond, kind: connFrame, frame: []byte("setData c1-4")}
	p := peerMsg{from: 2, boot: 1, seq: 9, sentAt: 5 * time.Millisecond, data: []byte("proposal 1.5")}
	for name, differ := range map[string]sim.TraceDigester{
		"frame bytes":      connMsg{conn: 3, seq: 7, sentAt: 5 * time.Millisecond, kind: connFrame, frame: []byte("setData x1-4")},
		"connection":       connMsg{conn: 4, seq: 7, sentAt: 5 * time.Millisecond, kind: connFrame, frame: c.frame},
		"client seq":       connMsg{conn: 3, seq: 8, sentAt: 5 * time.Millisecond, kind: connFrame, frame: c.frame},
		"kind":             connMsg{conn: 3, seq: 7, sentAt: 5 * time.Millisecond, kind: connClose, frame: c.frame},
		"client sent time": connMsg{conn: 3, seq: 7, sentAt: 6 * time.Millisecond, kind: connFrame, frame: c.frame},
	} {
		require.NotEqual(t, c.TraceDigest(), differ.TraceDigest(), "a connMsg differing in its %s must digest differently", name)
	}
	for name, differ := range map[string]sim.TraceDigester{
		"message bytes":  peerMsg{from: 2, boot: 1, seq: 9, sentAt: 5 * time.Millisecond, data: []byte("proposal 1.6")},
		"sender":         peerMsg{from: 3, boot: 1, seq: 9, sentAt: 5 * time.Millisecond, data: p.data},
		"sender boot":    peerMsg{from: 2, boot: 2, seq: 9, sentAt: 5 * time.Millisecond, data: p.data},
		"peer seq":       peerMsg{from: 2, boot: 1, seq: 10, sentAt: 5 * time.Millisecond, data: p.data},
		"peer sent time": peerMsg{from: 2, boot: 1, seq: 9, sentAt: 6 * time.Millisecond, data: p.data},
	} {
		require.NotEqual(t, p.TraceDigest(), differ.TraceDigest(), "a peerMsg differing in its %s must digest differently", name)
	}
	require.Equal(t, c.TraceDigest(), sim.PayloadDigest(c), "the trace takes the connMsg's own digest")
	require.Equal(t, p.TraceDigest(), sim.PayloadDigest(p), "the trace takes the peerMsg's own digest")
}

// Two runs of one seed whose clients write other bytes of the same length (every value
// starts with 'x' instead of 'c') do the same things at the same times with packets of the
// same sizes: only the payload digests tell them apart, and the determinism check must.
func TestDeterminismCheckSeesPayloadContent(t *testing.T) {
	runs := 0
	err := sim.CheckDeterminism(func(record bool) *sim.Trace {
		o := Swarm(5, time.Second)
		o.Record = record
		if runs%2 == 1 {
			o.valueFirst = 'x'
		}
		runs++
		c, err := New(o)
		require.NoError(t, err)
		c.Run()
		return c.World().Trace
	})
	require.Error(t, err, "swarm seed 5 with values starting 'c', then 'x': the traces must differ (payload digests)")
	require.Contains(t, err.Error(), "same seed, different traces", "the determinism check's report")
	t.Logf("%v", firstLines(err.Error(), 8))
}

func firstLines(s string, n int) string {
	for i, c := range s {
		if c == '\n' {
			if n--; n == 0 {
				return s[:i]
			}
		}
	}
	return s
}
