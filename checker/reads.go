package checker

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// Reads are sequentially consistent, not linearizable (zab-bugs.md §3 items 2-3): a server
// answers them from its applied tree and puts its last applied zxid in the reply header. So
// each read must show the tree exactly as of that zxid, which replaying the committed order
// reconstructs, and a session's zxids must never go backwards (single system image, §3
// item 6), which also means it never misses its own acknowledged writes.

// isStateRead reports whether t is a read a server answers from its applied tree at its
// last applied zxid, the reply's (FinalRequestProcessor in ZooKeeper 3.8.0 answers each
// of them from the DataTree with the same lastZxid in the header).
func isStateRead(t wire.OpCode) bool {
	switch t {
	case wire.OpExists, wire.OpGetData, wire.OpGetChildren, wire.OpGetChildren2,
		wire.OpGetACL, wire.OpGetAllChildrenNumber, wire.OpGetEphemerals, wire.OpMultiRead:
		return true
	}
	return false
}

// readsByZxid returns the plain reads whose reply can be checked against a state, ordered
// by reply zxid (stable, so equal zxids keep history order).
func readsByZxid(h *History) []*Op {
	var reads []*Op
	for i := range h.Ops {
		o := &h.Ops[i]
		if o.Unknown || (o.Err != wire.ErrOK && o.Err != wire.ErrNoNode) {
			continue
		}
		if isStateRead(o.Type) {
			reads = append(reads, o)
		}
	}
	sort.SliceStable(reads, func(i, j int) bool { return reads[i].Zxid < reads[j].Zxid })
	return reads
}

// checkRead compares a read's reply with what t (the tree as of the read's zxid) answers.
func checkRead(t *tree.Tree, o *Op, r *Report) {
	want, err := readReply(t, o)
	if err != o.Err {
		r.add(Violation{Check: CheckReadState,
			Detail: fmt.Sprintf("read got err %d, the tree as of zxid %s answers err %d",
				o.Err, formatZxid(o.Zxid), err),
			Ops: []Op{*o}})
		return
	}
	if err != wire.ErrOK {
		return
	}
	if diff := replyDiff(want, o.Reply, o.Type); diff != "" {
		r.add(Violation{Check: CheckReadState,
			Detail: fmt.Sprintf("read does not match the tree as of its zxid %s: %s",
				formatZxid(o.Zxid), diff),
			Ops: []Op{*o}})
	}
}

// readReply answers a read from t, in the history's Reply form, as the server holding the
// session would (getEphemerals lists the session's own ephemerals). Reads are replayed as
// world:anyone (see History).
func readReply(t *tree.Tree, o *Op) (Reply, wire.Err) {
	body, err := t.Read(o.Type, readRequest(o.Request), o.Session, nil)
	if err != wire.ErrOK {
		return Reply{}, err
	}
	return replyOf(body), wire.ErrOK
}

// readRequest is the request record of a read; nil for an op that is none (the tree then
// answers MarshallingError, as a server does for a body it cannot take).
func readRequest(q Request) wire.Record {
	switch q.Type {
	case wire.OpExists:
		return &wire.ExistsRequest{Path: q.Path}
	case wire.OpGetData:
		return &wire.GetDataRequest{Path: q.Path}
	case wire.OpGetChildren:
		return &wire.GetChildrenRequest{Path: q.Path}
	case wire.OpGetChildren2:
		return &wire.GetChildren2Request{Path: q.Path}
	case wire.OpGetACL:
		return &wire.GetACLRequest{Path: q.Path}
	case wire.OpGetAllChildrenNumber:
		return &wire.GetAllChildrenNumberRequest{Path: q.Path}
	case wire.OpGetEphemerals:
		return &wire.GetEphemeralsRequest{PrefixPath: q.Path}
	case wire.OpMultiRead:
		m := &wire.MultiRequest{Ops: make([]wire.MultiOp, len(q.Ops))}
		for i, sub := range q.Ops {
			m.Ops[i] = wire.MultiOp{Type: sub.Type, Body: readRequest(sub)}
		}
		return m
	}
	return nil
}

// replyOf turns a response record, a read's or a write's, into the history's Reply form.
func replyOf(body wire.Record) Reply {
	switch b := body.(type) {
	case *wire.CreateResponse:
		return Reply{Path: b.Path}
	case *wire.Create2Response:
		st := b.Stat
		return Reply{Path: b.Path, Stat: &st}
	case *wire.SetDataResponse:
		st := b.Stat
		return Reply{Stat: &st}
	case *wire.SetACLResponse:
		st := b.Stat
		return Reply{Stat: &st}
	case *wire.ExistsResponse:
		st := b.Stat
		return Reply{Stat: &st}
	case *wire.GetDataResponse:
		st := b.Stat
		return Reply{Data: b.Data, Stat: &st}
	case *wire.GetChildrenResponse:
		return Reply{Children: b.Children}
	case *wire.GetChildren2Response:
		st := b.Stat
		return Reply{Children: b.Children, Stat: &st}
	case *wire.GetACLResponse:
		st := b.Stat
		return Reply{ACL: b.ACL, Stat: &st}
	case *wire.GetAllChildrenNumberResponse:
		n := b.TotalNumber
		return Reply{AllChildrenNumber: &n}
	case *wire.GetEphemeralsResponse:
		return Reply{Children: b.Ephemerals}
	case *wire.MultiResponse:
		rep := Reply{Results: make([]Result, len(b.Results))}
		for i, res := range b.Results {
			sub := replyOf(res.Body)
			rep.Results[i] = Result{Err: res.Err, Path: sub.Path, Data: sub.Data, Stat: sub.Stat, Children: sub.Children}
		}
		return rep
	}
	return Reply{}
}

// replyDiff describes how got differs from want in the fields op fills, "" if not at all.
// A Stat, an ACL or a count the recorder left out (nil) is not compared; children and
// ephemerals are compared as sets (their order is unspecified, zk-protocol.md §4.5).
func replyDiff(want, got Reply, op wire.OpCode) string {
	if op == wire.OpGetData && !bytes.Equal(want.Data, got.Data) {
		return fmt.Sprintf("data %q, want %q", got.Data, want.Data)
	}
	if want.Stat != nil && got.Stat != nil && *want.Stat != *got.Stat {
		return fmt.Sprintf("stat %+v, want %+v", *got.Stat, *want.Stat)
	}
	if op == wire.OpGetChildren || op == wire.OpGetChildren2 || op == wire.OpGetEphemerals {
		if d := setDiff("children", got.Children, want.Children); d != "" {
			return d
		}
	}
	if got.ACL != nil && !slices.Equal(got.ACL, want.ACL) {
		return fmt.Sprintf("acl %+v, want %+v", got.ACL, want.ACL)
	}
	if n := got.AllChildrenNumber; n != nil && (want.AllChildrenNumber == nil || *n != *want.AllChildrenNumber) {
		return fmt.Sprintf("all-children number %d, want %s", *n, formatNumber(want.AllChildrenNumber))
	}
	if op == wire.OpMultiRead {
		return multiReadDiff(want, got)
	}
	if want.Path != got.Path {
		return fmt.Sprintf("path %q, want %q", got.Path, want.Path)
	}
	return ""
}

// multiReadDiff compares a multiRead's sub-results: each read is answered on its own (a
// failed one gives its error and the others still run, ZooKeeper 3.8.0 ZKDatabase.multiRead
// via FinalRequestProcessor), all from the same state.
func multiReadDiff(want, got Reply) string {
	if len(got.Results) != len(want.Results) {
		return fmt.Sprintf("%d results, want %d", len(got.Results), len(want.Results))
	}
	for i, w := range want.Results {
		g := got.Results[i]
		if g.Err != w.Err {
			return fmt.Sprintf("result %d err %d, want %d", i, g.Err, w.Err)
		}
		if g.Data != nil && !bytes.Equal(g.Data, w.Data) {
			return fmt.Sprintf("result %d: data %q, want %q", i, g.Data, w.Data)
		}
		if g.Stat != nil && w.Stat != nil && *g.Stat != *w.Stat {
			return fmt.Sprintf("result %d: stat %+v, want %+v", i, *g.Stat, *w.Stat)
		}
		if g.Children != nil {
			if d := setDiff("children", g.Children, w.Children); d != "" {
				return fmt.Sprintf("result %d: %s", i, d)
			}
		}
	}
	return ""
}

// setDiff compares two string lists as sets.
func setDiff(what string, got, want []string) string {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		return fmt.Sprintf("%s %q, want %q", what, g, w)
	}
	return ""
}

func formatNumber(n *int32) string {
	if n == nil {
		return "none"
	}
	return strconv.Itoa(int(*n))
}

// sessionReplies groups the ops that got a reply by session, each in reply (= xid) order.
func sessionReplies(h *History) (map[int64][]*Op, []int64) {
	bySession := map[int64][]*Op{}
	for i := range h.Ops {
		o := &h.Ops[i]
		if !o.Unknown {
			bySession[o.Session] = append(bySession[o.Session], o)
		}
	}
	ids := make([]int64, 0, len(bySession))
	for id, ops := range bySession {
		ids = append(ids, id)
		sort.SliceStable(ops, func(i, j int) bool { return ops[i].Xid < ops[j].Xid })
	}
	slices.Sort(ids)
	return bySession, ids
}

// hasServerZxid reports whether a reply's zxid tells the state of the server that sent
// it: the errors a client library makes up for a lost connection or session carry none,
// and the replies ZooKeeper gives zxid 0 say nothing (see Op.Zxid and zxidZero).
func hasServerZxid(o *Op) bool {
	return !o.outcomeUnknown() && !zxidZero(o)
}

// zxidZero reports whether o is a reply ZooKeeper 3.8.0 sends with zxid 0, outside the
// request pipeline: addAuth and SASL, answered at once by ZooKeeperServer.processPacket
// and processSasl, and a write refused by the eager ACL check (authWriteRequest, with
// zookeeper.enableEagerACLCheck), answered before it is proposed. Their zxid is no server
// state, so the Java client leaves its lastZxid alone (ClientCnxn.readResponse updates it
// only for a zxid above 0) and the session order checks skip them; answered out of the
// pipeline, they are not in FIFO order with the session's other replies either.
func zxidZero(o *Op) bool {
	if o.Unknown || o.Zxid != 0 {
		return false
	}
	switch {
	case o.Type == wire.OpAuth || o.Type == wire.OpSASL:
		return true
	case isWrite(o.Type):
		return o.Err == wire.ErrNoAuth || o.Err == wire.ErrInvalidACL
	}
	return false
}

// CheckSessionOrder checks, per session in xid order, that replies come back in request
// order (FIFO, zk-protocol.md §3.3), that reply zxids never go backwards and that no read
// misses the session's own earlier acknowledged write.
func CheckSessionOrder(h *History, r *Report) {
	bySession, ids := sessionReplies(h)
	for _, id := range ids {
		var last, lastWrite *Op
		for _, o := range bySession[id] {
			if !hasServerZxid(o) {
				continue
			}
			if last != nil && o.Xid == last.Xid {
				r.add(Violation{Check: CheckMalformed,
					Detail: "two replies of one session with the same xid: History needs unique xids",
					Ops:    []Op{*last, *o}})
			}
			if last != nil && o.Return < last.Return {
				r.add(Violation{Check: CheckSessionFIFO,
					Detail: "a reply came back before the reply to an earlier request of the session",
					Ops:    []Op{*last, *o}})
			}
			switch {
			case lastWrite != nil && o.Zxid < lastWrite.Zxid && !isWrite(o.Type):
				r.add(Violation{Check: CheckReadOwnWrite,
					Detail: fmt.Sprintf("reply at zxid %s after the session's own write at %s",
						formatZxid(o.Zxid), formatZxid(lastWrite.Zxid)),
					Ops: []Op{*lastWrite, *o}})
			case last != nil && o.Zxid < last.Zxid:
				r.add(Violation{Check: CheckSessionZxid,
					Detail: fmt.Sprintf("reply zxid went back from %s to %s",
						formatZxid(last.Zxid), formatZxid(o.Zxid)),
					Ops: []Op{*last, *o}})
			}
			last = o
			if isWrite(o.Type) && o.Err == wire.ErrOK {
				lastWrite = o
			}
		}
	}
}

// checkWrites checks every write reply against the txn the committed order holds for it
// (same session and xid): an acknowledged write must be there (else it was lost), at the
// reply's zxid, and the reply must be what applying the txn produced.
func checkWrites(h *History, rp *replayed, r *Report) {
	for i := range h.Ops {
		o := &h.Ops[i]
		if !isWrite(o.Type) || o.outcomeUnknown() {
			continue
		}
		a, found := rp.applied[sessionXid{o.Session, o.Xid}]
		if !found {
			if o.Err == wire.ErrOK && (rp.complete || o.Zxid <= rp.lastZxid) {
				r.add(Violation{Check: CheckLostWrite,
					Detail: "acknowledged write has no txn in the committed order",
					Ops:    []Op{*o}})
			}
			continue // an error the server gave before proposing: no txn
		}
		if diff := writeDiff(o, a); diff != "" {
			r.add(Violation{Check: CheckWriteReply,
				Detail: "write reply differs from its committed txn's result: " + diff,
				Ops:    []Op{*o}, Txns: txnAt(h, a.Zxid)})
		}
	}
}

func writeDiff(o *Op, a appliedTxn) string {
	if o.Zxid != a.Zxid {
		return fmt.Sprintf("reply zxid %s, txn zxid %s", formatZxid(o.Zxid), formatZxid(a.Zxid))
	}
	if o.Err != a.Err {
		return fmt.Sprintf("err %d, txn err %d", o.Err, a.Err)
	}
	if o.Type == wire.OpCloseSession {
		return ""
	}
	// o.Err == a.Err, and zab/tree gives a non-zero err only to an OpError txn: nothing
	// more to compare for a refused write.
	if o.Err != wire.ErrOK || a.txn.Type == wire.OpError {
		return ""
	}
	if o.Type == wire.OpMulti {
		return multiDiff(o, a)
	}
	return replyDiff(replyOf(a.Body), o.Reply, o.Type)
}

func multiDiff(o *Op, a appliedTxn) string {
	res, ok := a.Body.(*wire.MultiResponse)
	if !ok {
		return fmt.Sprintf("multi reply, but the txn is %s", describeTxn(a.txn))
	}
	if len(res.Results) != len(o.Reply.Results) {
		return fmt.Sprintf("%d results, txn has %d", len(o.Reply.Results), len(res.Results))
	}
	for i, w := range res.Results {
		g := o.Reply.Results[i]
		if g.Err != w.Err {
			return fmt.Sprintf("result %d err %d, txn err %d", i, g.Err, w.Err)
		}
		want := replyOf(w.Body)
		if d := replyDiff(want, Reply{Path: g.Path, Stat: g.Stat}, w.Type); d != "" {
			return fmt.Sprintf("result %d: %s", i, d)
		}
	}
	return ""
}
