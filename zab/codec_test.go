package zab

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

func sampleMessages() []Message {
	return []Message{
		{Type: MsgNotification, From: 1, To: 2, Leader: 3, Zxid: MakeZxid(4, 5), Epoch: 4, Round: 9, State: Looking},
		{Type: MsgFollowerInfo, From: 7, To: 1, Session: 0xdeadbeefcafe, AcceptedEpoch: 12, Zxid: MakeZxid(12, 3), Flags: FlagObserver},
		{Type: MsgAckEpoch, From: 2, To: 1, Epoch: 13, CurrentEpoch: 12, Zxid: MakeZxid(12, 3), Flags: FlagCounted, Session: 1},
		{Type: MsgSnap, From: 1, To: 2, Epoch: 13, Zxid: MakeZxid(12, 1), Data: []byte("snapshot bytes"), Session: 1},
		{Type: MsgProposal, From: 1, To: 2, Epoch: ^Epoch(0), Zxid: ^Zxid(0), PrevZxid: ^Zxid(0) - 1, Data: []byte{0, 1, 2}},
		{Type: MsgPing, From: ^PeerID(0), To: 0},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		got, err := UnmarshalMessage(m.Marshal())
		require.NoError(t, err, "decoding %v", m)
		require.True(t, sameMessage(m, got), "round trip of %+v gave %+v", m, got)
	}
}

func TestUnmarshalRejectsMalformedInput(t *testing.T) {
	good := sampleMessages()[3].Marshal()
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"unknown type", append([]byte{messageVersion, 0}, good[2:]...)},
		{"type past the end", append([]byte{messageVersion, byte(msgTypeEnd)}, good[2:]...)},
		{"truncated header", good[:5]},
		{"truncated data", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"epoch over 32 bits", Message{Type: MsgPing}.Marshal()[:2]},
	}
	tests[len(tests)-1].b = append(tests[len(tests)-1].b, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalMessage(tt.b)
			require.Error(t, err, "input %x should not decode", tt.b)
			require.ErrorIs(t, err, ErrBadMessage, "input %x", tt.b)
		})
	}
}

// FuzzDecodeMessage: decoding arbitrary bytes never panics, and whatever decodes re-encodes
// to bytes that decode to the same message.
func FuzzDecodeMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(m.Marshal())
	}
	f.Add([]byte{})
	f.Add([]byte{messageVersion, byte(MsgProposal), 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalMessage(b)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		again, err := UnmarshalMessage(m.Marshal())
		if err != nil {
			t.Fatalf("re-encoding of %v does not decode: %v", m, err)
		}
		if !sameMessage(again, m) {
			t.Fatalf("round trip changed %v into %v", m, again)
		}
	})
}

// sameMessage compares messages, treating empty and nil Data alike.
func sameMessage(a, b Message) bool {
	if len(a.Data) == 0 {
		a.Data = nil
	}
	if len(b.Data) == 0 {
		b.Data = nil
	}
	return reflect.DeepEqual(a, b)
}
