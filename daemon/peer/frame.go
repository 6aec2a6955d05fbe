package peer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

// A connection starts with a handshake in each direction, the dialer's first:
//
//	magic     [4]byte "ZBKP"
//	version   uint16  protocolVersion
//	from      uint64  the sender's server id
//	to        uint64  the id the sender believes it talks to
//
// then carries frames: a uint32 length and that many bytes of node.Message.Marshal. All
// integers are big endian, like ZooKeeper's own quorum protocol. Carrying the receiver's id
// catches a server.N line that points at the wrong host, which would otherwise connect two
// servers that each believe the other is someone else.
const (
	protocolVersion = 1
	handshakeBytes  = 4 + 2 + 8 + 8
	frameHeaderSize = 4
)

var handshakeMagic = [4]byte{'Z', 'B', 'K', 'P'}

// errBadFrame wraps every reason a connection is dropped for what its peer sent.
var errBadFrame = errors.New("peer: bad frame")

type handshake struct {
	version  uint16
	from, to zab.PeerID
}

func (h handshake) append(b []byte) []byte {
	b = append(b, handshakeMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, h.version)
	b = binary.BigEndian.AppendUint64(b, uint64(h.from))
	return binary.BigEndian.AppendUint64(b, uint64(h.to))
}

func readHandshake(r io.Reader) (handshake, error) {
	var b [handshakeBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return handshake{}, err
	}
	if !bytes.Equal(b[:4], handshakeMagic[:]) {
		return handshake{}, fmt.Errorf("%w: handshake magic %q", errBadFrame, b[:4])
	}
	h := handshake{
		version: binary.BigEndian.Uint16(b[4:]),
		from:    zab.PeerID(binary.BigEndian.Uint64(b[6:])),
		to:      zab.PeerID(binary.BigEndian.Uint64(b[14:])),
	}
	if h.version != protocolVersion {
		return h, fmt.Errorf("%w: protocol version %d, this server speaks %d", errBadFrame, h.version, protocolVersion)
	}
	return h, nil
}

// appendFrame appends m's frame to b.
func appendFrame(b []byte, m node.Message) []byte {
	body := m.Marshal()
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

// frameAllocBytesMax is how much a frame's buffer may be allocated ahead of its bytes: a
// length field alone must not make a server allocate a gigabyte.
const frameAllocBytesMax = 64 << 10

// readFrame reads one frame and decodes its message.
func readFrame(r io.Reader, frameBytesMax int) (node.Message, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return node.Message{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || uint64(n) > uint64(frameBytesMax) {
		return node.Message{}, fmt.Errorf("%w: frame length %d, limit %d", errBadFrame, n, frameBytesMax)
	}
	var body []byte
	if n <= frameAllocBytesMax {
		body = make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return node.Message{}, err
		}
	} else {
		var buf bytes.Buffer
		buf.Grow(frameAllocBytesMax)
		if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
			return node.Message{}, err
		}
		body = buf.Bytes()
	}
	m, err := node.UnmarshalMessage(body)
	if err != nil {
		return node.Message{}, fmt.Errorf("%w: %w", errBadFrame, err)
	}
	return m, nil
}
