package checker

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/anishathalye/porcupine"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// ZooKeeper writes are linearizable (zab-bugs.md §3 item 1), and a read issued after a
// sync of the same session reflects everything committed before the sync (item 4), so it
// counts as a linearizable read. Porcupine checks them against a znode model; plain reads
// are not linearizable and are checked per zxid instead (reads.go).
//
// Following shared/anchors.md §3.4-3.5 the model is partitioned so the search stays small:
// each path is its own partition unless a multi (or a session's end, which deletes all its
// ephemerals) ties several paths together, and the state of a partition is just those
// paths' (exists, data, version, owner). Children lists and parent existence are outside
// the model: getChildren would tie a parent to every child, so it is left to the replayed
// reads. Zxids are kept out of the state (they would make the history one partition); the
// zxid order of writes is checked directly by CheckWriteZxidOrder.

// linKind is an operation of the znode model.
type linKind uint8

const (
	linNone linKind = iota // a multi sub-op whose path is unknown: no effect, no check
	linCreate
	linDelete
	linSetData
	linCheck
	linGetData
	linExists
	linMulti
	// linSessionEnd: the session's closeSession txn deleted its ephemerals. Clients never
	// see its time, so it is open-ended from the session's last acknowledged write.
	linSessionEnd
)

type linInput struct {
	kind    linKind
	path    string
	data    string
	version int32 // expected version, -1 any
	owner   int64 // create: ephemeral owner session; session end: the session
	subs    []linInput
}

type linOutput struct {
	unknown    bool
	err        wire.Err
	data       string
	version    int32
	hasVersion bool
	errs       []wire.Err // multi sub-results
}

// linNode is one path's state.
type linNode struct {
	path    string
	exists  bool
	data    string
	version int32
	owner   int64
}

// linState is a partition's state: every path of the partition, and the sessions whose
// end has been linearized (their ephemeral creates can no longer succeed).
type linState struct {
	nodes []linNode
	ended []int64
}

func (s linState) find(path string) int {
	for i := range s.nodes {
		if s.nodes[i].path == path {
			return i
		}
	}
	panic(fmt.Sprintf("checker: path %q outside its partition %v", path, s.nodes))
}

// precondition predicts the code of a write or check at this state: what ZooKeeper's
// PrepRequestProcessor would answer, restricted to what the model knows.
func (s linState) precondition(in linInput) wire.Err {
	if in.kind == linNone {
		return wire.ErrOK
	}
	n := s.nodes[s.find(in.path)]
	switch in.kind {
	case linCreate:
		if in.owner != 0 && slices.Contains(s.ended, in.owner) {
			return wire.ErrSessionExpired
		}
		if n.exists {
			return wire.ErrNodeExists
		}
	case linDelete, linSetData, linCheck:
		if !n.exists {
			return wire.ErrNoNode
		}
		if in.version != -1 && in.version != n.version {
			return wire.ErrBadVersion
		}
	}
	return wire.ErrOK
}

// apply returns the state after a write whose precondition holds; s is not modified.
func (s linState) apply(in linInput) linState {
	if in.kind == linNone || in.kind == linCheck {
		return s
	}
	t := linState{nodes: slices.Clone(s.nodes), ended: s.ended}
	switch in.kind {
	case linCreate:
		i := t.find(in.path)
		t.nodes[i] = linNode{path: in.path, exists: true, data: in.data, owner: in.owner}
	case linDelete:
		i := t.find(in.path)
		t.nodes[i] = linNode{path: in.path}
	case linSetData:
		i := t.find(in.path)
		t.nodes[i].data = in.data
		t.nodes[i].version++
	case linSessionEnd:
		for i := range t.nodes {
			if t.nodes[i].exists && t.nodes[i].owner == in.owner {
				t.nodes[i] = linNode{path: t.nodes[i].path}
			}
		}
		if !slices.Contains(t.ended, in.owner) {
			t.ended = append(slices.Clone(s.ended), in.owner)
			slices.Sort(t.ended)
		}
	}
	return t
}

// tryMulti applies the sub-ops in order; it returns the index of the first one whose
// precondition fails (-1 if none), that code, and the state after all of them.
func (s linState) tryMulti(subs []linInput) (int, wire.Err, linState) {
	t := s
	for i, sub := range subs {
		if p := t.precondition(sub); p != wire.ErrOK {
			return i, p, s
		}
		t = t.apply(sub)
	}
	return -1, wire.ErrOK, t
}

// errConsistent reports whether a recorded error code agrees with the model's prediction.
// Codes decided by things outside the model (a missing parent, children, ACLs, argument
// checks) are accepted when the model predicts no error of its own; ZooKeeper checks those
// conditions in an order that makes them compatible (zk-protocol.md §4.5).
func errConsistent(kind linKind, got, predicted wire.Err) bool {
	if got == predicted {
		return true
	}
	switch got {
	case wire.ErrOK, wire.ErrNodeExists, wire.ErrBadVersion:
		return false
	case wire.ErrNoNode:
		return kind == linCreate && predicted == wire.ErrOK // the parent is missing
	case wire.ErrNotEmpty, wire.ErrNoChildrenForEphemerals:
		return predicted == wire.ErrOK
	}
	return true // NoAuth, BadArguments, InvalidACL, ...: checked before the model's codes
}

// linStep is the model's step. States are *linState and never modified once made, so a
// step that changes nothing returns the same pointer (no allocation: porcupine calls this
// for every candidate it tries).
func linStep(state, input, output any) (bool, any) {
	ps, in, out := state.(*linState), input.(linInput), output.(linOutput)
	s := *ps
	switch in.kind {
	case linGetData, linExists:
		n := s.nodes[s.find(in.path)]
		if out.err == wire.ErrNoNode {
			return !n.exists, ps
		}
		if !n.exists || (out.hasVersion && out.version != n.version) {
			return false, ps
		}
		return in.kind == linExists || out.data == n.data, ps
	case linSessionEnd:
		return true, ptr(s.apply(in))
	case linMulti:
		failed, code, after := s.tryMulti(in.subs)
		if out.unknown {
			return true, ptr(after) // applied if it could; "lost" = linearized after everything
		}
		i := firstFailure(out.errs)
		if i < 0 {
			return failed < 0, ptr(after)
		}
		// A failed multi: the ops before the failing one must have passed.
		if failed >= 0 && failed < i {
			return false, ps
		}
		p := wire.ErrOK // the model lets op i pass: only a code outside the model fits
		if failed == i {
			p = code
		}
		return errConsistent(in.subs[i].kind, out.errs[i], p), ps
	}
	p := s.precondition(in)
	if out.unknown {
		if p == wire.ErrOK {
			return true, ptr(s.apply(in))
		}
		return true, ps
	}
	if !errConsistent(in.kind, out.err, p) {
		return false, ps
	}
	if out.err == wire.ErrOK {
		return true, ptr(s.apply(in))
	}
	return true, ps
}

func ptr(s linState) *linState { return &s }

// firstFailure is the index of a failed multi's failing op: the first result that is
// neither OK (rolled back before it) nor RuntimeInconsistency (not run after it).
func firstFailure(errs []wire.Err) int {
	for i, e := range errs {
		if e != wire.ErrOK && e != wire.ErrRuntimeInconsistency {
			return i
		}
	}
	return -1
}

func linEqual(a, b any) bool {
	x, y := a.(*linState), b.(*linState)
	return slices.Equal(x.nodes, y.nodes) && slices.Equal(x.ended, y.ended)
}

// linHash is FNV-1a over the state's fields; porcupine calls it for every state it
// caches, so it writes bytes directly instead of formatting.
func linHash(state any) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	str := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h = (h ^ 0xff) * prime
	}
	num := func(v uint64) { h = (h ^ v) * prime }
	s := state.(*linState)
	for _, n := range s.nodes {
		str(n.path)
		if n.exists {
			num(1)
			str(n.data)
			num(uint64(n.version))
			num(uint64(n.owner))
		}
	}
	for _, e := range s.ended {
		num(uint64(e))
	}
	return h
}

func describeLinOp(input, output any) string {
	in, out := input.(linInput), output.(linOutput)
	var s string
	switch in.kind {
	case linCreate:
		s = fmt.Sprintf("create(%s, %q, owner %#x)", in.path, in.data, in.owner)
	case linDelete:
		s = fmt.Sprintf("delete(%s, v%d)", in.path, in.version)
	case linSetData:
		s = fmt.Sprintf("set(%s, %q, v%d)", in.path, in.data, in.version)
	case linCheck:
		s = fmt.Sprintf("check(%s, v%d)", in.path, in.version)
	case linGetData:
		s = fmt.Sprintf("sync+get(%s)", in.path)
	case linExists:
		s = fmt.Sprintf("sync+exists(%s)", in.path)
	case linSessionEnd:
		return fmt.Sprintf("session %#x ends", in.owner)
	case linNone:
		s = "?"
	case linMulti:
		subs := make([]string, len(in.subs))
		for i, sub := range in.subs {
			subs[i] = describeLinOp(sub, linOutput{unknown: true})
		}
		s = "multi(" + strings.Join(subs, "; ") + ")"
		if !out.unknown {
			return fmt.Sprintf("%s -> %v", s, out.errs)
		}
	}
	switch {
	case out.unknown:
		return s + " -> ?"
	case out.err != wire.ErrOK:
		return fmt.Sprintf("%s -> err %d", s, out.err)
	case in.kind == linGetData:
		return fmt.Sprintf("%s -> %q v%d", s, out.data, out.version)
	case in.kind == linExists:
		return fmt.Sprintf("%s -> v%d", s, out.version)
	}
	return s + " -> ok"
}

func describeLinState(state any) string {
	var b strings.Builder
	for _, n := range state.(*linState).nodes {
		if n.exists {
			fmt.Fprintf(&b, "%s=%q v%d ", n.path, n.data, n.version)
		} else {
			fmt.Fprintf(&b, "%s absent ", n.path)
		}
	}
	return b.String()
}

// linPartition is one independently checked part of the history.
type linPartition struct {
	paths []string
	ops   []porcupine.Operation
}

// linModel is the porcupine model of one partition.
func linModel(init linState) porcupine.Model {
	return porcupine.Model{
		Init:              func() any { return &init },
		Step:              linStep,
		Equal:             linEqual,
		Hash:              linHash,
		DescribeOperation: describeLinOp,
		DescribeState:     describeLinState,
	}
}

// CheckLinearizability runs porcupine over every partition of h's writes and sync+reads.
// A partition that is not linearizable gets its visualization written to a file; one
// porcupine cannot decide in cfg.PartitionTimeout fails too ("history too hard").
func CheckLinearizability(h *History, cfg Config, r *Report) {
	parts := linPartitions(h)
	r.Partitions = len(parts)
	for _, p := range parts {
		r.LongestPartition = max(r.LongestPartition, len(p.ops))
	}
	timeout := cfg.PartitionTimeout
	if timeout == 0 {
		timeout = partitionTimeoutDefault
	}
	fresh := tree.New(cfg.Tree)
	results := make([]porcupine.CheckResult, len(parts))
	// Partitions are independent: spread them over the cores, collect in order.
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				results[i] = porcupine.CheckOperationsTimeout(linModel(linInit(fresh, parts[i].paths)), parts[i].ops, timeout)
			}
		})
	}
	for i := range parts {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, p := range parts {
		switch results[i] {
		case porcupine.Ok:
		case porcupine.Unknown:
			r.add(Violation{Check: CheckLinearizable,
				Detail: fmt.Sprintf("history too hard: porcupine did not decide partition %q (%d ops) in %v",
					p.paths, len(p.ops), timeout)})
		default:
			v := Violation{Check: CheckLinearizable,
				Detail: fmt.Sprintf("partition %q (%d ops) is not linearizable", p.paths, len(p.ops))}
			model := linModel(linInit(fresh, p.paths))
			_, info := porcupine.CheckOperationsVerbose(model, p.ops, timeout)
			if path, err := writeVisualization(model, info, cfg.VisualizationDir); err != nil {
				v.Detail += fmt.Sprintf(" (visualization not written: %v)", err)
			} else {
				v.Detail += "; visualization: " + path
				r.Visualizations = append(r.Visualizations, path)
			}
			for _, o := range p.ops {
				if md, ok := o.Metadata.(*Op); ok {
					v.Ops = append(v.Ops, *md)
				}
			}
			r.add(v)
		}
	}
}

func writeVisualization(model porcupine.Model, info porcupine.LinearizationInfo, dir string) (string, error) {
	f, err := os.CreateTemp(dir, "zabkit-linearizability-*.html")
	if err != nil {
		return "", err
	}
	path := f.Name()
	if err := porcupine.Visualize(model, info, f); err != nil {
		f.Close()
		return path, err
	}
	return path, f.Close()
}

// linInit returns the initial state of a partition: which of its paths a fresh tree has.
func linInit(fresh *tree.Tree, paths []string) linState {
	s := linState{nodes: make([]linNode, len(paths))}
	for i, p := range paths {
		_, err := fresh.Exists(p, nil)
		s.nodes[i] = linNode{path: p, exists: err == wire.ErrOK}
	}
	return s
}

// linPartitions turns the history into porcupine operations and splits them by the paths
// they touch (union-find), each partition's operations in history order.
func linPartitions(h *History) []linPartition {
	ops := linOperations(h)
	uf := newPathSets()
	for _, o := range ops {
		paths := linPaths(o.Input.(linInput))
		for _, p := range paths[1:] {
			uf.union(paths[0], p)
		}
		if len(paths) > 0 {
			uf.find(paths[0])
		}
	}
	ops = append(ops, sessionEnds(h, ops, uf)...)
	byRoot := map[string]*linPartition{}
	var roots []string
	for _, o := range ops {
		paths := linPaths(o.Input.(linInput))
		if len(paths) == 0 {
			continue
		}
		root := uf.find(paths[0])
		p := byRoot[root]
		if p == nil {
			p = &linPartition{}
			byRoot[root] = p
			roots = append(roots, root)
		}
		p.ops = append(p.ops, o)
	}
	members := uf.members()
	slices.Sort(roots)
	parts := make([]linPartition, 0, len(roots))
	for _, root := range roots {
		p := byRoot[root]
		p.paths = members[root]
		parts = append(parts, *p)
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].paths[0] < parts[j].paths[0] })
	return parts
}

func linPaths(in linInput) []string {
	if in.kind == linMulti {
		var paths []string
		for _, s := range in.subs {
			if s.kind != linNone {
				paths = append(paths, s.path)
			}
		}
		return paths
	}
	if in.kind == linNone {
		return nil
	}
	return []string{in.path}
}

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
// client seeing the end, the client's closeSession returning, a reply at or past the
// closeSession's zxid.
func sessionEnds(h *History, ops []porcupine.Operation, uf *pathSets) []porcupine.Operation {
	ended := map[int64]int64{} // session -> by when it had certainly ended
	for _, e := range h.Sessions {
		if e.Kind == SessionExpired || e.Kind == SessionClosed {
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

// pathSets is a union-find over paths.
type pathSets struct{ parent map[string]string }

func newPathSets() *pathSets { return &pathSets{parent: map[string]string{}} }

func (u *pathSets) find(p string) string {
	root := p
	for steps := 0; ; steps++ {
		q, ok := u.parent[root]
		if !ok {
			u.parent[root] = root
			break
		}
		if q == root {
			break
		}
		if steps > len(u.parent) {
			panic("checker: cycle in path sets")
		}
		root = q
	}
	for p != root { // path compression
		q := u.parent[p]
		u.parent[p] = root
		p = q
	}
	return root
}

func (u *pathSets) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if rb < ra { // the smaller path names the set: deterministic roots
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
}

// members lists each set's paths, sorted, by root.
func (u *pathSets) members() map[string][]string {
	m := map[string][]string{}
	paths := make([]string, 0, len(u.parent))
	for p := range u.parent {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		root := u.find(p)
		m[root] = append(m[root], p)
	}
	return m
}

// CheckWriteZxidOrder checks what linearizable writes mean for zxids, directly: a write
// acknowledged before another was called has the smaller zxid, and the read after a sync
// is at least at the zxid of every write acknowledged before the sync was called.
func CheckWriteZxidOrder(h *History, r *Report) {
	var writes []*Op
	for i := range h.Ops {
		o := &h.Ops[i]
		if isWrite(o.Type) && !o.outcomeUnknown() && o.Err == wire.ErrOK {
			writes = append(writes, o)
		}
	}
	byReturn := slices.Clone(writes)
	sort.SliceStable(byReturn, func(i, j int) bool { return byReturn[i].Return < byReturn[j].Return })
	// latest[i]: the write of largest zxid among byReturn[:i+1].
	latest := make([]*Op, len(byReturn))
	for i, o := range byReturn {
		latest[i] = o
		if i > 0 && latest[i-1].Zxid > o.Zxid {
			latest[i] = latest[i-1]
		}
	}
	before := func(t int64) *Op { // the largest-zxid write acknowledged before time t
		i := sort.Search(len(byReturn), func(i int) bool { return byReturn[i].Return >= t })
		if i == 0 {
			return nil
		}
		return latest[i-1]
	}
	for _, o := range writes {
		if w := before(o.Call); w != nil && w.Zxid >= o.Zxid {
			r.add(Violation{Check: CheckWriteOrder,
				Detail: fmt.Sprintf("write called after another was acknowledged got zxid %s, not above %s",
					formatZxid(o.Zxid), formatZxid(w.Zxid)),
				Ops: []Op{*w, *o}})
		}
	}
	for _, in := range linOperations(h) {
		kind := in.Input.(linInput).kind
		if kind != linGetData && kind != linExists {
			continue
		}
		o := in.Metadata.(*Op)
		if w := before(in.Call); w != nil && w.Zxid > o.Zxid {
			r.add(Violation{Check: CheckSyncRead,
				Detail: fmt.Sprintf("read after sync is at zxid %s, before the write at %s acknowledged before the sync",
					formatZxid(o.Zxid), formatZxid(w.Zxid)),
				Ops: []Op{*w, *o}})
		}
	}
}
