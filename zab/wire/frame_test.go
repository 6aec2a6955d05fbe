package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func TestCutFrame(t *testing.T) {
	ping := []byte{0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11}
	two := append(bytes.Clone(ping), ping...)

	payload, rest, ok, err := CutFrame(two, FrameBytesMaxDefault)
	require.NoError(t, err)
	require.True(t, ok, "two whole frames")
	require.Equal(t, ping[4:], payload)
	require.Equal(t, ping, rest, "the second frame is left")

	for n := 0; n < len(ping); n++ {
		_, rest, ok, err := CutFrame(ping[:n], FrameBytesMaxDefault)
		require.NoError(t, err, "prefix of %d bytes", n)
		require.False(t, ok, "a %d-byte prefix of a 12-byte frame is incomplete", n)
		require.Equal(t, ping[:n], rest, "an incomplete frame is left in place")
	}

	payload, _, ok, err = CutFrame([]byte{0, 0, 0, 0}, FrameBytesMaxDefault)
	require.NoError(t, err)
	require.True(t, ok, "a zero-length frame is a frame")
	require.Empty(t, payload)
}

func TestFrameLengthLimit(t *testing.T) {
	cases := []struct {
		name   string
		prefix []byte
		max    int
		refuse bool
	}{
		{"exactly jute.maxbuffer", be32(0xfffff), FrameBytesMaxDefault, false},
		{"one above jute.maxbuffer", be32(0x100000), FrameBytesMaxDefault, true},
		{"negative", be32(-1), FrameBytesMaxDefault, true},
		{"MinInt32", be32(-1 << 31), FrameBytesMaxDefault, true},
		{"MaxInt32", be32(1<<31 - 1), FrameBytesMaxDefault, true},
		{"a smaller configured limit", be32(101), 100, true},
		{"a larger configured limit", be32(0x200000), 0x200000, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, rest, ok, err := CutFrame(c.prefix, c.max)
			var le *FrameLengthError
			if !c.refuse {
				require.NoError(t, err)
				require.False(t, ok, "only the prefix is there")
				return
			}
			require.ErrorAs(t, err, &le, "CutFrame(%x, %d)", c.prefix, c.max)
			require.Equal(t, int32(be32ToInt(c.prefix)), le.Length)
			require.Equal(t, c.prefix, rest, "nothing is consumed")
			_, err = NewFrameReader(bytes.NewReader(append(c.prefix, make([]byte, 16)...)), c.max).Next()
			require.ErrorAs(t, err, &le, "FrameReader with %x, limit %d", c.prefix, c.max)
		})
	}
}

func be32ToInt(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// TestFourLetterWordsAreOversizedFrames: every four-letter word read as a length is far above
// jute.maxbuffer, so the host sees a FrameLengthError and checks Word() before the handshake
// (zk-protocol.md §11.1).
func TestFourLetterWordsAreOversizedFrames(t *testing.T) {
	for _, w := range []string{"ruok", "srvr", "stat", "mntr", "conf", "cons", "wchs", "dump", "envi", "isro"} {
		_, _, _, err := CutFrame([]byte(w), FrameBytesMaxDefault)
		var le *FrameLengthError
		require.ErrorAs(t, err, &le, "%q must not be taken for a frame", w)
		require.Equal(t, w, le.Word())
	}
}

func TestFrameReader(t *testing.T) {
	getData := AppendRequest(nil, RequestHeader{Xid: 1, Type: OpGetData}, &GetDataRequest{Path: "/foo", Watch: true})
	ping := AppendRequest(nil, RequestHeader{Xid: XidPing, Type: OpPing}, nil)
	empty := []byte{0, 0, 0, 0}
	stream := cat(getData, ping, empty, getData)

	// One byte at a time: frames must not depend on how the stream is segmented.
	fr := NewFrameReader(iotest.OneByteReader(bytes.NewReader(stream)), FrameBytesMaxDefault)
	for i, want := range [][]byte{getData[4:], ping[4:], {}, getData[4:]} {
		got, err := fr.Next()
		require.NoError(t, err, "frame %d", i)
		require.Equal(t, want, got, "frame %d", i)
	}
	_, err := fr.Next()
	require.ErrorIs(t, err, io.EOF, "a clean end of stream between frames is io.EOF")

	for cut := 1; cut < len(getData); cut++ {
		_, err := NewFrameReader(bytes.NewReader(getData[:cut]), FrameBytesMaxDefault).Next()
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "stream ending after %d of %d bytes", cut, len(getData))
	}

	boom := errors.New("boom")
	_, err = NewFrameReader(iotest.ErrReader(boom), FrameBytesMaxDefault).Next()
	require.ErrorIs(t, err, boom, "read errors are passed through")
}
