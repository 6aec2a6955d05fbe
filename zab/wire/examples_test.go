package wire

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Byte-exact checks against the example frames of zk-protocol.md §2.8 and §3.6: each frame is
// both what the encoder must produce and what the decoder must read back.

// unhex turns "00 00 00 2d  00..." into bytes; "00 × 16" repeats a byte.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	fields := strings.Fields(s)
	for i := 0; i < len(fields); i++ {
		b, err := hex.DecodeString(fields[i])
		require.NoError(t, err, "bad hex %q in %q", fields[i], s)
		if i+2 < len(fields) && fields[i+1] == "×" {
			n := 0
			for _, c := range fields[i+2] {
				n = n*10 + int(c-'0')
			}
			for ; n > 0; n-- {
				out = append(out, b...)
			}
			i += 2
			continue
		}
		out = append(out, b...)
	}
	return out
}

var zeroPasswd = make([]byte, 16)

func TestConnectFramesFromSpec(t *testing.T) {
	// §2.8: new session, 30 s, Java/C/kazoo style (45-byte body).
	java := unhex(t, `00 00 00 2d  00 00 00 00  00 00 00 00 00 00 00 00  00 00 75 30
		00 00 00 00 00 00 00 00  00 00 00 10  00 × 16  00`)
	javaReq := ConnectRequest{TimeoutMs: 30000, Passwd: zeroPasswd, HasReadOnly: true}
	require.Equal(t, java, AppendConnectRequest(nil, &javaReq), "45-byte ConnectRequest of §2.8")
	got, err := DecodeConnectRequest(java[4:])
	require.NoError(t, err)
	require.Equal(t, javaReq, got, "decoding the 45-byte ConnectRequest of §2.8")

	// The same from go-zk: no readOnly byte, length 0x2c.
	goZK := append(unhex(t, "00 00 00 2c"), java[4:len(java)-1]...)
	goZKReq := ConnectRequest{TimeoutMs: 30000, Passwd: zeroPasswd}
	require.Equal(t, goZK, AppendConnectRequest(nil, &goZKReq), "44-byte go-zk ConnectRequest")
	got, err = DecodeConnectRequest(goZK[4:])
	require.NoError(t, err)
	require.Equal(t, goZKReq, got, "decoding the 44-byte ConnectRequest: HasReadOnly must be false")

	// Accepted (37-byte body), session 0x1000000abcd0000 with its §2.5 password.
	passwd := unhex(t, "29c1a79902465990af66c1981b3b90cd")
	accepted := unhex(t, `00 00 00 25  00 00 00 00  00 00 75 30  01 00 00 00 ab cd 00 00
		00 00 00 10  29c1a79902465990af66c1981b3b90cd  00`)
	acceptedResp := ConnectResponse{TimeoutMs: 30000, SessionID: 0x1000000abcd0000, Passwd: passwd, HasReadOnly: true}
	require.Equal(t, accepted, AppendConnectResponse(nil, &acceptedResp), "accepted ConnectResponse of §2.8")
	gotResp, err := DecodeConnectResponse(accepted[4:])
	require.NoError(t, err)
	require.Equal(t, acceptedResp, gotResp)

	// Invalid / expired: timeOut 0, sessionId 0, 16 zero bytes, readOnly false.
	invalid := unhex(t, `00 00 00 25  00 00 00 00  00 00 00 00  00 00 00 00 00 00 00 00
		00 00 00 10  00 × 16  00`)
	invalidResp := ConnectResponse{Passwd: zeroPasswd, HasReadOnly: true}
	require.Equal(t, invalid, AppendConnectResponse(nil, &invalidResp), "invalid-session ConnectResponse of §2.8")

	// Mirrored for go-zk: 36-byte body.
	invalidResp.HasReadOnly = false
	require.Equal(t, append(unhex(t, "00 00 00 24"), invalid[4:len(invalid)-1]...),
		AppendConnectResponse(nil, &invalidResp), "36-byte ConnectResponse for a 44-byte request")
}

func TestRequestAndReplyFramesFromSpec(t *testing.T) {
	// §3.6: getData /foo with watch, xid 1.
	getData := unhex(t, "00 00 00 11  00 00 00 01  00 00 00 04  00 00 00 04 2f 66 6f 6f  01")
	h := RequestHeader{Xid: 1, Type: OpGetData}
	body := &GetDataRequest{Path: "/foo", Watch: true}
	require.Equal(t, getData, AppendRequest(nil, h, body), "getData request of §3.6")
	req, err := DecodeRequest(getData[4:])
	require.NoError(t, err)
	require.Equal(t, Request{Header: h, Body: body}, req)

	// Its error reply, NoNode at zxid 5: header only.
	noNode := unhex(t, "00 00 00 10  00 00 00 01  00 00 00 00 00 00 00 05  ff ff ff 9b")
	rh := ReplyHeader{Xid: 1, Zxid: 5, Err: ErrNoNode}
	require.Equal(t, noNode, AppendReply(nil, OpGetData, rh, nil), "NoNode reply of §3.6")
	rep, err := DecodeReply(noNode[4:], OpGetData)
	require.NoError(t, err)
	require.Equal(t, Reply{Header: rh}, rep, "an error reply has no body")

	// NodeDataChanged notification for /foo.
	notification := unhex(t, `00 00 00 20  ff ff ff ff  ff ff ff ff ff ff ff ff  00 00 00 00
		00 00 00 03  00 00 00 03  00 00 00 04 2f 66 6f 6f`)
	ev := WatcherEvent{Type: EventNodeDataChanged, State: StateSyncConnected, Path: "/foo"}
	require.Equal(t, notification, AppendNotification(nil, ev), "notification of §3.6")
	rep, err = DecodeReply(notification[4:], OpGetData)
	require.NoError(t, err)
	require.Equal(t, Reply{Header: NotificationHeader, Body: &ev}, rep)

	// Ping and its reply (server at zxid 5).
	ping := unhex(t, "00 00 00 08  ff ff ff fe  00 00 00 0b")
	ph := RequestHeader{Xid: XidPing, Type: OpPing}
	require.Equal(t, ping, AppendRequest(nil, ph, nil), "ping of §3.6")
	req, err = DecodeRequest(ping[4:])
	require.NoError(t, err)
	require.Equal(t, Request{Header: ph}, req)
	pong := unhex(t, "00 00 00 10  ff ff ff fe  00 00 00 00 00 00 00 05  00 00 00 00")
	require.Equal(t, pong, AppendReply(nil, OpPing, ReplyHeader{Xid: XidPing, Zxid: 5}, nil), "ping reply of §3.6")
}

// TestMultiFailureFrameFromSpec encodes the §10.3 example: [create /x, delete /missing,
// setData /y] failing on the delete, answered with header err 0 and three error results.
func TestMultiFailureFrameFromSpec(t *testing.T) {
	results := &MultiResponse{Results: []MultiResult{
		{Type: OpError, Err: ErrOK},
		{Type: OpError, Err: ErrNoNode},
		{Type: OpError, Err: ErrRuntimeInconsistency},
	}}
	want := unhex(t, `00 00 00 40  00 00 00 07  00 00 00 00 00 00 00 09  00 00 00 00
		ff ff ff ff 00 00 00 00 00  00 00 00 00
		ff ff ff ff 00 ff ff ff 9b  ff ff ff 9b
		ff ff ff ff 00 ff ff ff fe  ff ff ff fe
		ff ff ff ff 01 ff ff ff ff`)
	h := ReplyHeader{Xid: 7, Zxid: 9}
	require.Equal(t, want, AppendReply(nil, OpMulti, h, results), "failed multi reply of §10.3")
	rep, err := DecodeReply(want[4:], OpMulti)
	require.NoError(t, err)
	require.Equal(t, Reply{Header: h, Body: results}, rep)

	// The request side: MultiHeader(type, false, -1) before each op, (-1, true, -1) after.
	ops := &MultiRequest{Ops: []MultiOp{
		{Type: OpCreate, Body: &CreateRequest{Path: "/x", Data: []byte{}, ACL: []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}}}},
		{Type: OpDelete, Body: &DeleteRequest{Path: "/missing", Version: -1}},
	}}
	wantReq := unhex(t, `00 00 00 5c  00 00 00 08  00 00 00 0e
		00 00 00 01 00 ff ff ff ff
		00 00 00 02 2f 78  00 00 00 00  00 00 00 01  00 00 00 1f  00 00 00 05 776f726c64  00 00 00 06 616e796f6e65  00 00 00 00
		00 00 00 02 00 ff ff ff ff
		00 00 00 08 2f6d697373696e67  ff ff ff ff
		ff ff ff ff 01 ff ff ff ff`)
	rq := RequestHeader{Xid: 8, Type: OpMulti}
	require.Equal(t, wantReq, AppendRequest(nil, rq, ops), "multi request framing of §10.1")
	req, err := DecodeRequest(wantReq[4:])
	require.NoError(t, err)
	require.Equal(t, Request{Header: rq, Body: ops}, req)
}
