package checker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/zabkit/zabkit/zab/wire"
)

// The znode model porcupine checks (linearizable.go says what it covers): a partition's
// state is its paths' (exists, data, version, owner) plus the sessions already ended, and
// each step predicts what ZooKeeper's PrepRequestProcessor would answer.

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
	// see when, so its interval is bounded by evidence (sessionEnds).
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

// linModel is the porcupine model of one partition.
func linModel(init linState) porcupine.Model {
	return porcupine.Model{
		Init:              func() any { return &init },
		Step:              linStep,
		Equal:             linEqual,
		Hash:              linHash,
		DescribeOperation: describeLinOp,
		DescribeState:     describeLinState,
		DescribeOperationMetadata: func(info any) string {
			if o, ok := info.(*Op); ok {
				return o.String() // the recorded op, with client, session, xid and zxid
			}
			return ""
		},
	}
}
