package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

const waitMax = 10 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// cluster is n transports on loopback, ids 1..n, plus extra configured-but-absent ids.
type cluster struct {
	t     *testing.T
	addrs map[zab.PeerID]string
	nodes map[zab.PeerID]*Transport
	cfg   Config
}

func newCluster(t *testing.T, n int, absent ...zab.PeerID) *cluster {
	t.Helper()
	cl := &cluster{t: t, addrs: map[zab.PeerID]string{}, nodes: map[zab.PeerID]*Transport{},
		cfg: Config{BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, Logger: quiet}}
	lns := map[zab.PeerID]net.Listener{}
	for id := zab.PeerID(1); id <= zab.PeerID(n); id++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		lns[id] = ln
		cl.addrs[id] = ln.Addr().String()
	}
	for _, id := range absent {
		cl.addrs[id] = "127.0.0.1:1" // nothing listens there; no one dials it (higher ids dial)
	}
	for id, ln := range lns {
		cl.start(id, ln)
	}
	t.Cleanup(func() {
		for _, tr := range cl.nodes {
			tr.Close()
		}
	})
	return cl
}

func (cl *cluster) start(id zab.PeerID, ln net.Listener) {
	cfg := cl.cfg
	cfg.ID = id
	cfg.Peers = map[zab.PeerID]string{}
	for pid, addr := range cl.addrs {
		if pid != id {
			cfg.Peers[pid] = addr
		}
	}
	tr, err := New(cfg, ln)
	require.NoError(cl.t, err)
	cl.nodes[id] = tr
}

func msg(from, to zab.PeerID, zxid uint64) node.Message {
	return node.Message{Kind: node.KindZab, From: from, To: to,
		Zab: zab.Message{Type: zab.MsgPing, From: from, To: to, Zxid: zab.Zxid(zxid), Data: fmt.Appendf(nil, "%d->%d #%d", from, to, zxid)}}
}

// receive waits for the next message at tr.
func receive(t *testing.T, tr *Transport) node.Message {
	t.Helper()
	select {
	case m := <-tr.Receive():
		return m
	case <-time.After(waitMax):
		t.Fatalf("no message received within %v", waitMax)
		return node.Message{}
	}
}

// exchange sends from every node to every other, resending every 20 ms (as zab's pings
// do) until each ordered pair has delivered one message with the right content.
func (cl *cluster) exchange(tag uint64) {
	cl.t.Helper()
	got := map[[2]zab.PeerID]bool{}
	want := 0
	for range cl.nodes {
		want += len(cl.nodes) - 1
	}
	deadline := time.After(waitMax)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(got) < want {
		for from, tr := range cl.nodes {
			for to := range cl.nodes {
				if from != to && !got[[2]zab.PeerID{from, to}] {
					tr.Send(msg(from, to, tag))
				}
			}
		}
		wait := tick.C
		for drained := false; !drained; {
			select {
			case <-wait:
				drained = true
			case <-deadline:
				cl.t.Fatalf("after %v only %d of %d directions delivered: %v", waitMax, len(got), want, got)
			default:
				for to, tr := range cl.nodes {
					select {
					case m := <-tr.Receive():
						require.Equal(cl.t, to, m.To)
						if m.Zab.Zxid == zab.Zxid(tag) {
							require.Equal(cl.t, msg(m.From, to, tag), m, "message content changed on the way")
							got[[2]zab.PeerID{m.From, to}] = true
						}
					default:
					}
				}
				select {
				case <-wait:
					drained = true
				case <-time.After(time.Millisecond):
				}
			}
		}
	}
}

func TestThreeServersExchangeMessages(t *testing.T) {
	cl := newCluster(t, 3)
	cl.exchange(1)
	for id, tr := range cl.nodes {
		for pid := range cl.nodes {
			if pid == id {
				continue
			}
			s := tr.Stats(pid)
			assert.True(t, s.Connected, "server %d not connected to %d", id, pid)
			assert.Equal(t, uint64(1), s.Connects, "server %d: one connection to %d, no duplicates", id, pid)
		}
	}
}

func TestMessagesKeepTheirOrderAndBytes(t *testing.T) {
	cl := newCluster(t, 2)
	big := make([]byte, 3<<20) // beyond the incremental-read threshold
	for i := range big {
		big[i] = byte(i * 7)
	}
	var sent []node.Message
	for i := uint64(1); i <= 200; i++ {
		m := msg(1, 2, i)
		if i == 100 {
			m.Zab.Type, m.Zab.Data = zab.MsgSnap, big
		}
		sent = append(sent, m)
		cl.nodes[1].Send(m)
	}
	for i := range sent {
		got := receive(t, cl.nodes[2])
		require.Equal(t, sent[i], got, "message %d", i)
	}
}

func TestRestartedServerIsReconnected(t *testing.T) {
	cl := newCluster(t, 3)
	cl.exchange(1)
	addr := cl.addrs[2]
	require.NoError(t, cl.nodes[2].Close())
	delete(cl.nodes, 2)
	require.Eventually(t, func() bool {
		return !cl.nodes[1].Stats(2).Connected && !cl.nodes[3].Stats(2).Connected
	}, waitMax, time.Millisecond, "1 and 3 must notice that 2 is gone")
	// Messages sent meanwhile are queued or lost, never a reason to block.
	for i := range 10 {
		cl.nodes[1].Send(msg(1, 2, uint64(100+i)))
		cl.nodes[3].Send(msg(3, 2, uint64(100+i)))
	}
	cl.exchange(2) // 1 and 3 still talk
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err, "rebinding %s for the restarted server", addr)
	cl.start(2, ln)
	cl.exchange(3)
	assert.Equal(t, uint64(2), cl.nodes[1].Stats(2).Connects, "1 saw server 2 connect twice")
	assert.Equal(t, uint64(2), cl.nodes[3].Stats(2).Connects, "3 redialed server 2 once")
	assert.Equal(t, uint64(1), cl.nodes[1].Stats(3).Connects, "the 1-3 connection was not disturbed")
}

// TestFullQueueDropsOldest: server 1 cannot send to 3 until 3 dials it; its queue of 4
// keeps the newest 4 of 10 messages, which arrive in order once 3 is up.
func TestFullQueueDropsOldest(t *testing.T) {
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln3, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := Config{ID: 1, Peers: map[zab.PeerID]string{3: ln3.Addr().String()}, SendQueueMessagesMax: 4,
		BackoffMin: 5 * time.Millisecond, Logger: quiet}
	one, err := New(cfg, ln1)
	require.NoError(t, err)
	defer one.Close()
	for i := uint64(1); i <= 10; i++ {
		require.True(t, one.Send(msg(1, 3, i)))
	}
	assert.Equal(t, uint64(6), one.Stats(3).Dropped)
	assert.False(t, one.Send(msg(1, 7, 1)), "a message for an unknown server is refused")

	three, err := New(Config{ID: 3, Peers: map[zab.PeerID]string{1: ln1.Addr().String()}, Logger: quiet}, ln3)
	require.NoError(t, err)
	defer three.Close()
	for i := uint64(7); i <= 10; i++ {
		assert.Equal(t, msg(1, 3, i), receive(t, three), "the newest messages survive, in order")
	}
	assert.Equal(t, uint64(4), one.Stats(3).Sent)
}

// rawDial opens a plain TCP connection, closed when the test ends.
func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitMax)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// requireClosed checks that the transport closed c: a read ends without data.
func requireClosed(t *testing.T, c net.Conn, why string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitMax))
	_, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: connection still open after %v", why, waitMax)
	}
}

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestBadFrameClosesOnlyThatConnection: a stranger (server 9, configured but absent) that
// sends garbage is cut off, and the real peers' connections are untouched.
func TestBadFrameClosesOnlyThatConnection(t *testing.T) {
	valid := msg(9, 1, 1).Marshal()
	tests := []struct {
		name  string
		bytes []byte
	}{
		{"garbage body", frame([]byte{0xff, 0xff, 0xff})},
		{"unknown message version", frame(append([]byte{99}, valid[1:]...))},
		{"trailing bytes", frame(append(valid, 0))},
		{"zero length", frame(nil)},
		{"length above the limit", binary.BigEndian.AppendUint32(nil, 1<<20+1)},
		{"forged sender", frame(msg(2, 1, 1).Marshal())},
		{"wrong receiver", frame(msg(9, 3, 1).Marshal())},
	}
	cl := newCluster(t, 3, 9)
	cl.cfg.FrameBytesMax = 1 << 20
	// Restart server 1 with the frame limit set.
	require.NoError(t, cl.nodes[1].Close())
	ln, err := net.Listen("tcp", cl.addrs[1])
	require.NoError(t, err)
	cl.start(1, ln)
	cl.exchange(1)
	connects := []uint64{cl.nodes[1].Stats(2).Connects, cl.nodes[1].Stats(3).Connects}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, cl.addrs[1])
			_, err := c.Write(handshake{version: protocolVersion, from: 9, to: 1}.append(nil))
			require.NoError(t, err)
			c.SetReadDeadline(time.Now().Add(waitMax))
			reply, err := readHandshake(c)
			require.NoError(t, err, "a valid handshake gets a reply")
			assert.Equal(t, handshake{version: protocolVersion, from: 1, to: 9}, reply)
			_, err = c.Write(frame(valid)) // one good message first
			require.NoError(t, err)
			got := receive(t, cl.nodes[1])
			assert.Equal(t, msg(9, 1, 1), got)
			_, err = c.Write(tt.bytes)
			require.NoError(t, err)
			requireClosed(t, c, tt.name)
			cl.exchange(uint64(100 + i))
		})
	}
	assert.Equal(t, connects, []uint64{cl.nodes[1].Stats(2).Connects, cl.nodes[1].Stats(3).Connects},
		"the connections to servers 2 and 3 must survive every bad frame")
}

func TestBadHandshakeIsRefused(t *testing.T) {
	cl := newCluster(t, 2, 9)
	hello := func(version uint16, from, to zab.PeerID) []byte {
		return handshake{version: version, from: from, to: to}.append(nil)
	}
	tests := []struct {
		name  string
		bytes []byte
	}{
		{"bad magic", append([]byte("ZK!!"), hello(protocolVersion, 9, 2)[4:]...)},
		{"newer protocol version", hello(protocolVersion+1, 9, 2)},
		{"unknown server", hello(protocolVersion, 42, 2)},
		{"lower id dials", hello(protocolVersion, 1, 2)},
		{"wrong receiver", hello(protocolVersion, 9, 1)},
		{"a ZooKeeper client connect", frame(make([]byte, 44))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, cl.addrs[2])
			_, err := c.Write(tt.bytes)
			require.NoError(t, err)
			requireClosed(t, c, tt.name)
		})
	}
	cl.exchange(1)
	assert.Equal(t, uint64(1), cl.nodes[2].Stats(1).Connects)
}

func TestNewRefusesBadConfig(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = New(Config{ID: 0}, ln)
	assert.ErrorContains(t, err, "server id 0 is reserved")
	_, err = New(Config{ID: 1, Peers: map[zab.PeerID]string{1: "x:1"}}, ln)
	assert.ErrorContains(t, err, "lists itself")
}

func TestCloseIsIdempotentAndStopsReconnecting(t *testing.T) {
	cl := newCluster(t, 2)
	cl.exchange(1)
	require.NoError(t, cl.nodes[2].Close())
	assert.NoError(t, cl.nodes[2].Close(), "second Close")
	assert.False(t, cl.nodes[2].Stats(1).Connected)
	dropped := cl.nodes[2].Stats(1).Dropped
	assert.False(t, cl.nodes[2].Send(msg(2, 1, 9)), "Send after Close")
	assert.Equal(t, dropped+1, cl.nodes[2].Stats(1).Dropped)
}

// TestNewerConnectionReplacesOlder: a peer that restarted dials again while this server
// still holds its old, half-open connection; the new one wins and the old one is closed,
// so there is still one connection per pair.
func TestNewerConnectionReplacesOlder(t *testing.T) {
	cl := newCluster(t, 1, 9)
	dialAs9 := func() net.Conn {
		c := rawDial(t, cl.addrs[1])
		_, err := c.Write(handshake{version: protocolVersion, from: 9, to: 1}.append(nil))
		require.NoError(t, err)
		c.SetReadDeadline(time.Now().Add(waitMax))
		_, err = readHandshake(c)
		require.NoError(t, err)
		return c
	}
	old := dialAs9()
	require.Eventually(t, func() bool { return cl.nodes[1].Stats(9).Connected }, waitMax, time.Millisecond)
	fresh := dialAs9()
	requireClosed(t, old, "the older connection")
	require.Eventually(t, func() bool { return cl.nodes[1].Stats(9).Connects == 2 }, waitMax, time.Millisecond)
	cl.nodes[1].Send(msg(1, 9, 5))
	fresh.SetReadDeadline(time.Now().Add(waitMax))
	got, err := readFrame(fresh, 1<<20)
	require.NoError(t, err, "the newer connection carries the traffic")
	assert.Equal(t, msg(1, 9, 5), got)
	assert.True(t, cl.nodes[1].Stats(9).Connected)
}
