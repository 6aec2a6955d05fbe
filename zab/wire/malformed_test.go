package wire

import (
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// Malformed input: every case names the bytes, what the reference server does with them
// (zk-protocol.md §1.4, §3.5, §7.1) and checks that DecodeRequest says the same.

// be32 is a big-endian int32 as bytes.
func be32(v int32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// str is a jute ustring.
func str(s string) []byte { return cat(be32(int32(len(s))), []byte(s)) }

// hdr is a RequestHeader.
func hdr(xid int32, op OpCode) []byte { return cat(be32(xid), be32(int32(op))) }

// mh is a MultiHeader.
func mh(op OpCode, done bool, err int32) []byte {
	b := byte(0)
	if done {
		b = 1
	}
	return cat(be32(int32(op)), []byte{b}, be32(err))
}

var multiDone = mh(OpError, true, -1)

func TestDecodeRequestRefusesMalformedInput(t *testing.T) {
	type outcome struct {
		reply Err  // ErrOK: no reply
		close bool // connection closed
	}
	var (
		closeSilently = outcome{ErrOK, true}
		unimplemented = outcome{ErrUnimplemented, true}
		marshalling   = outcome{ErrMarshallingError, false}
		badArguments  = outcome{ErrBadArguments, false}
	)
	cases := []struct {
		name    string
		payload []byte
		want    outcome
	}{
		{"empty frame: no header", nil, closeSilently},
		{"header cut after xid", be32(1), closeSilently},
		{"header cut inside type", cat(be32(1), []byte{0, 0, 4}), closeSilently},
		{"unknown op 10 (getMaxChildren)", hdr(1, 10), unimplemented},
		{"unknown op 99", hdr(1, 99), unimplemented},
		{"notification op 0", hdr(1, OpNotification), unimplemented},
		{"internal deleteContainer (20): BadArguments, kept open (Apache 3.8.0)", cat(hdr(1, OpDeleteContainer), []byte("/a")), badArguments},
		{"internal createSession (-10)", hdr(1, OpCreateSession), unimplemented},
		{"error op -1", hdr(1, OpError), unimplemented},
		{"getData with no body", hdr(1, OpGetData), marshalling},
		{"getData path cut short", cat(hdr(1, OpGetData), be32(4), []byte("/fo")), marshalling},
		{"getData without watch byte", cat(hdr(1, OpGetData), str("/foo")), marshalling},
		{"path length -2", cat(hdr(1, OpGetData), be32(-2), []byte{1}), marshalling},
		{"path length MinInt32", cat(hdr(1, OpExists), be32(-1<<31), []byte{1}), marshalling},
		{"path length 2^31-1", cat(hdr(1, OpExists), be32(1<<31-1), []byte("/foo"), []byte{1}), marshalling},
		{"data length -7", cat(hdr(1, OpSetData), str("/a"), be32(-7), be32(0)), marshalling},
		{"data length beyond frame", cat(hdr(1, OpSetData), str("/a"), be32(1000), []byte("xy"), be32(0)), marshalling},
		{"ACL count 2^31-1", cat(hdr(1, OpCreate), str("/a"), be32(0), be32(1<<31-1), be32(0)), marshalling},
		{"ACL count -2", cat(hdr(1, OpCreate), str("/a"), be32(0), be32(-2), be32(0)), marshalling},
		{"ACL entry cut", cat(hdr(1, OpCreate), str("/a"), be32(0), be32(1), be32(31), str("world")), marshalling},
		{"setWatches child list count too big", cat(hdr(1, OpSetWatches), make([]byte, 8), be32(-1), be32(-1), be32(100), str("/a")), marshalling},
		{"createTTL without ttl", cat(hdr(1, OpCreateTTL), str("/a"), be32(0), be32(0), be32(5)), marshalling},
		{"multi without terminator", cat(hdr(1, OpMulti), mh(OpDelete, false, -1), str("/a"), be32(-1)), marshalling},
		{"multi with an empty body", hdr(1, OpMulti), marshalling},
		{"multi op type not allowed (exists)", cat(hdr(1, OpMulti), mh(OpExists, false, -1), str("/a"), []byte{0}, multiDone), marshalling},
		{"multi op deleteContainer", cat(hdr(1, OpMulti), mh(OpDeleteContainer, false, -1), str("/a"), multiDone), marshalling},
		{"multi nested multi", cat(hdr(1, OpMulti), mh(OpMulti, false, -1), multiDone, multiDone), marshalling},
		{"multi mixes write then read", cat(hdr(1, OpMulti), mh(OpDelete, false, -1), str("/a"), be32(-1),
			mh(OpGetData, false, -1), str("/a"), []byte{0}, multiDone), marshalling},
		{"multi (14) of reads", cat(hdr(1, OpMulti), mh(OpGetData, false, -1), str("/a"), []byte{0}, multiDone), marshalling},
		{"multiRead (22) of writes", cat(hdr(1, OpMultiRead), mh(OpDelete, false, -1), str("/a"), be32(-1), multiDone), marshalling},
		{"multi op body cut", cat(hdr(1, OpMulti), mh(OpSetData, false, -1), str("/a"), be32(3), []byte("ab")), marshalling},
		{"auth body cut: closed silently like processPacket", cat(hdr(-4, OpAuth), be32(0), str("digest"), be32(10), []byte("u:p")), closeSilently},
		{"sasl token length negative", cat(hdr(1, OpSASL), be32(-3)), closeSilently},
		{"addWatch without mode", cat(hdr(1, OpAddWatch), str("/a")), marshalling},
		{"reconfig cut", cat(hdr(1, OpReconfig), str(""), str(""), str("")), marshalling},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := DecodeRequest(c.payload)
			var re *RequestError
			require.ErrorAs(t, err, &re, "payload %x: expected a *RequestError, got request %+v", c.payload, req)
			require.Equal(t, c.want, outcome{re.Reply, re.Close}, "payload %x: %v", c.payload, err)
			if re.Reply == ErrUnimplemented || re.Reply == ErrBadArguments {
				require.ErrorIs(t, err, ErrUnknownOp)
			} else {
				require.ErrorIs(t, err, ErrMalformed)
			}
			if re.Reply != ErrOK {
				require.Equal(t, int32(1), re.Header.Xid, "the error reply must echo the request xid")
			}
		})
	}
}

// TestDecodeRequestIsLenientLikeTheReference covers inputs ZooKeeper accepts that a strict
// decoder would refuse: nulls where values are expected, and bytes after a complete body.
func TestDecodeRequestIsLenientLikeTheReference(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    Request
	}{
		{"null path reads as empty", cat(hdr(1, OpGetData), be32(-1), []byte{1}),
			Request{RequestHeader{1, OpGetData}, &GetDataRequest{Path: "", Watch: true}}},
		{"any non-zero boolean is true", cat(hdr(1, OpExists), str("/a"), []byte{0x7f}),
			Request{RequestHeader{1, OpExists}, &ExistsRequest{Path: "/a", Watch: true}}},
		{"trailing bytes after a body are ignored", cat(hdr(2, OpDelete), str("/a"), be32(3), []byte("junk")),
			Request{RequestHeader{2, OpDelete}, &DeleteRequest{Path: "/a", Version: 3}}},
		{"ping with a stray body", cat(hdr(XidPing, OpPing), []byte{1, 2, 3}),
			Request{RequestHeader{XidPing, OpPing}, nil}},
		{"kazoo null ACL id and null data", cat(hdr(3, OpCreate), str("/a"), be32(-1), be32(1), be32(31), str("auth"), be32(-1), be32(0)),
			Request{RequestHeader{3, OpCreate}, &CreateRequest{Path: "/a", ACL: []ACL{{Perms: PermAll, ID: Id{Scheme: "auth"}}}}}},
		{"kazoo reconfig with null lists", cat(hdr(4, OpReconfig), be32(-1), be32(-1), be32(-1), be32(-1), be32(-1)),
			Request{RequestHeader{4, OpReconfig}, &ReconfigRequest{CurConfigID: -1}}},
		{"null setWatches lists", cat(hdr(5, OpSetWatches), make([]byte, 8), be32(-1), be32(0), be32(-1)),
			Request{RequestHeader{5, OpSetWatches}, &SetWatches{ExistWatches: []string{}}}},
		{"empty multi", cat(hdr(6, OpMulti), multiDone),
			Request{RequestHeader{6, OpMulti}, &MultiRequest{}}},
		{"multi terminator type and err are ignored", cat(hdr(7, OpMulti), mh(OpDelete, false, 0), str("/a"), be32(-1), mh(42, true, 0)),
			Request{RequestHeader{7, OpMulti}, &MultiRequest{Ops: []MultiOp{{OpDelete, &DeleteRequest{Path: "/a", Version: -1}}}}}},
		// Apache 3.8.0's MultiOperationRecord maps flags with CreateMode.fromFlag(flags,
		// PERSISTENT), which never throws: a create mode that does not exist decodes, and the
		// tree answers that op BadArguments (zab/tree TestMultiInvalidCreateFlagFailsTheOp).
		{"multi create with an invalid mode", cat(hdr(10, OpMulti), mh(OpCreate, false, -1), str("/a"), be32(-1), be32(-1), be32(7), multiDone),
			Request{RequestHeader{10, OpMulti}, &MultiRequest{Ops: []MultiOp{{OpCreate, &CreateRequest{Path: "/a", Flags: 7}}}}}},
		{"auth with a null buffer", cat(hdr(-4, OpAuth), be32(0), str("digest"), be32(-1)),
			Request{RequestHeader{-4, OpAuth}, &AuthPacket{Scheme: "digest"}}},
		{"whoAmI without body", hdr(8, OpWhoAmI), Request{RequestHeader{8, OpWhoAmI}, nil}},
		{"closeSession without body", hdr(9, OpCloseSession), Request{RequestHeader{9, OpCloseSession}, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeRequest(c.payload)
			require.NoError(t, err, "payload %x", c.payload)
			require.Equal(t, c.want, got, "payload %x", c.payload)
		})
	}
}

func TestDecodeConnectRequestForms(t *testing.T) {
	body44 := cat(be32(0), make([]byte, 8), be32(30000), make([]byte, 8), be32(16), make([]byte, 16))
	cases := []struct {
		name    string
		payload []byte
		want    *ConnectRequest // nil: malformed
	}{
		{"44 bytes (go-zk)", body44, &ConnectRequest{TimeoutMs: 30000, Passwd: zeroPasswd}},
		{"45 bytes, readOnly false", cat(body44, []byte{0}), &ConnectRequest{TimeoutMs: 30000, Passwd: zeroPasswd, HasReadOnly: true}},
		{"45 bytes, readOnly true", cat(body44, []byte{1}), &ConnectRequest{TimeoutMs: 30000, Passwd: zeroPasswd, HasReadOnly: true, ReadOnly: true}},
		{"bytes after readOnly are ignored", cat(body44, []byte{1, 9, 9}), &ConnectRequest{TimeoutMs: 30000, Passwd: zeroPasswd, HasReadOnly: true, ReadOnly: true}},
		{"43 bytes: password cut", body44[:43], nil},
		{"password length beyond frame", cat(body44[:24], be32(17), make([]byte, 16)), nil},
		{"password length -2", cat(body44[:24], be32(-2)), nil},
		{"null password is accepted", cat(body44[:24], be32(-1)), &ConnectRequest{TimeoutMs: 30000}},
		{"empty", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeConnectRequest(c.payload)
			if c.want == nil {
				require.ErrorIs(t, err, ErrMalformed, "payload %x decoded as %+v", c.payload, got)
				return
			}
			require.NoError(t, err, "payload %x", c.payload)
			require.Equal(t, *c.want, got, "payload %x", c.payload)
		})
	}
}

func TestDecodeReplyRefusesMalformedInput(t *testing.T) {
	okHeader := cat(be32(1), make([]byte, 8), be32(0))
	stat := make([]byte, 68)
	cases := []struct {
		name    string
		payload []byte
		op      OpCode
	}{
		{"header cut", okHeader[:15], OpPing},
		{"exists reply without stat", okHeader, OpExists},
		{"exists reply with stat cut", cat(okHeader, stat[:67]), OpExists},
		{"trailing byte after stat", cat(okHeader, stat, []byte{0}), OpSetData},
		{"trailing bytes after an error header", cat(be32(1), make([]byte, 8), be32(-101), []byte{0}), OpGetData},
		{"children count beyond frame", cat(okHeader, be32(3), str("a")), OpGetChildren},
		{"null children vector: the server must never send one", cat(okHeader, be32(-1)), OpGetChildren},
		{"null ACL vector in getACL reply", cat(okHeader, be32(-1), stat), OpGetACL},
		{"multi result of type exists", cat(okHeader, mh(OpExists, false, 0), stat, multiDone), OpMulti},
		{"multi result list without end", cat(okHeader, mh(OpDelete, false, 0)), OpMulti},
		{"success reply to an op no reply answers", okHeader, 99},
		{"notification without path", cat(be32(-1), be32(-1), be32(-1), be32(0), be32(3), be32(3)), OpGetData},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := DecodeReply(c.payload, c.op)
			require.Error(t, err, "payload %x decoded as %+v", c.payload, rep)
			require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnknownOp), "error %v", err)
		})
	}
}

func TestDecodeConnectResponseLengths(t *testing.T) {
	body36 := cat(be32(0), be32(30000), be32(0), be32(7), be32(16), make([]byte, 16))
	r, err := DecodeConnectResponse(body36)
	require.NoError(t, err)
	require.False(t, r.HasReadOnly, "a 36-byte response has no readOnly byte")
	r, err = DecodeConnectResponse(cat(body36, []byte{1}))
	require.NoError(t, err)
	require.True(t, r.HasReadOnly && r.ReadOnly, "37th byte is readOnly")
	_, err = DecodeConnectResponse(cat(body36, []byte{1, 0}))
	require.ErrorIs(t, err, ErrMalformed, "38 bytes is one too many")
	_, err = DecodeConnectResponse(body36[:35])
	require.ErrorIs(t, err, ErrMalformed, "35 bytes cuts the password")
}

// TestHugeLengthsAllocateNothing: a length prefix that lies must be refused before anything of
// that size is allocated (ZooKeeper's BinaryInputArchive.checkLength has the same purpose).
func TestHugeLengthsAllocateNothing(t *testing.T) {
	payloads := map[string][]byte{
		"string":       cat(hdr(1, OpGetData), be32(1<<31-1), []byte{1}),
		"buffer":       cat(hdr(1, OpSetData), str("/a"), be32(1<<30), be32(0)),
		"ACL vector":   cat(hdr(1, OpSetACL), str("/a"), be32(1<<31-1), be32(0)),
		"watch vector": cat(hdr(1, OpSetWatches2), make([]byte, 8), be32(1<<31-1)),
	}
	for name, p := range payloads {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 0; i < 100; i++ {
			_, err := DecodeRequest(p)
			require.ErrorIs(t, err, ErrMalformed, "%s: payload %x", name, p)
		}
		runtime.ReadMemStats(&after)
		perCallBytes := (after.TotalAlloc - before.TotalAlloc) / 100
		require.Less(t, perCallBytes, uint64(4096), "%s: a lying length must not be allocated; %d bytes per decode", name, perCallBytes)
	}
}

// TestEncodersRefuseMismatchedBodies: a body that is not the op's record, or a body on an
// error reply, is a bug in the caller and panics rather than sending bytes no client expects.
func TestEncodersRefuseMismatchedBodies(t *testing.T) {
	require.Panics(t, func() { AppendRequest(nil, RequestHeader{Xid: 1, Type: OpGetData}, &ExistsRequest{}) })
	require.Panics(t, func() { AppendRequest(nil, RequestHeader{Xid: 1, Type: 99}, nil) })
	require.Panics(t, func() { AppendReply(nil, OpCreate, ReplyHeader{Xid: 1}, &Create2Response{}) },
		"create (1) must be answered with CreateResponse, never Create2Response (zk-protocol.md §10.2)")
	require.Panics(t, func() { AppendReply(nil, OpGetData, ReplyHeader{Xid: 1, Err: ErrNoNode}, &GetDataResponse{}) })
	require.Panics(t, func() {
		AppendReply(nil, OpMulti, ReplyHeader{Xid: 1}, &MultiResponse{Results: []MultiResult{{Type: OpCreate, Body: &Create2Response{}}}})
	})
	require.Panics(t, func() {
		AppendReply(nil, OpMulti, ReplyHeader{Xid: 1}, &MultiResponse{Results: []MultiResult{{Type: OpError, Err: ErrNoNode, Body: &ErrorResponse{}}}})
	})
	require.Panics(t, func() {
		AppendRequest(nil, RequestHeader{Xid: 1, Type: OpMulti}, &MultiRequest{Ops: []MultiOp{{Type: OpCreate, Body: &DeleteRequest{}}}})
	})
}

// TestStandaloneCheckDecodes: Apache ZooKeeper 3.8.0 serves check (13) outside multi (NoNode,
// NoAuth or BadVersion, or no reply when it passes: conformance TestTranscripts); 3.8.6's
// Request.isValid refuses it.
func TestStandaloneCheckDecodes(t *testing.T) {
	req, err := DecodeRequest(cat(hdr(7, OpCheck), str("/a"), be32(3)))
	require.NoError(t, err)
	require.Equal(t, Request{Header: RequestHeader{Xid: 7, Type: OpCheck}, Body: &CheckVersionRequest{Path: "/a", Version: 3}}, req)
}
