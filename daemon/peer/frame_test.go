package peer

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

func TestFrameRoundTrip(t *testing.T) {
	m := node.Message{Kind: node.KindZab, From: 3, To: 1, Epoch: 2,
		Zab: zab.Message{Type: zab.MsgProposal, From: 3, To: 1, Epoch: 2, Zxid: 2<<32 | 5, PrevZxid: 2<<32 | 4, Session: 77, Data: []byte("txn")}}
	got, err := readFrame(bytes.NewReader(appendFrame(nil, m)), 1<<20)
	require.NoError(t, err)
	require.Equal(t, m, got)
}

// FuzzReadFrame: any bytes either give an error or decode to a message that survives its
// own round trip; never a panic, never an allocation beyond the limit. (Bytes need not
// round-trip: node.UnmarshalMessage accepts overlong varints, which Marshal never writes.)
func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, node.Message{Kind: node.KindZab, From: 2, To: 1, Zab: zab.Message{Type: zab.MsgPing, From: 2, To: 1}}))
	f.Add(appendFrame(nil, node.Message{Kind: node.KindZab, From: 2, To: 1, Zab: zab.Message{Type: zab.MsgSnap, From: 2, To: 1, Data: make([]byte, 300)}}))
	f.Add([]byte{0, 0, 0, 1, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(appendFrame(nil, node.Message{Kind: node.KindTouch, From: 2, To: 1, Touches: []node.Touch{{Session: 5, TimeoutMs: 4000}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readFrame(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		again, err := readFrame(bytes.NewReader(appendFrame(nil, m)), 1<<16)
		if err != nil || !reflect.DeepEqual(m, again) {
			t.Fatalf("decoded %v from %x, but its own frame reads back as %v, %v", m, b, again, err)
		}
	})
}

func FuzzReadHandshake(f *testing.F) {
	f.Add(handshake{version: protocolVersion, from: 2, to: 1}.append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := readHandshake(bytes.NewReader(b))
		if err == nil && !bytes.Equal(h.append(nil), b[:handshakeBytes]) {
			t.Fatalf("handshake %+v does not re-encode to %x", h, b[:handshakeBytes])
		}
	})
}
