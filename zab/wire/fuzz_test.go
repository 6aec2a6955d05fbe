package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Fuzz targets for the decoders. Each asserts that decoding never panics and that anything
// decoded re-encodes to bytes that decode to the same value. The seed corpus (valid frames of
// every op, drawn deterministically from the round-trip generators, plus the spec's examples)
// runs with every `go test`; in CI run each for a bounded time, e.g.
//
//	go test ./zab/wire -run='^$' -fuzz='^FuzzDecodeRequest$' -fuzztime=10s
//	go test ./zab/wire -run='^$' -fuzz='^FuzzDecodeReply$' -fuzztime=10s
//	go test ./zab/wire -run='^$' -fuzz='^FuzzDecodeConnect$' -fuzztime=10s

// seedExamples is how many generated examples of each op go into a seed corpus.
const seedExamples = 3

func requestSeed(op OpCode, seed int) []byte {
	g := rapid.Custom(func(t *rapid.T) Request {
		return Request{Header: RequestHeader{Xid: genInt32.Draw(t, "xid"), Type: op}, Body: genRequestBodyFor(t, op)}
	})
	req := g.Example(seed)
	return AppendRequest(nil, req.Header, req.Body)[frameLengthBytes:]
}

func replySeed(op OpCode, seed int) []byte {
	var body Record
	if want, _ := replyBody(op); want != nil {
		// rapid refuses to give an example of a generator that draws nothing.
		body = rapid.Custom(func(t *rapid.T) Record { return genReplyBodyFor(t, op) }).Example(seed)
	}
	return AppendReply(nil, op, ReplyHeader{Xid: int32(seed + 1), Zxid: int64(seed)}, body)[frameLengthBytes:]
}

func FuzzDecodeRequest(f *testing.F) {
	for _, op := range requestOps {
		for seed := 0; seed < seedExamples; seed++ {
			f.Add(requestSeed(op, seed))
		}
	}
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4, '/', 'f', 'o', 'o', 1})
	f.Fuzz(func(t *testing.T, payload []byte) {
		req, err := DecodeRequest(payload)
		if err != nil {
			var re *RequestError
			require.ErrorAs(t, err, &re, "DecodeRequest(%x) failed without a *RequestError", payload)
			return
		}
		again, err := DecodeRequest(AppendRequest(nil, req.Header, req.Body)[frameLengthBytes:])
		require.NoError(t, err, "re-encoding of %+v from %x does not decode", req, payload)
		require.Equal(t, req, again, "decoded %x, re-encoded, decoded again", payload)
	})
}

func FuzzDecodeReply(f *testing.F) {
	for _, op := range replyOps {
		for seed := 0; seed < seedExamples; seed++ {
			f.Add(int32(op), replySeed(op, seed))
		}
	}
	f.Add(int32(OpGetData), AppendNotification(nil, WatcherEvent{Type: EventNodeDataChanged, State: StateSyncConnected, Path: "/foo"})[frameLengthBytes:])
	f.Add(int32(OpGetData), AppendReply(nil, OpGetData, ReplyHeader{Xid: 1, Zxid: 5, Err: ErrNoNode}, nil)[frameLengthBytes:])
	f.Fuzz(func(t *testing.T, op32 int32, payload []byte) {
		op := OpCode(op32)
		rep, err := DecodeReply(payload, op)
		if err != nil {
			return
		}
		// A notification is recognised by its xid alone, as clients do, so re-encode the
		// header as read rather than with AppendNotification's canonical one.
		frame := appendReplyFrame(nil, rep.Header, rep.Body)
		if rep.Header.Xid != XidNotification {
			require.Equal(t, frame, AppendReply(nil, op, rep.Header, rep.Body), "AppendReply disagrees with the record encoders")
		}
		again, err := DecodeReply(frame[frameLengthBytes:], op)
		require.NoError(t, err, "re-encoding of %+v from %x does not decode", rep, payload)
		require.Equal(t, rep, again, "decoded %x, re-encoded, decoded again", payload)
	})
}

func FuzzDecodeConnect(f *testing.F) {
	for seed := 0; seed < 2*seedExamples; seed++ {
		req := genConnectRequest.Example(seed)
		f.Add(AppendConnectRequest(nil, &req)[frameLengthBytes:])
		resp := genConnectResponse.Example(seed)
		f.Add(AppendConnectResponse(nil, &resp)[frameLengthBytes:])
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if req, err := DecodeConnectRequest(payload); err == nil {
			again, err := DecodeConnectRequest(AppendConnectRequest(nil, &req)[frameLengthBytes:])
			require.NoError(t, err, "re-encoding of %+v from %x does not decode", req, payload)
			require.Equal(t, req, again, "ConnectRequest %x decoded, re-encoded, decoded again", payload)
		}
		if resp, err := DecodeConnectResponse(payload); err == nil {
			again, err := DecodeConnectResponse(AppendConnectResponse(nil, &resp)[frameLengthBytes:])
			require.NoError(t, err, "re-encoding of %+v from %x does not decode", resp, payload)
			require.Equal(t, resp, again, "ConnectResponse %x decoded, re-encoded, decoded again", payload)
		}
	})
}

// FuzzCutFrame: splitting never panics, never returns more than the limit, and what it cuts
// is exactly the declared length.
func FuzzCutFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11}, 100)
	f.Add([]byte("ruok"), FrameBytesMaxDefault)
	f.Fuzz(func(t *testing.T, buf []byte, frameBytesMax int) {
		payload, rest, ok, err := CutFrame(buf, frameBytesMax)
		if err != nil || !ok {
			require.Equal(t, buf, rest, "an incomplete or refused frame must consume nothing")
			return
		}
		require.LessOrEqual(t, len(payload), frameBytesMax)
		require.Equal(t, len(buf), frameLengthBytes+len(payload)+len(rest))
		require.Equal(t, uint32(len(payload)), be32ToInt(buf))
	})
}
