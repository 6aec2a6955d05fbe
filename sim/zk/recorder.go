package zk

import (
	"fmt"
	"slices"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

// recorder builds the run's checker.History as the clients and servers act: every call and
// return in virtual nanoseconds, every watch and session event, every recipe step, and the
// committed txn order from the servers' Committed outputs (the union over all servers,
// which after the final quiet period is the complete committed order).
type recorder struct {
	h checker.History
	// committed holds each committed txn's bytes as the first server applied it; every other
	// server applying the same zxid must agree on them, and on the tree digest after it.
	committed map[zab.Zxid]committedAt
	digests   *checker.ReplicaDigests
}

type committedAt struct {
	data   []byte
	server string
}

func newRecorder() *recorder {
	return &recorder{committed: map[zab.Zxid]committedAt{}, digests: checker.NewReplicaDigests()}
}

// call records a request sent and returns its index, to fill in when it returns.
func (r *recorder) call(o checker.Op) int {
	r.h.Ops = append(r.h.Ops, o)
	return len(r.h.Ops) - 1
}

// op returns the recorded op at index i.
func (r *recorder) op(i int) *checker.Op { return &r.h.Ops[i] }

// commit records one server's Committed output and reports a disagreement with what
// another server applied at the same zxid (bytes or tree digest).
func (r *recorder) commit(server string, c node.Committed) error {
	if err := r.digests.Observe(checker.DigestSample{Server: server, Zxid: int64(c.Zxid), Digest: c.Digest}); err != nil {
		return err
	}
	prev, ok := r.committed[c.Zxid]
	if !ok {
		r.committed[c.Zxid] = committedAt{data: c.Data, server: server}
		return nil
	}
	if string(prev.data) != string(c.Data) {
		return fmt.Errorf("%s and %s committed different txns at %v", prev.server, server, c.Zxid)
	}
	return nil
}

// history finishes the history: ops still open are unknown-outcome, and the committed
// order is every tree txn in zxid order (sync markers change no state and are left out).
func (r *recorder) history() (*checker.History, error) {
	h := r.h
	h.Ops = slices.Clone(h.Ops)
	zxids := make([]zab.Zxid, 0, len(r.committed))
	for z := range r.committed {
		zxids = append(zxids, z)
	}
	slices.Sort(zxids)
	h.Committed = make([]checker.CommittedTxn, 0, len(zxids))
	for _, z := range zxids {
		x, err := node.DecodeTxn(r.committed[z].data)
		if err != nil {
			return nil, fmt.Errorf("committed txn %v does not decode: %v", z, err)
		}
		if x.Sync {
			continue
		}
		h.Committed = append(h.Committed, checker.CommittedTxn{Zxid: int64(z), Txn: x.Tree})
	}
	return &h, nil
}
