package node

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// ErrBadMessage wraps every failure to decode a Message or a txn envelope.
var ErrBadMessage = errors.New("node: bad message")

// codecVersion is the first byte of every encoded Message and txn envelope, so members of
// different versions fail loudly instead of misreading fields.
const codecVersion = 1

// Limits of decoded collections: a corrupt count must not allocate without bound.
const (
	authIDsDecodeMax = 1 << 10
	touchesDecodeMax = 1 << 20
)

type encoder struct{ b []byte }

func (e *encoder) u64(v uint64)   { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) byte(v byte)    { e.b = append(e.b, v) }
func (e *encoder) bytes(v []byte) { e.u64(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) str(v string)   { e.u64(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) stream(s Stream) {
	e.u64(uint64(s.Server))
	e.u64(s.Incarnation)
	e.u64(uint64(s.Conn))
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrBadMessage}, args...)...)
	}
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) u32() uint32 {
	v := d.u64()
	if v > 1<<32-1 {
		d.fail("%d overflows 32 bits", v)
	}
	return uint32(v)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) take() []byte {
	n := d.u64()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length %d, %d bytes left", n, len(d.b))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte { return append([]byte(nil), d.take()...) }
func (d *decoder) str() string   { return string(d.take()) }

func (d *decoder) count(max uint64) int {
	n := d.u64()
	if n > max || n > uint64(len(d.b)) {
		d.fail("count %d", n)
		return 0
	}
	return int(n)
}

func (d *decoder) stream() Stream {
	return Stream{Server: zab.PeerID(d.u64()), Incarnation: d.u64(), Conn: ConnID(d.u64())}
}

// Marshal encodes m for the network between members.
func (m Message) Marshal() []byte {
	e := encoder{b: make([]byte, 0, 32)}
	e.byte(codecVersion)
	e.byte(byte(m.Kind))
	e.u64(uint64(m.From))
	e.u64(uint64(m.To))
	e.u64(uint64(m.Epoch))
	switch m.Kind {
	case KindZab:
		e.bytes(m.Zab.Marshal())
	case KindForward:
		f := &m.Forward
		e.stream(m.Stream)
		e.byte(byte(f.Kind))
		e.u64(f.Seq)
		e.u64(uint64(f.Session))
		e.u64(uint64(uint32(f.TimeoutMs)))
		e.u64(uint64(len(f.Auth)))
		for _, id := range f.Auth {
			e.str(id.Scheme)
			e.str(id.ID)
		}
		e.bytes(f.Payload)
	case KindRevalidated, KindRefused:
		e.stream(m.Stream)
		e.u64(m.Seq)
		if m.Valid {
			e.byte(1)
		} else {
			e.byte(0)
		}
		e.str(m.Reason)
	case KindTouch:
		e.u64(uint64(len(m.Touches)))
		for _, t := range m.Touches {
			e.u64(uint64(t.Session))
			e.u64(uint64(uint32(t.TimeoutMs)))
		}
	}
	return e.b
}

// UnmarshalMessage decodes a Message made by Marshal. Malformed input is an error wrapping
// ErrBadMessage, never a panic.
func UnmarshalMessage(b []byte) (Message, error) {
	d := decoder{b: b}
	var m Message
	if v := d.byte(); v != codecVersion {
		d.fail("version %d, want %d", v, codecVersion)
	}
	m.Kind = Kind(d.byte())
	m.From = zab.PeerID(d.u64())
	m.To = zab.PeerID(d.u64())
	m.Epoch = zab.Epoch(d.u32())
	switch m.Kind {
	case KindZab:
		raw := d.take()
		if d.err == nil {
			zm, err := zab.UnmarshalMessage(raw)
			if err != nil {
				d.fail("zab: %v", err)
			}
			m.Zab = zm
		}
	case KindForward:
		m.Stream = d.stream()
		f := &m.Forward
		f.Kind = ForwardKind(d.byte())
		if d.err == nil && (f.Kind == 0 || f.Kind >= forwardKindEnd) {
			d.fail("forward kind %d", f.Kind)
		}
		f.Seq = d.u64()
		f.Session = int64(d.u64())
		f.TimeoutMs = int32(d.u32())
		n := d.count(authIDsDecodeMax)
		for i := 0; i < n && d.err == nil; i++ {
			f.Auth = append(f.Auth, wire.Id{Scheme: d.str(), ID: d.str()})
		}
		f.Payload = d.bytes()
	case KindRevalidated, KindRefused:
		m.Stream = d.stream()
		m.Seq = d.u64()
		switch v := d.byte(); v {
		case 0, 1:
			m.Valid = v == 1
		default:
			d.fail("bool %d", v)
		}
		m.Reason = d.str()
	case KindTouch:
		n := d.count(touchesDecodeMax)
		for i := 0; i < n && d.err == nil; i++ {
			m.Touches = append(m.Touches, Touch{Session: int64(d.u64()), TimeoutMs: int32(d.u32())})
		}
	default:
		d.fail("kind %d", m.Kind)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return Message{}, d.err
	}
	return m, nil
}
