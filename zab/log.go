package zab

import (
	"slices"
	"sort"
)

// txnLog is the peer's in-memory view of its logged history: everything up to base lives in
// a snapshot (base is zero for the empty history), entries follow it in strictly increasing
// zxid order. "Logged" means handed to the host in a Persist; durability is tracked by
// persistQueue. rebase drops old entries (a SNAP install, trimLog's window), so the memory
// the log holds stays bounded under an endless write load (Peer.Retained).
type txnLog struct {
	base      Zxid
	entries   []Txn
	dataBytes int // the sum of len(Data) over entries
}

func newTxnLog(base Zxid, entries []Txn) txnLog {
	l := txnLog{base: base, entries: slices.Clone(entries)}
	for _, t := range l.entries {
		l.dataBytes += len(t.Data)
	}
	return l
}

func (l *txnLog) last() Zxid {
	if len(l.entries) == 0 {
		return l.base
	}
	return l.entries[len(l.entries)-1].Zxid
}

// index returns the position of z in entries.
func (l *txnLog) index(z Zxid) (int, bool) {
	i := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].Zxid >= z })
	return i, i < len(l.entries) && l.entries[i].Zxid == z
}

// contains reports whether z is a point of this history: the base or a logged txn.
func (l *txnLog) contains(z Zxid) bool {
	if z == l.base {
		return true
	}
	_, ok := l.index(z)
	return ok
}

// lastBefore returns the greatest point of the history (base included) below z.
func (l *txnLog) lastBefore(z Zxid) (Zxid, bool) {
	i, _ := l.index(z)
	if i > 0 {
		return l.entries[i-1].Zxid, true
	}
	return l.base, l.base < z
}

// after returns the logged txns above z (z must be a point of the history).
func (l *txnLog) after(z Zxid) []Txn {
	if z == l.base {
		return l.entries
	}
	i, ok := l.index(z)
	assert(ok, "txnLog.after(%v): not in log (base %v, last %v)", z, l.base, l.last())
	return l.entries[i+1:]
}

// above returns the logged txns with a zxid above z, whether or not z is a point of the
// history. Only DIFF by range (Bugs.DiffByRange) asks for a z that is not.
func (l *txnLog) above(z Zxid) []Txn {
	i, _ := l.index(z + 1)
	return l.entries[i:]
}

func (l *txnLog) append(t Txn) {
	assert(t.Zxid > l.last(), "txnLog.append(%v) after %v", t.Zxid, l.last())
	l.entries = append(l.entries, t)
	l.dataBytes += len(t.Data)
}

// truncateAfter drops every txn above z and returns them.
func (l *txnLog) truncateAfter(z Zxid) []Txn {
	i, _ := l.index(z + 1)
	cut := l.entries[i:]
	l.entries = l.entries[:i:i]
	l.dataBytes -= sumDataBytes(cut)
	return cut
}

// rebase makes z the snapshot point: txns up to z are dropped, the ones above it stay. The
// kept txns move to a fresh array, so the dropped ones are garbage at once instead of staying
// reachable behind a resliced head until the next append outgrows the old array.
func (l *txnLog) rebase(z Zxid) {
	i, _ := l.index(z + 1)
	l.dataBytes -= sumDataBytes(l.entries[:i])
	if i > 0 {
		l.entries = slices.Clone(l.entries[i:])
	}
	l.base = z
}

func sumDataBytes(ts []Txn) int {
	n := 0
	for _, t := range ts {
		n += len(t.Data)
	}
	return n
}

func (l *txnLog) get(z Zxid) (Txn, bool) {
	i, ok := l.index(z)
	if !ok {
		return Txn{}, false
	}
	return l.entries[i], true
}
