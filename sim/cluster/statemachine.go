package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/zabkit/zabkit/zab"
)

// listMachine is the replicated state machine of the simulated ensemble: the payloads of
// every applied txn in order, with a running hash over them. Two servers that applied up to
// the same zxid must hold the same hash; the snapshot is the whole list.
type listMachine struct {
	zxid  zab.Zxid
	hash  uint64
	items [][]byte
}

const listHashOffset uint64 = 14695981039346656037

func newListMachine() *listMachine { return &listMachine{hash: listHashOffset} }

func (m *listMachine) Apply(zxid zab.Zxid, txn []byte) {
	if zxid <= m.zxid {
		panic(fmt.Sprintf("cluster: state machine applied %v after %v", zxid, m.zxid))
	}
	m.zxid = zxid
	m.items = append(m.items, txn)
	m.hash = chainHash(m.hash, uint64(zxid), txn)
}

func chainHash(h, zxid uint64, txn []byte) uint64 {
	for i := range 8 {
		h = (h ^ (zxid >> (8 * i) & 0xff)) * 1099511628211
	}
	for _, c := range txn {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

// Snapshot encodes zxid, hash, count, then each payload with its length.
func (m *listMachine) Snapshot() []byte {
	n := 24
	for _, it := range m.items {
		n += 4 + len(it)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint64(b, uint64(m.zxid))
	b = binary.BigEndian.AppendUint64(b, m.hash)
	b = binary.BigEndian.AppendUint64(b, uint64(len(m.items)))
	for _, it := range m.items {
		b = binary.BigEndian.AppendUint32(b, uint32(len(it)))
		b = append(b, it...)
	}
	return b
}

var errBadSnapshot = errors.New("cluster: bad state machine snapshot")

// Restore replaces the state with a snapshot. The hash travels with it, so servers that
// took different routes to the same zxid (replay, SNAP) can still be compared at the end.
func (m *listMachine) Restore(data []byte) error {
	if len(data) < 24 {
		return fmt.Errorf("%w: %d bytes", errBadSnapshot, len(data))
	}
	zxid := binary.BigEndian.Uint64(data)
	hash := binary.BigEndian.Uint64(data[8:])
	count := binary.BigEndian.Uint64(data[16:])
	rest := data[24:]
	if count > uint64(len(rest)/4) {
		return fmt.Errorf("%w: %d items in %d bytes", errBadSnapshot, count, len(rest))
	}
	items := make([][]byte, 0, count)
	for range count {
		if len(rest) < 4 {
			return fmt.Errorf("%w: truncated", errBadSnapshot)
		}
		l := binary.BigEndian.Uint32(rest)
		if uint64(l) > uint64(len(rest)-4) {
			return fmt.Errorf("%w: item of %d bytes, %d left", errBadSnapshot, l, len(rest)-4)
		}
		items = append(items, rest[4:4+l])
		rest = rest[4+l:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errBadSnapshot, len(rest))
	}
	m.zxid, m.hash, m.items = zab.Zxid(zxid), hash, items
	return nil
}
