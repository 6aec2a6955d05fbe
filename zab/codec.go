package zab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// messageVersion is the first byte of every encoded message. A decoder rejects versions it
// does not know, so a mixed-version ensemble fails loudly instead of misreading fields.
const messageVersion = 1

// MessageDataBytesMax bounds the payload of one message (a txn or a snapshot).
const MessageDataBytesMax = 1 << 30

// ErrBadMessage wraps every decoding failure.
var ErrBadMessage = errors.New("zab: bad message")

// Marshal encodes m as: version, type, then the fields in declaration order (integers as
// unsigned varints, State and Flags as bytes) and finally the length-prefixed Data.
func (m Message) Marshal() []byte {
	b := make([]byte, 0, 64+len(m.Data))
	b = append(b, messageVersion, byte(m.Type))
	for _, v := range [...]uint64{uint64(m.From), uint64(m.To), uint64(m.Epoch), uint64(m.Zxid),
		uint64(m.PrevZxid), m.Session, m.Round, uint64(m.Leader)} {
		b = binary.AppendUvarint(b, v)
	}
	b = append(b, byte(m.State))
	b = binary.AppendUvarint(b, uint64(m.AcceptedEpoch))
	b = binary.AppendUvarint(b, uint64(m.CurrentEpoch))
	b = append(b, m.Flags)
	b = binary.AppendUvarint(b, uint64(len(m.Data)))
	return append(b, m.Data...)
}

// UnmarshalMessage decodes one message produced by Marshal. It never panics: any malformed
// input yields an error wrapping ErrBadMessage.
func UnmarshalMessage(b []byte) (Message, error) {
	d := decoder{b: b}
	var m Message
	if v := d.byte(); v != messageVersion && d.err == nil {
		return Message{}, fmt.Errorf("%w: version %d, want %d", ErrBadMessage, v, messageVersion)
	}
	m.Type = MessageType(d.byte())
	m.From = PeerID(d.uvarint())
	m.To = PeerID(d.uvarint())
	m.Epoch = d.epoch()
	m.Zxid = Zxid(d.uvarint())
	m.PrevZxid = Zxid(d.uvarint())
	m.Session = d.uvarint()
	m.Round = d.uvarint()
	m.Leader = PeerID(d.uvarint())
	m.State = Role(d.byte())
	m.AcceptedEpoch = d.epoch()
	m.CurrentEpoch = d.epoch()
	m.Flags = d.byte()
	n := d.uvarint()
	if d.err != nil {
		return Message{}, d.err
	}
	if n > MessageDataBytesMax || n > uint64(len(d.b)) {
		return Message{}, fmt.Errorf("%w: data length %d, %d bytes left", ErrBadMessage, n, len(d.b))
	}
	if n > 0 {
		m.Data = append([]byte(nil), d.b[:n]...)
	}
	if rest := len(d.b) - int(n); rest != 0 {
		return Message{}, fmt.Errorf("%w: %d trailing bytes", ErrBadMessage, rest)
	}
	if m.Type == 0 || m.Type >= msgTypeEnd {
		return Message{}, fmt.Errorf("%w: unknown type %d", ErrBadMessage, uint8(m.Type))
	}
	if m.State > Observing {
		return Message{}, fmt.Errorf("%w: unknown state %d", ErrBadMessage, uint8(m.State))
	}
	if m.Flags&^flagsAll != 0 {
		return Message{}, fmt.Errorf("%w: unknown flags %#x", ErrBadMessage, m.Flags)
	}
	return m, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = fmt.Errorf("%w: truncated", ErrBadMessage)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint", ErrBadMessage)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) epoch() Epoch {
	v := d.uvarint()
	if v > math.MaxUint32 && d.err == nil {
		d.err = fmt.Errorf("%w: epoch %d overflows 32 bits", ErrBadMessage, v)
	}
	return Epoch(v)
}
