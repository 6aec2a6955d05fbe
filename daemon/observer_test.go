package daemon

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestObserverServesButDoesNotVote: an observer member (server.N=...:observer) serves
// clients — its writes go through the leader, its reads and watches see the voters' writes —
// but does not count toward the quorum: with two voters and one observer, losing a voter
// stops the service (with the observer voting, two of three would still be a quorum).
func TestObserverServesButDoesNotVote(t *testing.T) {
	t.Parallel() // mostly waits on timers: overlaps with the other waiting tests
	e := startEnsembleWith(t, EnsembleOptions{Servers: 3, Observers: 1})
	const observer = 2
	require.Equal(t, "observer", e.Servers[observer].Status().Mode, "member s3 is the observer")
	require.True(t, e.Config(observer).Servers[observer].Observer, "s3's server line says observer")
	addrs := e.Addrs()

	obs, _ := connect(t, addrs[observer:observer+1], 4*time.Second)
	_, err := obs.Create("/via-observer", []byte("o"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err, "create through the observer")
	voter, _ := connect(t, addrs[:1], 4*time.Second)
	_, err = voter.Sync("/via-observer")
	require.NoError(t, err, "sync on a voter")
	data, _, err := voter.Get("/via-observer")
	require.NoError(t, err, "read on a voter of the observer's write")
	assert.Equal(t, "o", string(data), "the voter sees the observer's write")

	_, _, watch, err := obs.GetW("/via-observer")
	require.NoError(t, err, "watch on the observer")
	_, err = voter.Set("/via-observer", []byte("v"), -1)
	require.NoError(t, err, "setData on a voter")
	select {
	case ev := <-watch:
		assert.Equal(t, zk.EventNodeDataChanged, ev.Type, "the observer's watch fires for the voter's write")
	case <-time.After(waitMax):
		t.Fatalf("the observer's watch did not fire within %v", waitMax)
	}

	leader := e.Leader()
	require.GreaterOrEqual(t, leader, 0, "a voter leads")
	require.NotEqual(t, observer, leader, "the observer never leads")
	e.Kill(1 - leader) // the other voter
	deadline := time.Now().Add(waitMax)
	for e.Servers[observer].Status().Serving || e.Servers[leader].Status().Serving {
		require.True(t, time.Now().Before(deadline),
			"one voter and an observer still serve %v after the other voter died: the observer must not count toward the quorum", waitMax)
		time.Sleep(20 * time.Millisecond)
	}
}
