package conformance

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/wire"
)

// fakeServer accepts one connection, reads the ConnectRequest, answers it, writes frames
// (whole frames, length prefix included) and closes. It returns its address.
func fakeServer(t *testing.T, frames ...[]byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := wire.NewFrameReader(c, 1<<20).Next(); err != nil {
			return
		}
		out := wire.AppendConnectResponse(nil, &wire.ConnectResponse{TimeoutMs: 30000, SessionID: 1, Passwd: make([]byte, 16)})
		for _, f := range frames {
			out = append(out, f...)
		}
		_, _ = c.Write(out)
	}()
	return ln.Addr().String()
}

// truncatedNotification is a frame with a notification's reply header (xid -1) and no event.
func truncatedNotification() []byte {
	p := binary.BigEndian.AppendUint32(nil, uint32(0xffffffff)) // xid -1
	p = binary.BigEndian.AppendUint64(p, 0)                     // zxid
	p = binary.BigEndian.AppendUint32(p, 0)                     // err
	p = append(p, 0, 0)                                         // a fragment of the event type
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

// A notification that does not decode is reported, not passed over, whether it comes while
// waiting for a close (WaitClosed) or while draining a connection before it is dropped.
func TestUndecodableNotificationsAreReported(t *testing.T) {
	good := wire.AppendNotification(nil, wire.WatcherEvent{Type: wire.EventNodeDeleted, State: 3, Path: "/a"})
	dial := func(addr string) *Conn {
		c, hs := Dial(addr, wire.ConnectRequest{TimeoutMs: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
		require.Equal(t, Replied, hs.Outcome, "handshake with the fake server: %v", hs.Err)
		t.Cleanup(c.Close)
		return c
	}

	c := dial(fakeServer(t, good, truncatedNotification()))
	closed, events, err := c.WaitClosed(2 * time.Second)
	assert.Error(t, err, "WaitClosed must report the undecodable notification")
	assert.False(t, closed, "the wait ends at the bad frame, before the close")
	assert.Equal(t, []wire.WatcherEvent{{Type: wire.EventNodeDeleted, State: 3, Path: "/a"}}, events, "the event before it is kept")

	c = dial(fakeServer(t, good, truncatedNotification()))
	ex := c.drain()
	assert.Equal(t, BadFrame, ex.Outcome, "drain must report the undecodable notification (err %v)", ex.Err)
	assert.Len(t, ex.Events, 1, "the event before it is kept")

	c = dial(fakeServer(t, good))
	closed, events, err = c.WaitClosed(2 * time.Second)
	assert.NoError(t, err)
	assert.True(t, closed, "the fake server closes after its frames")
	assert.Len(t, events, 1)
}
