package wire

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Round-trip properties: for every record, as a request, a reply, a notification or a
// handshake frame, decode(encode(x)) == x and encoding is deterministic. Reproduce a failure
// with the -rapid.failfile / -rapid.seed flags rapid prints.

// cutOne splits exactly one frame off a buffer that must hold nothing else.
func cutOne(t *rapid.T, frame []byte) []byte {
	payload, rest, ok, err := CutFrame(frame, FrameBytesMaxDefault)
	require.NoError(t, err, "CutFrame of an encoded frame %x", frame)
	require.True(t, ok, "CutFrame: encoded frame %x reported incomplete", frame)
	require.Empty(t, rest, "CutFrame: bytes left after the only frame of %x", frame)
	return payload
}

func TestRequestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		op := rapid.SampledFrom(requestOps).Draw(t, "op")
		h := RequestHeader{Xid: genInt32.Draw(t, "xid"), Type: op}
		body := genRequestBodyFor(t, op)

		frame := AppendRequest(nil, h, body)
		require.Equal(t, frame, AppendRequest(nil, h, body), "encoding op %d twice gave different bytes", op)
		got, err := DecodeRequest(cutOne(t, frame))
		require.NoError(t, err, "decoding op %d frame %x", op, frame)
		require.Equal(t, Request{Header: h, Body: body}, got, "round trip of op %d via %x", op, frame)
	})
}

func TestReplyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		op := rapid.SampledFrom(replyOps).Draw(t, "op")
		h := ReplyHeader{Xid: rapid.Int32Min(-2).Draw(t, "xid"), Zxid: genInt64.Draw(t, "zxid")}
		if h.Xid == XidNotification {
			h.Xid = 1
		}
		var body Record
		if rapid.IntRange(0, 3).Draw(t, "failed") == 0 {
			h.Err = rapid.SampledFrom([]Err{ErrNoNode, ErrNoAuth, ErrMarshallingError, ErrSessionExpired}).Draw(t, "err")
		} else {
			body = genReplyBodyFor(t, op)
		}

		frame := AppendReply(nil, op, h, body)
		require.Equal(t, frame, AppendReply(nil, op, h, body), "encoding a reply to op %d twice gave different bytes", op)
		got, err := DecodeReply(cutOne(t, frame), op)
		require.NoError(t, err, "decoding a reply to op %d: frame %x", op, frame)
		require.Equal(t, Reply{Header: h, Body: body}, got, "round trip of a reply to op %d via %x", op, frame)
	})
}

func TestNotificationRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ev := WatcherEvent{Type: EventType(genInt32.Draw(t, "type")), State: genInt32.Draw(t, "state"), Path: genText.Draw(t, "path")}
		frame := AppendNotification(nil, ev)
		require.Equal(t, frame, AppendNotification(nil, ev), "encoding a notification twice gave different bytes")
		op := rapid.SampledFrom(replyOps).Draw(t, "pending op")
		got, err := DecodeReply(cutOne(t, frame), op)
		require.NoError(t, err, "decoding notification frame %x", frame)
		require.Equal(t, Reply{Header: NotificationHeader, Body: &ev}, got, "round trip of notification via %x", frame)
	})
}

func TestConnectRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		req := genConnectRequest.Draw(t, "request")
		frame := AppendConnectRequest(nil, &req)
		require.Equal(t, frame, AppendConnectRequest(nil, &req), "encoding a ConnectRequest twice gave different bytes")
		gotReq, err := DecodeConnectRequest(cutOne(t, frame))
		require.NoError(t, err, "decoding ConnectRequest frame %x", frame)
		require.Equal(t, req, gotReq, "round trip of ConnectRequest via %x", frame)

		resp := genConnectResponse.Draw(t, "response")
		frame = AppendConnectResponse(nil, &resp)
		require.Equal(t, frame, AppendConnectResponse(nil, &resp), "encoding a ConnectResponse twice gave different bytes")
		gotResp, err := DecodeConnectResponse(cutOne(t, frame))
		require.NoError(t, err, "decoding ConnectResponse frame %x", frame)
		require.Equal(t, resp, gotResp, "round trip of ConnectResponse via %x", frame)
	})
}

// TestEncoderAppends checks that encoding appends to the caller's buffer without touching
// what is already there, so a host can batch many frames into one write.
func TestEncoderAppends(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prefix := rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "prefix")
		op := rapid.SampledFrom(replyOps).Draw(t, "op")
		h := ReplyHeader{Xid: 7, Zxid: 9}
		body := genReplyBodyFor(t, op)
		alone := AppendReply(nil, op, h, body)
		batched := AppendReply(bytes.Clone(prefix), op, h, body)
		require.Equal(t, append(bytes.Clone(prefix), alone...), batched, "appending a reply after %x", prefix)
	})
}

// TestNilResponseVectorsAreEmpty: the server never sends a null vector (go-zk would read the
// -1 count as ~4 billion), so a nil slice in a response record goes out as count 0.
func TestNilResponseVectorsAreEmpty(t *testing.T) {
	frame := AppendReply(nil, OpGetChildren, ReplyHeader{Xid: 1, Zxid: 2}, &GetChildrenResponse{})
	require.Equal(t, []byte{0, 0, 0, 0x14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}, frame,
		"a getChildren reply with nil Children must encode count 0, not -1")
	got, err := DecodeReply(frame[4:], OpGetChildren)
	require.NoError(t, err)
	require.Equal(t, []string{}, got.Body.(*GetChildrenResponse).Children, "count 0 decodes as an empty, non-nil list")
}

// TestBodyTablesAgree keeps the type switches used when encoding in agreement with the
// tables used when decoding.
func TestBodyTablesAgree(t *testing.T) {
	for op := OpCode(-20); op <= 120; op++ {
		if body, known := requestBody(op); known {
			require.True(t, requestBodyMatches(op, body), "request op %d: decoder builds %T, encoder refuses it", op, body)
		} else {
			require.False(t, requestBodyMatches(op, nil), "request op %d is unknown but the encoder accepts no body", op)
		}
		if body, known := replyBody(op); known {
			require.True(t, replyBodyMatches(op, body), "reply to op %d: decoder builds %T, encoder refuses it", op, body)
		}
	}
}
