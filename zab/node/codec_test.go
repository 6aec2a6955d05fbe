package node

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

func sampleMessages() []Message {
	st := Stream{Server: 2, Incarnation: 0xdeadbeef, Conn: 7}
	return []Message{
		{Kind: KindZab, From: 1, To: 2, Zab: zab.Message{Type: zab.MsgProposal, From: 1, To: 2, Epoch: 3,
			Zxid: zab.MakeZxid(3, 4), PrevZxid: zab.MakeZxid(3, 3), Session: 9, Data: []byte("txn")}},
		{Kind: KindForward, From: 2, To: 1, Epoch: 3, Stream: st, Forward: Forward{Kind: ForwardRequest, Seq: 5,
			Session: -0x7f00000000000001, TimeoutMs: 4000, Auth: []wire.Id{{Scheme: "ip", ID: "10.0.0.1"}},
			Payload: []byte{0, 0, 0, 1, 0, 0, 0, 9}}},
		{Kind: KindForward, From: 2, To: 1, Epoch: 3, Stream: st, Forward: Forward{Kind: ForwardCreateSession, Seq: 1, Session: 77, TimeoutMs: 2000}},
		{Kind: KindRevalidated, From: 1, To: 2, Epoch: 3, Stream: st, Seq: 1, Valid: true},
		{Kind: KindRefused, From: 1, To: 2, Epoch: 3, Stream: st, Seq: 8, Reason: "session moved"},
		{Kind: KindTouch, From: 2, To: 1, Epoch: 3, Touches: []Touch{{Session: 1, TimeoutMs: 2000}, {Session: -5, TimeoutMs: 1}}},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		got, err := UnmarshalMessage(m.Marshal())
		require.NoError(t, err, "decode %v", m)
		require.Equal(t, m, got, "round trip of %v", m)
	}
}

func TestMessageDecodeRejectsDamage(t *testing.T) {
	for _, m := range sampleMessages() {
		b := m.Marshal()
		for cut := range len(b) {
			_, err := UnmarshalMessage(b[:cut])
			require.ErrorIs(t, err, ErrBadMessage, "%v cut to %d bytes must not decode", m, cut)
		}
		_, err := UnmarshalMessage(append(b, 0))
		require.ErrorIs(t, err, ErrBadMessage, "%v with a trailing byte must not decode", m)
	}
}

func TestTxnEnvelopeRoundTrip(t *testing.T) {
	txns := []Txn{
		{Origin: Origin{Stream: Stream{Server: 3, Incarnation: 1, Conn: 2}, Seq: 9}, Sync: true},
		{Tree: tree.Txn{Type: wire.OpCloseSession, SessionID: 42}},
		{Origin: Origin{Stream: Stream{Server: 1, Incarnation: 5, Conn: 1}, Seq: 2}, Tree: tree.Txn{Type: wire.OpSetData,
			SessionID: 42, Cxid: 7, TimeMs: 1000, Path: "/a", Data: []byte("x"), Version: 3}},
	}
	for _, x := range txns {
		got, err := DecodeTxn(x.Marshal())
		require.NoError(t, err)
		require.Equal(t, x.Origin, got.Origin)
		require.Equal(t, x.Sync, got.Sync)
		if !x.Sync {
			require.Equal(t, x.Tree.Marshal(), got.Tree.Marshal(), "tree txn of %+v survives the envelope", x)
		}
	}
	_, err := DecodeTxn([]byte{codecVersion, 9, 0, 0, 0, 0})
	require.ErrorIs(t, err, ErrBadMessage, "unknown txn kind")
}

func FuzzUnmarshalMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(m.Marshal())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalMessage(b)
		if err != nil {
			return
		}
		again, err := UnmarshalMessage(m.Marshal())
		require.NoError(t, err, "a decoded message re-encodes to a decodable one")
		require.Equal(t, m.Marshal(), again.Marshal())
	})
}

func FuzzDecodeTxn(f *testing.F) {
	f.Add((&Txn{Sync: true}).Marshal())
	f.Add((&Txn{Tree: tree.Txn{Type: wire.OpDelete, Path: "/x"}}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if x, err := DecodeTxn(b); err == nil {
			_, err := DecodeTxn(x.Marshal())
			require.NoError(t, err)
		}
	})
}

// FuzzClientFrames feeds arbitrary frames to a standalone member after a valid handshake and
// checks that it never panics and keeps serving: a fresh session still works afterwards.
func FuzzClientFrames(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, '/', 'a', 1}, []byte{0, 0, 0, 2, 0, 0, 0, 11})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 6, 'd', 'i', 'g', 'e', 's', 't', 0, 0, 0, 1, 'x'}, []byte{})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0}, []byte{0xff})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		w := newWorld(t, 1, worldOptions{members: 1})
		w.stable()
		c := w.session(1)
		delete(w.clients, c.conn) // raw frames: the test client cannot decode their replies
		m := w.member(1)
		w.input(m, ClientFrame{Conn: c.conn, Payload: a})
		w.input(m, ClientFrame{Conn: c.conn, Payload: b})
		w.runFor(300)
		// A raw handshake frame too.
		w.nextConn++
		w.input(m, ClientConnected{Conn: w.nextConn, Remote: "10.0.0.2"})
		w.input(m, ClientFrame{Conn: w.nextConn, Payload: a})
		w.runFor(300)
		require.Equal(t, wire.ErrOK, w.session(1).do(wire.OpSync, &wire.SyncRequest{Path: "/"}).Header.Err)
	})
}
