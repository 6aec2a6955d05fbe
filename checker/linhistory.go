package checker

import (
	"slices"
	"sort"

	"github.com/anishathalye/porcupine"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// From the recorded history to porcupine operations: which ops enter the model, the names
// sequential creates got, and how the committed order settles what clients never heard
// (unknown-outcome writes, the end of a session).

// linOperations converts the history's writes and sync+reads to porcupine operations.
func linOperations(h *History) []porcupine.Operation {
	created := committedPaths(h)
	settle := unknownWriteBounds(h)
	var ops []porcupine.Operation
	lastSync := map[int64]*Op{} // session -> its latest acknowledged sync not yet used
	for _, o := range sortedBySessionXid(h) {
		switch {
		case o.Type == wire.OpSync && !o.Unknown && o.Err == wire.ErrOK:
			lastSync[o.Session] = o
		case o.Type == wire.OpExists || o.Type == wire.OpGetData:
			s := lastSync[o.Session]
			if s == nil || o.Unknown || (o.Err != wire.ErrOK && o.Err != wire.ErrNoNode) {
				continue
			}
			delete(lastSync, o.Session) // only the first read after a sync
			if s.Call > o.Return {
				continue // malformed times, reported by checkRecording
			}
			in := linInput{kind: linGetData, path: o.Path}
			if o.Type == wire.OpExists {
				in.kind = linExists
			}
			out := linOutput{err: o.Err, data: string(o.Reply.Data)}
			if o.Reply.Stat != nil {
				out.version, out.hasVersion = o.Reply.Stat.Version, true
			}
			ops = append(ops, porcupine.Operation{ClientId: o.Client, Input: in, Call: s.Call,
				Output: out, Return: o.Return, Metadata: o})
		case isCreate(o.Type) || o.Type == wire.OpDelete || o.Type == wire.OpSetData || o.Type == wire.OpMulti:
			in, ok := linWrite(o, created)
			if !ok {
				continue
			}
			out := linOutput{unknown: o.outcomeUnknown(), err: o.Err}
			for _, res := range o.Reply.Results {
				out.errs = append(out.errs, res.Err)
			}
			if o.Type == wire.OpMulti && !out.unknown && len(out.errs) != len(in.subs) {
				// Refused as a whole (no sub-results: no effect), or a malformed reply,
				// which the write-reply check reports.
				continue
			}
			ret := o.Return
			if !out.unknown && ret < o.Call {
				continue // malformed times, reported by checkRecording
			}
			if out.unknown {
				var happened bool
				if ret, happened = settle(o); !happened {
					continue
				}
			}
			ops = append(ops, porcupine.Operation{ClientId: o.Client, Input: in, Call: o.Call,
				Output: out, Return: ret, Metadata: o})
		}
	}
	return ops
}

// linWrite converts a write to the model; ok is false when it cannot be placed (a
// sequential create whose name nobody learned, so it never happened or has no reader).
func linWrite(o *Op, created map[sessionXid][]string) (linInput, bool) {
	if o.Type != wire.OpMulti {
		path, ok := resolvedPath(o, o.Request, o.Reply.Path, created, 0)
		if !ok {
			return linInput{}, false
		}
		return linSub(o, o.Request, path), true
	}
	in := linInput{kind: linMulti}
	for i, q := range o.Ops {
		var got string
		if i < len(o.Reply.Results) {
			got = o.Reply.Results[i].Path
		}
		path, ok := resolvedPath(o, q, got, created, i)
		if !ok {
			if o.outcomeUnknown() {
				return linInput{}, false // the multi never committed
			}
			in.subs = append(in.subs, linInput{kind: linNone})
			continue
		}
		in.subs = append(in.subs, linSub(o, q, path))
	}
	return in, true
}

func linSub(o *Op, q Request, path string) linInput {
	in := linInput{path: path, data: string(q.Data), version: q.Version}
	switch {
	case isCreate(q.Type):
		in.kind = linCreate
		if isEphemeral(q.Mode) {
			in.owner = o.Session
		}
	case q.Type == wire.OpDelete:
		in.kind = linDelete
	case q.Type == wire.OpSetData:
		in.kind = linSetData
	case q.Type == wire.OpCheck:
		in.kind = linCheck
	default:
		in.kind = linNone
	}
	return in
}

// resolvedPath is the path a (sub-)request acts on: its own, or for a sequential create
// the name from the reply, or for one whose reply never came the name the committed txn
// with the same session and xid gave it.
func resolvedPath(o *Op, q Request, replied string, created map[sessionXid][]string, sub int) (string, bool) {
	if !isCreate(q.Type) || !isSequential(q.Mode) {
		return q.Path, true
	}
	if !o.outcomeUnknown() && o.Err == wire.ErrOK && replied != "" {
		return replied, true
	}
	if !o.outcomeUnknown() {
		return "", false
	}
	names := created[sessionXid{o.Session, o.Xid}]
	if sub < len(names) && names[sub] != "" {
		return names[sub], true
	}
	return "", false
}

// committedPaths maps (session, xid) of each committed create or multi to the paths of its
// (sub-)ops: how an unknown-outcome sequential create is named.
func committedPaths(h *History) map[sessionXid][]string {
	m := map[sessionXid][]string{}
	for _, c := range h.Committed {
		key := sessionXid{c.Txn.SessionID, c.Txn.Cxid}
		switch {
		case isCreate(c.Txn.Type):
			m[key] = []string{c.Txn.Path}
		case c.Txn.Type == wire.OpMulti:
			paths := make([]string, len(c.Txn.Ops))
			for i, s := range c.Txn.Ops {
				paths[i] = s.Path
			}
			m[key] = paths
		}
	}
	return m
}

// unknownWriteBounds settles unknown-outcome writes with the committed order, as etcd's
// robustness suite patches its histories (anchors.md §3.3): a write with no committed txn
// (or an error txn) never took effect and is dropped; one that committed at zxid Z took
// effect before any reply carrying a zxid at or past Z returned, so its return is pulled
// in to the earliest such reply. Without a committed order every unknown write stays
// open-ended (Return = MaxInt64). The fewer floating operations, the smaller porcupine's
// search: open-ended writes at 10 concurrent clients make it explode.
func unknownWriteBounds(h *History) func(o *Op) (ret int64, happened bool) {
	if len(h.Committed) == 0 {
		return func(*Op) (int64, bool) { return opReturnUnknown, true }
	}
	committed := map[sessionXid]CommittedTxn{}
	for _, c := range h.Committed {
		committed[sessionXid{c.Txn.SessionID, c.Txn.Cxid}] = c
	}
	seen := newReplyIndex(h)
	return func(o *Op) (int64, bool) {
		c, ok := committed[sessionXid{o.Session, o.Xid}]
		if !ok || c.Txn.Type == wire.OpError || failedMulti(c.Txn) {
			return 0, false
		}
		if ret := seen.earliestAtOrPast(c.Zxid); ret >= o.Call {
			return ret, true
		}
		return opReturnUnknown, true // a reply claims the zxid before the call: reads.go judges it
	}
}

// replyIndex answers: when did the first reply carrying a zxid at or past Z return? The
// txn at Z was committed by then.
type replyIndex struct {
	zxids    []int64 // ascending
	earliest []int64 // earliest[i]: min Return of the replies from i on
}

func newReplyIndex(h *History) replyIndex {
	var replies []*Op
	for i := range h.Ops {
		if o := &h.Ops[i]; hasServerZxid(o) {
			replies = append(replies, o)
		}
	}
	sort.SliceStable(replies, func(i, j int) bool { return replies[i].Zxid < replies[j].Zxid })
	x := replyIndex{zxids: make([]int64, len(replies)), earliest: make([]int64, len(replies)+1)}
	x.earliest[len(replies)] = opReturnUnknown
	for i := len(replies) - 1; i >= 0; i-- {
		x.zxids[i] = replies[i].Zxid
		x.earliest[i] = min(x.earliest[i+1], replies[i].Return)
	}
	return x
}

func (x replyIndex) earliestAtOrPast(zxid int64) int64 {
	i, _ := slices.BinarySearch(x.zxids, zxid)
	return x.earliest[i]
}

func failedMulti(x tree.Txn) bool {
	return x.Type == wire.OpMulti && slices.ContainsFunc(x.Ops, func(s tree.Txn) bool { return s.Type == wire.OpError })
}

// sessionEnds adds, per partition holding ephemerals of a session that ended (a committed
// closeSession, or its client saw it end), the operation that deletes them. It happened
// after the session's last acknowledged write was called and before the first of: the
// client's closeSession being answered (SessionClosed, or the reply itself), a reply at or
// past the closeSession's zxid.
//
// A client's SessionExpired bounds nothing: the leader answers a revalidation "expired" as
// soon as its own session tracker expired the session, before the closeSession it proposes
// commits (ZooKeeper's touchSession likewise refuses a closing session), and a leader cut
// off from its quorum can do so for a close that only commits in a later epoch. Without a
// committed order, an expired session's end is placed open-ended (it may happen at any time
// after its last acknowledged write).
func sessionEnds(h *History, ops []porcupine.Operation, uf *pathSets) []porcupine.Operation {
	ended := map[int64]int64{} // session -> by when it had certainly ended
	for _, e := range h.Sessions {
		if e.Kind == SessionClosed {
			if t, ok := ended[e.Session]; !ok || e.Time < t {
				ended[e.Session] = e.Time
			}
		}
	}
	client := map[int64]int{}
	alive := map[int64]int64{} // session -> latest call of an acknowledged write
	for i := range h.Ops {
		o := &h.Ops[i]
		client[o.Session] = o.Client
		if o.Type == wire.OpCloseSession && !o.outcomeUnknown() && o.Err == wire.ErrOK {
			if t, ok := ended[o.Session]; !ok || o.Return < t {
				ended[o.Session] = o.Return
			}
		}
		if isWrite(o.Type) && o.Type != wire.OpCloseSession && !o.outcomeUnknown() && o.Err == wire.ErrOK {
			alive[o.Session] = max(alive[o.Session], o.Call)
		}
	}
	// A committed closeSession also bounds the end: it happened before any reply at or
	// past its zxid.
	replies := newReplyIndex(h)
	for _, c := range h.Committed {
		if c.Txn.Type == wire.OpCloseSession {
			t := replies.earliestAtOrPast(c.Zxid)
			if prev, ok := ended[c.Txn.SessionID]; !ok || t < prev {
				ended[c.Txn.SessionID] = t
			}
		}
	}
	if len(h.Committed) == 0 {
		for _, e := range h.Sessions {
			if _, ok := ended[e.Session]; !ok && e.Kind == SessionExpired {
				ended[e.Session] = opReturnUnknown
			}
		}
	}
	type key struct {
		root    string
		session int64
	}
	seen := map[key]bool{}
	var ends []porcupine.Operation
	for _, o := range ops {
		in := o.Input.(linInput)
		subs := []linInput{in}
		if in.kind == linMulti {
			subs = in.subs
		}
		for _, s := range subs {
			if s.kind != linCreate || s.owner == 0 {
				continue
			}
			ret, ok := ended[s.owner]
			k := key{uf.find(s.path), s.owner}
			if !ok || seen[k] {
				continue
			}
			seen[k] = true
			call := min(alive[s.owner], ret)
			ends = append(ends, porcupine.Operation{ClientId: client[s.owner],
				Input: linInput{kind: linSessionEnd, path: s.path, owner: s.owner},
				Call:  call, Output: linOutput{unknown: true}, Return: ret})
		}
	}
	return ends
}

// reaperClient is porcupine's client id for the leader's reaping.
const reaperClient = -1

// reaps adds, for each path the model tracks, the leader's deletions of it as an empty
// container or an expired TTL node: committed deleteContainer txns, which no client asked
// for (ZooKeeper's ContainerManager). Each deleted the incarnation its path had: it happened
// after the call of the create that made it and before the first reply at or past the
// reap's zxid, and it succeeded.
func reaps(h *History, uf *pathSets) []porcupine.Operation {
	var ops []porcupine.Operation
	var replies *replyIndex
	var calls map[sessionXid]int64
	creator := map[string]sessionXid{} // path -> the committed create of its live incarnation
	for _, c := range h.Committed {
		for _, x := range append([]tree.Txn{c.Txn}, c.Txn.Ops...) {
			if isCreate(x.Type) {
				creator[x.Path] = sessionXid{c.Txn.SessionID, c.Txn.Cxid}
			}
		}
		if c.Txn.Type != wire.OpDeleteContainer {
			continue
		}
		if _, tracked := uf.parent[c.Txn.Path]; !tracked {
			continue
		}
		if replies == nil {
			x := newReplyIndex(h)
			replies, calls = &x, map[sessionXid]int64{}
			for i := range h.Ops {
				calls[sessionXid{h.Ops[i].Session, h.Ops[i].Xid}] = h.Ops[i].Call
			}
		}
		ops = append(ops, porcupine.Operation{ClientId: reaperClient,
			Input: linInput{kind: linDelete, path: c.Txn.Path, version: -1},
			Call:  calls[creator[c.Txn.Path]], Output: linOutput{err: wire.ErrOK},
			Return: replies.earliestAtOrPast(c.Zxid)})
	}
	return ops
}

func sortedBySessionXid(h *History) []*Op {
	ops := make([]*Op, len(h.Ops))
	for i := range h.Ops {
		ops[i] = &h.Ops[i]
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if ops[i].Session != ops[j].Session {
			return ops[i].Session < ops[j].Session
		}
		return ops[i].Xid < ops[j].Xid
	})
	return ops
}
