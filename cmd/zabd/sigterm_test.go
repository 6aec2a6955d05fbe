package main

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/wire"
)

// TestSIGTERMAnswersWhatItApplied: SIGTERM stops zabd gracefully — every request it read is
// answered before it exits 0. A raw client pipelines creates on one connection and the
// server is sent SIGTERM while they stream in; after a restart, the creates that exist are
// exactly the ones answered: none acknowledged and lost, none applied and left unanswered.
func TestSIGTERMAnswersWhatItApplied(t *testing.T) {
	t.Parallel() // its own ports and directories
	bin := buildZabd(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := standaloneConfig(t, dir, port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p := startZabd(t, bin, cfg)
	waitUp(t, addr)

	nc, err := net.DialTimeout("tcp", addr, waitMax)
	require.NoError(t, err, "dial zabd")
	defer nc.Close()
	fr := wire.NewFrameReader(bufio.NewReader(nc), wire.FrameBytesMaxDefault)
	nc.SetDeadline(time.Now().Add(waitMax))
	_, err = nc.Write(wire.AppendConnectRequest(nil, &wire.ConnectRequest{TimeoutMs: 4000, Passwd: make([]byte, 16)}))
	require.NoError(t, err, "send the ConnectRequest")
	_, err = fr.Next()
	require.NoError(t, err, "read the ConnectResponse")

	const depth = 20000
	var frames []byte
	acl := []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
	for xid := 1; xid <= depth; xid++ {
		frames = wire.AppendRequest(frames, wire.RequestHeader{Xid: int32(xid), Type: wire.OpCreate},
			&wire.CreateRequest{Path: "/t" + strconv.Itoa(xid), ACL: acl})
	}
	go nc.Write(frames) // blocks while the server throttles; fails once it closes
	answered := map[string]bool{}
	for xid := 1; xid <= depth; xid++ {
		payload, err := fr.Next()
		if err != nil {
			break // the server closed the connection after answering what it read
		}
		r, err := wire.DecodeReply(payload, wire.OpCreate)
		require.NoError(t, err, "reply %d must decode", xid)
		require.Equal(t, int32(xid), r.Header.Xid, "replies come in request order")
		require.Equal(t, wire.ErrOK, r.Header.Err, "create /t%d", xid)
		answered["/t"+strconv.Itoa(xid)] = true
		if xid == 100 {
			require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM), "SIGTERM to zabd")
		}
	}
	select {
	case <-p.done:
		require.NoError(t, p.err, "zabd must exit 0 on SIGTERM")
	case <-time.After(waitMax):
		t.Fatalf("zabd did not exit within %v of SIGTERM", waitMax)
	}
	require.Less(t, len(answered), depth, "SIGTERM came after the whole pipeline was answered: nothing was in flight")

	startZabd(t, bin, cfg)
	waitUp(t, addr)
	c := dial(t, addr)
	defer c.Close()
	kids, _, err := c.Children("/")
	require.NoError(t, err, "list / after the restart")
	applied := map[string]bool{}
	for _, k := range kids {
		if strings.HasPrefix(k, "t") {
			applied["/"+k] = true
		}
	}
	for path := range answered {
		require.True(t, applied[path], "acknowledged create %s lost across SIGTERM", path)
	}
	for path := range applied {
		require.True(t, answered[path], "create %s was applied but never answered: SIGTERM dropped an in-flight reply", path)
	}
	t.Logf("%d of %d pipelined creates read, applied and answered before the graceful stop", len(answered), depth)
}
