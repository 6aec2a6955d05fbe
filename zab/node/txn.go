package node

import (
	"fmt"

	"github.com/zabkit/zabkit/zab/tree"
)

// Origin names the request a txn answers: the stream it came on and its sequence number.
// The member owning the stream replies to the client when it applies the txn. Txns the
// leader makes itself (session expiry, container reaping) have the zero Origin.
type Origin struct {
	Stream Stream
	Seq    uint64
}

// Txn is what zab replicates: a tree txn, or a sync marker (a txn that changes nothing and
// exists so that its commit proves a quorum round trip for the sync request it answers).
type Txn struct {
	Origin Origin
	Sync   bool
	Tree   tree.Txn // when !Sync
}

const (
	txnKindTree byte = 1
	txnKindSync byte = 2
)

// Marshal encodes the envelope: version, kind, origin, then the tree txn's own encoding.
func (x *Txn) Marshal() []byte {
	e := encoder{b: make([]byte, 0, 64)}
	e.byte(codecVersion)
	if x.Sync {
		e.byte(txnKindSync)
	} else {
		e.byte(txnKindTree)
	}
	e.stream(x.Origin.Stream)
	e.u64(x.Origin.Seq)
	if !x.Sync {
		e.b = append(e.b, x.Tree.Marshal()...)
	}
	return e.b
}

// DecodeTxn decodes the bytes of a committed txn (zab.Txn.Data, Committed.Data, the log).
// Malformed input is an error, never a panic.
func DecodeTxn(b []byte) (Txn, error) {
	d := decoder{b: b}
	if v := d.byte(); v != codecVersion {
		d.fail("txn version %d, want %d", v, codecVersion)
	}
	kind := d.byte()
	var x Txn
	x.Origin.Stream = d.stream()
	x.Origin.Seq = d.u64()
	if d.err != nil {
		return Txn{}, d.err
	}
	switch kind {
	case txnKindSync:
		x.Sync = true
		if len(d.b) != 0 {
			return Txn{}, fmt.Errorf("%w: %d bytes after a sync txn", ErrBadMessage, len(d.b))
		}
	case txnKindTree:
		t, err := tree.UnmarshalTxn(d.b)
		if err != nil {
			return Txn{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
		}
		x.Tree = t
	default:
		return Txn{}, fmt.Errorf("%w: txn kind %d", ErrBadMessage, kind)
	}
	return x, nil
}
