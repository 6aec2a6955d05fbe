package daemon

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/wire"
)

// ask sends a four-letter word to addr and returns the whole answer.
func ask(t *testing.T, addr, word string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitMax)
	require.NoError(t, err, "dial %s for %s", addr, word)
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitMax))
	_, err = c.Write([]byte(word))
	require.NoError(t, err, "send %s", word)
	out, err := io.ReadAll(c)
	require.NoError(t, err, "%s: the server must answer and close", word)
	return string(out)
}

// handshakeRefused reports whether a new session's handshake on addr is closed without a
// ConnectResponse.
func handshakeRefused(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitMax)
	require.NoError(t, err, "dial %s", addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitMax))
	_, err = c.Write(wire.AppendConnectRequest(nil, &wire.ConnectRequest{TimeoutMs: 4000, Passwd: make([]byte, 16)}))
	require.NoError(t, err, "send a ConnectRequest to %s", addr)
	_, err = wire.NewFrameReader(bufio.NewReader(c), wire.FrameBytesMaxDefault).Next()
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "%s must answer or close the handshake, not leave it hanging", addr)
	return err != nil
}

// TestMemberWithoutQuorumStopsServing: a member that loses its quorum stops serving, as
// ZooKeeper shuts its ZooKeeperServer down: its client connections close, new handshakes are
// closed unanswered ("ZooKeeperServer not running"), isro answers "null" and srvr says it is
// not serving. Once the quorum is back it serves again and isro answers "rw".
func TestMemberWithoutQuorumStopsServing(t *testing.T) {
	t.Parallel() // mostly waits on timers: overlaps with the other waiting tests
	e := startEnsemble(t, 3)
	lone := (e.Leader() + 1) % 3 // a follower
	addr := e.Addrs()[lone]
	require.Equal(t, "rw", ask(t, addr, "isro"), "a serving member is read-write")
	c, events := connect(t, []string{addr}, 4*time.Second)
	_, err := c.Create("/before", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err, "create /before while serving")

	var killed []int
	for i := range e.Servers {
		if i != lone {
			e.Kill(i)
			killed = append(killed, i)
		}
	}
	deadline := time.Now().Add(waitMax)
	for e.Servers[lone].Status().Serving {
		require.True(t, time.Now().Before(deadline), "member s%d still serves %v after losing its quorum", lone+1, waitMax)
		time.Sleep(20 * time.Millisecond)
	}
	disconnected := false
	for !disconnected {
		select {
		case ev := <-events:
			disconnected = ev.State == zk.StateDisconnected
		case <-time.After(waitMax):
			t.Fatalf("the go-zookeeper session on s%d was not disconnected when it stopped serving", lone+1)
		}
	}
	assert.Equal(t, "null", ask(t, addr, "isro"), "isro of a member that does not serve")
	assert.Equal(t, notServed, ask(t, addr, "srvr"), "srvr of a member that does not serve")
	assert.True(t, handshakeRefused(t, addr), "a handshake on a member that does not serve must be closed unanswered")

	require.NoError(t, e.Restart(killed[0]), "restarting s%d", killed[0]+1)
	deadline = time.Now().Add(waitMax)
	for !e.Servers[lone].Status().Serving {
		require.True(t, time.Now().Before(deadline), "member s%d does not serve %v after its quorum came back", lone+1, waitMax)
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, "rw", ask(t, addr, "isro"), "isro once serving again")
	assert.False(t, handshakeRefused(t, addr), "a handshake once serving again gets its ConnectResponse")
	ok, _, err := c.Exists("/before")
	require.NoError(t, err, "the go-zookeeper session resumes once the member serves again")
	assert.True(t, ok, "/before survives")
}
