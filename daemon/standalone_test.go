package daemon

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

func TestStandaloneCreateAndGet(t *testing.T) {
	e := startEnsemble(t, 1)
	c, _ := connect(t, e.Addrs(), 2*time.Second)
	p, err := c.Create("/a", []byte("hello"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err, `c.Create("/a", []byte("hello"), 0, zk.WorldACL(zk.PermAll))`)
	require.Equal(t, "/a", p)
	data, st, err := c.Get("/a")
	require.NoError(t, err, `c.Get("/a")`)
	require.Equal(t, "hello", string(data))
	require.Equal(t, int32(0), st.Version)
}

// TestLateLoopDoesNotExpireOnTimeSessions: when the node goroutine falls behind (here held by
// a query for several session timeouts), the client frames that queued up meanwhile are
// handled before the next tick, so a session whose client kept talking is not expired for the
// loop's delay.
func TestLateLoopDoesNotExpireOnTimeSessions(t *testing.T) {
	e := startEnsemble(t, 1)
	c, _ := connect(t, e.Addrs(), 600*time.Millisecond)
	_, err := c.Create("/alive", nil, zk.FlagEphemeral, open)
	require.NoError(t, err, `c.Create("/alive", nil, zk.FlagEphemeral, open)`)
	for round := range 3 {
		e.Servers[0].query(func() { time.Sleep(1500 * time.Millisecond) })
		time.Sleep(300 * time.Millisecond)
		other, _ := connect(t, e.Addrs(), 4*time.Second)
		ok, _, err := other.Exists("/alive")
		require.NoError(t, err, `other.Exists("/alive")`)
		require.True(t, ok, "round %d: the session's ephemeral must survive a late loop", round)
		other.Close()
	}
}
