package hostio

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab"
)

// A violation's report names it and quotes the last recentEventsMax events, the newest
// last, each stamped with its virtual time in milliseconds.
func TestZabEventsReportsAViolationWithTheLastEvents(t *testing.T) {
	z := NewZabEvents()
	for i := range 3 * recentEventsMax {
		report := z.Observe(checker.ZabEvent{Kind: checker.ZabCrashed, Node: uint64(i%3 + 1)}, time.Duration(i)*time.Millisecond)
		require.Empty(t, report, "event %d: a crash breaks no invariant", i)
	}
	at := time.Duration(3*recentEventsMax) * time.Millisecond
	report := z.Observe(checker.ZabEvent{Kind: checker.ZabDelivered, Node: 1, Zxid: 1<<32 | 1, Txn: []byte("never proposed")}, at)
	require.NotEmpty(t, report, "delivering a txn no leader proposed must be a violation")
	head, quoted, found := strings.Cut(report, "\nlast protocol events:\n  ")
	require.True(t, found, "the report must quote the last events: %q", report)
	require.NotEmpty(t, head)
	lines := strings.Split(quoted, "\n  ")
	require.Len(t, lines, recentEventsMax, "the report quotes the last %d events:\n%s", recentEventsMax, quoted)
	require.True(t, strings.HasPrefix(lines[len(lines)-1], "t=60 node=1 delivered"), "the newest event comes last, stamped in ms: %q", lines[len(lines)-1])
	require.True(t, strings.HasPrefix(lines[0], "t=41 "), "the oldest quoted event is the 20th from the end: %q", lines[0])
	require.Contains(t, z.PanicReport("boom"), "boom\nlast protocol events:\n  "+lines[0])
}

// Ensemble numbers the voters first, from 1, then the observers.
func TestEnsembleListsVotersThenObservers(t *testing.T) {
	voters, observers := Ensemble(3, 2)
	require.Equal(t, []zab.PeerID{1, 2, 3}, voters)
	require.Equal(t, []zab.PeerID{4, 5}, observers)
	voters, observers = Ensemble(1, 0)
	require.Equal(t, []zab.PeerID{1}, voters)
	require.Nil(t, observers, "no observers: a nil list, as the configs had before")
}
