package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// FrameBytesMaxDefault is the default limit on a frame's declared length: jute.maxbuffer,
// 0xfffff bytes (zk-protocol.md §1.4). NIOServerCnxn.readLength closes the connection, without
// replying, when a length is negative or above it.
//
// ZooKeeper also checks each ustring/buffer length inside a record against jute.maxbuffer plus
// zookeeper.jute.maxbuffer.extrasize (BinaryInputArchive.checkLength). Here every inner length
// is checked against the bytes left in the frame instead, which is stricter and has the same
// outcome for any frame that passed the frame check: a decode failure. What the decoded values
// take in memory is bounded separately, by the Decoder's budget (budget.go).
const FrameBytesMaxDefault = 0xfffff

// frameLengthBytes is the size of the length prefix of every frame.
const frameLengthBytes = 4

// FrameLengthError reports a frame whose declared length is negative or above the limit.
// The server closes the connection without replying (zk-protocol.md §1.4). Before the
// handshake, the four bytes may instead be a four-letter word such as "ruok" (§11): Word
// returns them as text for that check.
type FrameLengthError struct {
	Length        int32
	FrameBytesMax int
}

func (e *FrameLengthError) Error() string {
	return fmt.Sprintf("wire: frame length %d outside [0, %d]", e.Length, e.FrameBytesMax)
}

// Word returns the length prefix as the four ASCII bytes a four-letter-word command sends.
func (e *FrameLengthError) Word() string {
	return string(binary.BigEndian.AppendUint32(nil, uint32(e.Length)))
}

// checkFrameLength returns a *FrameLengthError if n is not an acceptable frame length.
func checkFrameLength(n int32, frameBytesMax int) error {
	if n < 0 || int64(n) > int64(frameBytesMax) {
		return &FrameLengthError{Length: n, FrameBytesMax: frameBytesMax}
	}
	return nil
}

// CutFrame splits the first complete frame off buf, for hosts that accumulate bytes
// themselves. It returns the frame's payload (without the length prefix, aliasing buf), the
// bytes after it, and ok = true; or ok = false when buf does not yet hold a whole frame. A
// length outside [0, frameBytesMax] is a *FrameLengthError as soon as its 4 bytes are in buf.
func CutFrame(buf []byte, frameBytesMax int) (payload, rest []byte, ok bool, err error) {
	if len(buf) < frameLengthBytes {
		return nil, buf, false, nil
	}
	n := int32(binary.BigEndian.Uint32(buf))
	if err := checkFrameLength(n, frameBytesMax); err != nil {
		return nil, buf, false, err
	}
	end := frameLengthBytes + int(n)
	if len(buf) < end {
		return nil, buf, false, nil
	}
	return buf[frameLengthBytes:end:end], buf[end:], true, nil
}

// FrameReader reads length-prefixed frames from a byte stream. It allocates at most one buffer
// of frameBytesMax bytes, grown only as far as the largest frame seen.
type FrameReader struct {
	r             io.Reader
	frameBytesMax int
	prefix        [frameLengthBytes]byte
	buf           []byte
}

// NewFrameReader returns a FrameReader that refuses frames longer than frameBytesMax.
func NewFrameReader(r io.Reader, frameBytesMax int) *FrameReader {
	return &FrameReader{r: r, frameBytesMax: frameBytesMax}
}

// Next returns the next frame's payload, valid until the next call. At a clean end of stream
// it returns io.EOF; a stream that ends inside a frame gives io.ErrUnexpectedEOF; a length
// outside [0, frameBytesMax] gives a *FrameLengthError before any payload is read.
func (fr *FrameReader) Next() ([]byte, error) {
	if _, err := io.ReadFull(fr.r, fr.prefix[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(fr.prefix[:]))
	if err := checkFrameLength(n, fr.frameBytesMax); err != nil {
		return nil, err
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	payload := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return payload, nil
}

// beginFrame returns an Encoder appending to buf after a placeholder length prefix; endFrame
// patches the prefix once the payload is written. (No closure: the reply path allocates less.)
func beginFrame(buf []byte) (e Encoder, start int) {
	return Encoder{buf: append(buf, 0, 0, 0, 0)}, len(buf)
}

func endFrame(e *Encoder, start int) []byte {
	binary.BigEndian.PutUint32(e.buf[start:], uint32(len(e.buf)-start-frameLengthBytes))
	return e.buf
}

// appendReplyFrame appends one frame holding a ReplyHeader and an optional body. The header
// is a value, not a Record, so that it does not escape to the heap.
func appendReplyFrame(buf []byte, h ReplyHeader, body Record) []byte {
	e, start := beginFrame(buf)
	e.Int(h.Xid)
	e.Long(h.Zxid)
	e.Int(int32(h.Err))
	if body != nil {
		body.encodeTo(&e)
	}
	return endFrame(&e, start)
}
