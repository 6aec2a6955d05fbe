package tree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/zabkit/zabkit/zab/wire"
)

// Txn encoding: a format byte, then big-endian fixed-width fields in a fixed order per type.
// Strings and ACL lists carry a uint32 length; data carries an int32 length with -1 for null.
// The encoding is deterministic (no maps, no optional padding) so every replica logs the same
// bytes, and the decoder checks every length against the bytes that remain, so garbage gives
// an error, never a panic or a huge allocation.

const txnFormat byte = 1

// ErrCorrupt is wrapped by every decoding error of Unmarshal and Restore.
var ErrCorrupt = errors.New("tree: corrupt encoding")

// Marshal encodes the txn.
func (x *Txn) Marshal() []byte {
	b := make([]byte, 0, 64+len(x.Path)+len(x.Data))
	b = append(b, txnFormat)
	b = binary.BigEndian.AppendUint32(b, uint32(x.Type))
	b = binary.BigEndian.AppendUint64(b, uint64(x.SessionID))
	b = binary.BigEndian.AppendUint32(b, uint32(x.Cxid))
	b = binary.BigEndian.AppendUint64(b, uint64(x.TimeMs))
	return appendTxnBody(b, x)
}

func appendTxnBody(b []byte, x *Txn) []byte {
	switch x.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		b = appendString(b, x.Path)
		b = appendData(b, x.Data)
		b = appendACL(b, x.ACL)
		b = binary.BigEndian.AppendUint64(b, uint64(x.Owner))
	case wire.OpDelete, wire.OpDeleteContainer:
		b = appendString(b, x.Path)
	case wire.OpSetData:
		b = appendString(b, x.Path)
		b = appendData(b, x.Data)
		b = binary.BigEndian.AppendUint32(b, uint32(x.Version))
	case wire.OpSetACL:
		b = appendString(b, x.Path)
		b = appendACL(b, x.ACL)
		b = binary.BigEndian.AppendUint32(b, uint32(x.Version))
	case wire.OpCheck:
		b = appendString(b, x.Path)
		b = binary.BigEndian.AppendUint32(b, uint32(x.Version))
	case wire.OpCreateSession:
		b = binary.BigEndian.AppendUint32(b, uint32(x.TimeoutMs))
	case wire.OpCloseSession:
	case wire.OpError:
		b = binary.BigEndian.AppendUint32(b, uint32(x.Err))
	case wire.OpMulti:
		b = binary.BigEndian.AppendUint32(b, uint32(len(x.Ops)))
		for i := range x.Ops {
			b = binary.BigEndian.AppendUint32(b, uint32(x.Ops[i].Type))
			b = appendTxnBody(b, &x.Ops[i])
		}
	default:
		panic(fmt.Sprintf("tree: Marshal of txn type %d", x.Type))
	}
	return b
}

func appendData(b, data []byte) []byte {
	if data == nil {
		return binary.BigEndian.AppendUint32(b, math.MaxUint32)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func appendACL(b []byte, acl []wire.ACL) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(acl)))
	for _, a := range acl {
		b = binary.BigEndian.AppendUint32(b, uint32(a.Perms))
		b = appendString(b, a.ID.Scheme)
		b = appendString(b, a.ID.ID)
	}
	return b
}

// UnmarshalTxn decodes bytes made by Marshal. Any other input gives an error wrapping
// ErrCorrupt.
func UnmarshalTxn(b []byte) (Txn, error) {
	d := decoder{b: b}
	if d.u8() != txnFormat {
		return Txn{}, d.fail("unknown txn format")
	}
	var x Txn
	x.Type = wire.OpCode(d.u32())
	x.SessionID = int64(d.u64())
	x.Cxid = int32(d.u32())
	x.TimeMs = int64(d.u64())
	d.txnBody(&x, true)
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Txn{}, d.err
	}
	return x, nil
}

func (d *decoder) txnBody(x *Txn, top bool) {
	switch x.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		x.Path = d.str()
		x.Data = d.data()
		x.ACL = d.acl()
		x.Owner = int64(d.u64())
	case wire.OpDelete:
		x.Path = d.str()
	case wire.OpSetData:
		x.Path = d.str()
		x.Data = d.data()
		x.Version = int32(d.u32())
	case wire.OpCheck:
		x.Path = d.str()
		x.Version = int32(d.u32())
	case wire.OpError:
		x.Err = wire.Err(d.u32())
	case wire.OpDeleteContainer, wire.OpSetACL, wire.OpCreateSession, wire.OpCloseSession, wire.OpMulti:
		if !top {
			d.fail("txn type not allowed inside multi")
			return
		}
		switch x.Type {
		case wire.OpDeleteContainer:
			x.Path = d.str()
		case wire.OpSetACL:
			x.Path = d.str()
			x.ACL = d.acl()
			x.Version = int32(d.u32())
		case wire.OpCreateSession:
			x.TimeoutMs = int32(d.u32())
		case wire.OpMulti:
			// Each sub-txn takes at least its 4-byte type.
			n := d.count(4)
			if n > 0 {
				x.Ops = make([]Txn, n)
			}
			for i := 0; i < n && d.err == nil; i++ {
				x.Ops[i].Type = wire.OpCode(d.u32())
				d.txnBody(&x.Ops[i], false)
			}
		}
	default:
		d.fail("unknown txn type")
	}
}

// decoder reads big-endian fields and remembers the first error; after an error every read
// returns zero values, so callers check d.err once.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) error {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, what, d.off)
	}
	return d.err
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail("truncated")
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8() byte {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u32() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (d *decoder) u64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// count reads a uint32 element count and rejects one that cannot fit in the remaining bytes
// at minBytes per element, which bounds every allocation by the input size.
func (d *decoder) count(minBytes int) int {
	n := d.u32()
	if d.err != nil {
		return 0
	}
	if uint64(n)*uint64(minBytes) > uint64(len(d.b)-d.off) {
		d.fail("count larger than input")
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count(1)
	return string(d.take(n))
}

func (d *decoder) data() []byte {
	n := d.u32()
	if d.err != nil || n == math.MaxUint32 {
		return nil
	}
	if uint64(n) > uint64(len(d.b)-d.off) {
		d.fail("data longer than input")
		return nil
	}
	p := d.take(int(n))
	out := make([]byte, len(p))
	copy(out, p)
	return out
}

func (d *decoder) acl() []wire.ACL {
	n := d.count(12)
	if n == 0 {
		return nil
	}
	acl := make([]wire.ACL, n)
	for i := range acl {
		acl[i].Perms = wire.Perms(d.u32())
		acl[i].ID.Scheme = d.str()
		acl[i].ID.ID = d.str()
	}
	return acl
}
