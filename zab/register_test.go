package zab

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// register is the replicated state machine of the tests: an append-only list of the txns
// applied, with their zxids. Apply panics on an out-of-order zxid, so the core's "strict
// zxid order" promise is checked on every delivery.
//
// A lenient register applies in any order: with it, only the ZAB checker judges the order,
// so a test can show which invariant a mis-ordering core breaks (mutants_test.go).
type register struct {
	zxids   []Zxid
	values  [][]byte
	lenient bool
}

func (r *register) Apply(z Zxid, txn []byte) {
	if n := len(r.zxids); n > 0 && r.zxids[n-1] >= z && !r.lenient {
		panic(fmt.Sprintf("register: apply %v after %v", z, r.zxids[n-1]))
	}
	r.zxids = append(r.zxids, z)
	r.values = append(r.values, append([]byte(nil), txn...))
}

func (r *register) last() Zxid {
	if len(r.zxids) == 0 {
		return 0
	}
	return r.zxids[len(r.zxids)-1]
}

func (r *register) Snapshot() []byte {
	b := binary.AppendUvarint(nil, uint64(len(r.zxids)))
	for i, z := range r.zxids {
		b = binary.AppendUvarint(b, uint64(z))
		b = binary.AppendUvarint(b, uint64(len(r.values[i])))
		b = append(b, r.values[i]...)
	}
	return b
}

var errBadSnapshot = errors.New("register: bad snapshot")

func (r *register) Restore(data []byte) error {
	n, k := binary.Uvarint(data)
	if k <= 0 || n > uint64(len(data)) {
		return errBadSnapshot
	}
	data = data[k:]
	var out register
	for i := uint64(0); i < n; i++ {
		z, k := binary.Uvarint(data)
		if k <= 0 {
			return errBadSnapshot
		}
		data = data[k:]
		l, k := binary.Uvarint(data)
		if k <= 0 || l > uint64(len(data)-k) {
			return errBadSnapshot
		}
		data = data[k:]
		out.zxids = append(out.zxids, Zxid(z))
		out.values = append(out.values, append([]byte(nil), data[:l]...))
		data = data[l:]
	}
	if len(data) != 0 {
		return errBadSnapshot
	}
	out.lenient = r.lenient
	*r = out
	return nil
}
