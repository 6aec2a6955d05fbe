package conformance

import (
	"fmt"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/zabkit/zabkit/zab/wire"
)

// configNode is ZooKeeper's dynamic-configuration node. In an ensemble it holds the members'
// ports, which differ between any two ensembles, and Apache 3.8.0 gives it version -1 and the
// mtime of the moment each member wrote its configuration: the canonical form masks the ports
// and checks that mtime is a wall time (canon.go, isQuorumConfigStat). "config-node" still
// leaves its steps out when named (ZABKIT_CONFORMANCE_EXCLUDE).
const configNode = "/zookeeper/config"

// sessionsMax is how many client sessions one sequence uses.
const sessionsMax = 4

// Path pools. Few names, so that steps collide: creates hit existing nodes, deletes hit
// parents, watches see each other's writes.
var (
	nodePaths = []string{"~", "~/a", "~/b", "~/a/b", "~/a/c", "~/b/a", "~/c"}
	// Sequential creates may end in "/" (§6.2).
	seqBases = []string{"~/s-", "~/a/", "~/a/s-", "~/"}
	// Paths at the validation edges (§6.4): each rule of PathUtils.validatePath, a character
	// on each side of every forbidden range, bytes that are not UTF-8, and no leading slash.
	edgePaths = []string{
		"~/a/", "~//a", "~/./a", "~/../a", "~/.", "~/..", "~/...", "~/.a", "~/a\x00b",
		"~/\x01", "~/\x1f", "~/ ", "~/\x7f", "~/\u0080", "~/\u009f", "~/\u00a0", "~/\ud7ff",
		"~/\ue000", "~/\uf8ff", "~/\uf900", "~/\uffef", "~/\ufff0", "~/\uffff", "~/😀",
		"~/é", "~/\xff", "relative", "", "~/" + strings.Repeat("x", 300),
	}
	texts = []string{"x", "hello", "", "\x00\x01\xfe", "second value"}
	// system steps never change the reserved subtree, even for a super user, so the tree
	// outside a run's prefix stays the same on every target (§6.3).
	systemSteps = []Step{
		{Op: wire.OpDelete, Path: "/", Version: -1},
		{Op: wire.OpDelete, Path: "/zookeeper", Version: -1},
		{Op: wire.OpDelete, Path: "/zookeeper/quota", Version: -1},
		{Op: wire.OpDelete, Path: "/zookeeper/config", Version: -1},
		{Op: wire.OpCreate, Path: "/", ACL: "open", Text: "x"},
		{Op: wire.OpCreate, Path: "/zookeeper", ACL: "open"},
		{Op: wire.OpCreate2, Path: "/zookeeper/quota", ACL: "open"},
		{Op: wire.OpSetData, Path: "/zookeeper/config", Text: "x", Version: 12345},
		{Op: wire.OpSetACL, Path: "/zookeeper/config", ACL: "open", Version: 12345},
		{Op: wire.OpGetData, Path: "/zookeeper/config"},
		{Op: wire.OpGetACL, Path: "/zookeeper/config"},
		{Op: wire.OpGetACL, Path: "/zookeeper"},
		{Op: wire.OpExists, Path: "/zookeeper/quota"},
		{Op: wire.OpGetChildren2, Path: "/zookeeper"},
		{Op: wire.OpGetAllChildrenNumber, Path: "/zookeeper"},
		{Op: wire.OpSync, Path: "/"},
		{Op: wire.OpReconfig},
	}
	auths = []string{"digest:bob:secret", "digest:alice:pw", "digest:super:" + SuperPassword, "digest:nocolon",
		"ip:127.0.0.1", "foo:bar"}
	aclKeys = []string{"open", "open", "open", "open", "read", "creator", "bob", "bob-rc", "bob+read",
		"ip-local", "ip-net", "ip-bad", "world-bad", "scheme-bad", "digest-bad", "super", "dup", "empty", "null"}
	rawOps   = []wire.OpCode{wire.OpCheck, wire.OpDeleteContainer, wire.OpCreateSession, 10, 99, 200}
	versions = []int32{-1, -1, -1, 0, 1, 2, 12345}
	ttls     = []int64{1, 60000, 3600000, 0, -5, 1<<40 - 1, 1 << 40}
)

// DrawSteps draws a differential sequence of at most stepsMax actions inside a rapid property,
// from up to four sessions. A session connects at first use, and again (a new session in the
// same slot, or a resume of the old one) at its next use after a step that probably cost it
// its connection. A session may expire at most once per sequence, and only a short one (each
// expiry costs about 2.5 s of waiting).
//
// The actions are drawn with rapid's Repeat (on average -rapid.steps of them) and the
// session bookkeeping is derived from them afterwards, so rapid can delete any action while
// shrinking, not only the last ones.
//
// rapid draws small numbers more often than large ones (it shrinks towards them), so every
// choice below lists the common, harmless options first and the destructive ones
// (oversized frames, disconnects, bad auth) last.
func DrawSteps(t *rapid.T, stepsMax int) []Step {
	var actions []action
	t.Repeat(map[string]func(*rapid.T){
		"step": func(t *rapid.T) {
			if len(actions) < stepsMax {
				actions = append(actions, actionGen().Draw(t, "action"))
			}
		},
	})
	return sequence(actions)
}

// action is one drawn step with the parameters of the (re)connect that may precede it.
type action struct {
	step         Step
	timeoutMs    int32
	readOnlyByte bool
	resume       bool // reopen a lost session by resuming it rather than with a new session
	variant      int  // resume variant: 8 bad password, 9 lastZxidSeen ahead
}

func (a action) String() string { return a.step.String() }

// GoString is what rapid prints for a drawn action.
func (a action) GoString() string { return a.step.String() }

func actionGen() *rapid.Generator[action] {
	return rapid.Custom(func(t *rapid.T) action {
		var a action
		a.step = stepGen(t)
		a.step.Session = rapid.IntRange(0, sessionsMax-1).Draw(t, "session")
		a.timeoutMs = rapid.SampledFrom([]int32{60000, 120000, 500, 60000, 1000}).Draw(t, "timeoutMs")
		a.readOnlyByte = rapid.Bool().Draw(t, "readOnlyByte")
		a.resume = rapid.IntRange(0, 3).Draw(t, "resume") == 3
		a.variant = rapid.IntRange(0, 9).Draw(t, "resumeVariant")
		return a
	})
}

// sequence turns actions into steps: connects before a session's first step and before its
// next step after one that probably ended its connection; at most one expiry, of a short
// session (any other expiry becomes a reconnect).
func sequence(actions []action) []Step {
	var steps []Step
	opened := make([]bool, sessionsMax)
	dead := make([]bool, sessionsMax)
	short := make([]bool, sessionsMax)
	expiries := 0
	for _, a := range actions {
		s := a.step.Session
		if dead[s] && a.resume {
			steps = append(steps, Step{Session: s, Kind: StepReconnect, BadPassword: a.variant == 8, FutureZxid: a.variant == 9})
			dead[s] = false
		}
		if !opened[s] || dead[s] {
			steps = append(steps, Step{Session: s, Kind: StepConnect, TimeoutMs: a.timeoutMs, ReadOnlyByte: a.readOnlyByte})
			opened[s], dead[s], short[s] = true, false, a.timeoutMs <= 1000
		}
		step := a.step
		if step.Kind == StepExpire {
			if !short[s] || expiries > 0 {
				step = Step{Session: s, Kind: StepReconnect}
			} else {
				expiries++
			}
		}
		dead[s] = mayEndConnection(step)
		steps = append(steps, step)
	}
	return steps
}

// mayEndConnection guesses whether the server closes the connection at this step (or the
// step closes it), so that the generator opens a new one before the session's next step. A
// wrong guess costs nothing: the runner records what really happened.
func mayEndConnection(s Step) bool {
	switch {
	case s.Kind == StepDisconnect, s.Kind == StepExpire, s.Kind == StepRaw:
		return true
	case s.Kind == StepReconnect:
		return s.BadPassword || s.FutureZxid
	case s.Data == DataPastLimit:
		return true
	}
	switch s.Op {
	case wire.OpCloseSession:
		return true
	case wire.OpAuth:
		return strings.HasPrefix(s.Auth, "foo:")
	}
	return false
}

// stepGen draws one step (its session is set by the caller); the weights favour the data
// operations and watches.
func stepGen(t *rapid.T) Step {
	k := rapid.IntRange(0, 99).Draw(t, "kind")
	switch {
	case k < 20:
		return createStep(t)
	case k < 30:
		s := Step{Kind: StepRequest, Op: wire.OpSetData, Path: pathGen(t), Version: rapid.SampledFrom(versions).Draw(t, "version")}
		s.Data, s.Text = dataGen(t)
		return s
	case k < 42:
		op := rapid.SampledFrom([]wire.OpCode{wire.OpGetData, wire.OpExists, wire.OpGetChildren, wire.OpGetChildren2}).Draw(t, "read")
		return Step{Kind: StepRequest, Op: op, Path: pathGen(t), Watch: rapid.IntRange(0, 9).Draw(t, "watch") < 7}
	case k < 48:
		return Step{Kind: StepRequest, Op: wire.OpDelete, Path: pathGen(t), Version: rapid.SampledFrom(versions).Draw(t, "version")}
	case k < 53:
		return Step{Kind: StepRequest, Op: wire.OpAddWatch, Path: pathGen(t),
			Mode: rapid.SampledFrom([]int32{0, 1, 0, 1, 2}).Draw(t, "mode")}
	case k < 60:
		return multiStep(t)
	case k < 62:
		return Step{Kind: StepRequest, Op: wire.OpGetACL, Path: pathGen(t)}
	case k < 66:
		return Step{Kind: StepRequest, Op: wire.OpSetACL, Path: pathGen(t), ACL: rapid.SampledFrom(aclKeys).Draw(t, "acl"),
			Version: rapid.SampledFrom(versions).Draw(t, "version")}
	case k < 68:
		return Step{Kind: StepRequest, Op: wire.OpSync, Path: pathGen(t)}
	case k < 70:
		return Step{Kind: StepRequest, Op: wire.OpGetEphemerals,
			Path: rapid.SampledFrom([]string{"", "/", "~", "~/a", "~/e"}).Draw(t, "prefix")}
	case k < 72:
		return Step{Kind: StepRequest, Op: wire.OpGetAllChildrenNumber, Path: pathGen(t)}
	case k < 75:
		op := rapid.SampledFrom([]wire.OpCode{wire.OpCheckWatches, wire.OpRemoveWatches}).Draw(t, "watchOp")
		return Step{Kind: StepRequest, Op: op, Path: pathGen(t), Mode: rapid.SampledFrom([]int32{1, 2, 3, 3, 4}).Draw(t, "watcherType")}
	case k < 77:
		op := rapid.SampledFrom([]wire.OpCode{wire.OpSetWatches, wire.OpSetWatches2}).Draw(t, "setWatches")
		lists := make([][]string, 5)
		for i := range lists {
			lists[i] = rapid.SliceOfN(rapid.SampledFrom(nodePaths), 0, 2).Draw(t, "watchList")
		}
		return Step{Kind: StepRequest, Op: op, Lists: lists}
	case k < 79:
		return Step{Kind: StepRequest, Op: wire.OpWhoAmI}
	case k < 84:
		return Step{Kind: StepRequest, Op: wire.OpAuth, Auth: rapid.SampledFrom(auths).Draw(t, "auth"),
			AuthXidNormal: rapid.Bool().Draw(t, "authNormalXid")}
	case k < 87:
		s := rapid.SampledFrom(systemSteps).Draw(t, "system")
		s.Kind = StepRequest
		return s
	case k < 89:
		return Step{Kind: StepRequest, Op: wire.OpCloseSession}
	case k < 90:
		return Step{Kind: StepRaw, Op: rapid.SampledFrom(rawOps).Draw(t, "rawOp"), Path: pathGen(t), Version: -1}
	case k < 91:
		return Step{Kind: StepRequest, Op: wire.OpSASL}
	case k < 94:
		return Step{Kind: StepDisconnect}
	case k < 98:
		v := rapid.IntRange(0, 9).Draw(t, "reconnectVariant")
		return Step{Kind: StepReconnect, BadPassword: v == 8, FutureZxid: v == 9}
	}
	return Step{Kind: StepExpire}
}

func pathGen(t *rapid.T) string {
	if rapid.IntRange(0, 9).Draw(t, "edge") == 9 {
		return rapid.SampledFrom(edgePaths).Draw(t, "edgePath")
	}
	return rapid.SampledFrom(nodePaths).Draw(t, "path")
}

func dataGen(t *rapid.T) (DataKind, string) {
	switch rapid.IntRange(0, 39).Draw(t, "data") {
	case 36, 37:
		return DataNull, ""
	case 38:
		return DataAtLimit, ""
	case 39:
		return DataPastLimit, ""
	}
	return DataText, rapid.SampledFrom(texts).Draw(t, "text")
}

// createStep draws a create in any of its four op codes, mostly with the flags that op is
// meant for, sometimes with the wrong ones (§4.5 create checks 1-2).
func createStep(t *rapid.T) Step {
	s := Step{Kind: StepRequest, ACL: rapid.SampledFrom(aclKeys).Draw(t, "acl")}
	s.Data, s.Text = dataGen(t)
	wrong := rapid.IntRange(0, 9).Draw(t, "wrongFlags") == 9
	switch rapid.IntRange(0, 9).Draw(t, "createOp") {
	case 0, 1, 2, 3:
		s.Op = wire.OpCreate
	case 4, 5, 6:
		s.Op = wire.OpCreate2
	case 7:
		s.Op = wire.OpCreateContainer
	default:
		s.Op = wire.OpCreateTTL
		s.TTLMs = rapid.SampledFrom(ttls).Draw(t, "ttl")
	}
	switch {
	case wrong:
		s.Flags = rapid.SampledFrom([]wire.CreateMode{-1, 0, 1, 4, 5, 6, 7}).Draw(t, "flags")
	case s.Op == wire.OpCreateContainer:
		s.Flags = wire.ModeContainer
	case s.Op == wire.OpCreateTTL:
		s.Flags = rapid.SampledFrom([]wire.CreateMode{wire.ModePersistentWithTTL, wire.ModePersistentSequentialWithTTL}).Draw(t, "flags")
	default:
		s.Flags = rapid.SampledFrom([]wire.CreateMode{0, 0, 1, 2, 3}).Draw(t, "flags")
	}
	if (s.Flags == wire.ModePersistentSequential || s.Flags == wire.ModeEphemeralSequential ||
		s.Flags == wire.ModePersistentSequentialWithTTL) && rapid.Bool().Draw(t, "seqBase") {
		s.Path = rapid.SampledFrom(seqBases).Draw(t, "seqPath")
	} else {
		s.Path = pathGen(t)
	}
	if s.Path == "~" && (s.Flags == wire.ModePersistentSequential || s.Flags == wire.ModeEphemeralSequential ||
		s.Flags == wire.ModePersistentSequentialWithTTL) {
		// The suffix would come from the root's child counter, which counts every run
		// the server has seen: keep sequential names inside the run.
		s.Path = "~/s-"
	}
	return s
}

// multiStep draws a multi (atomic writes, often failing part-way) or a multiRead, and now and
// then one that mixes reads and writes (MarshallingError, §10.1).
func multiStep(t *rapid.T) Step {
	read := rapid.IntRange(0, 4).Draw(t, "multiRead") == 4
	mixed := rapid.IntRange(0, 9).Draw(t, "mixed") == 9
	s := Step{Kind: StepRequest, Op: wire.OpMulti}
	if read {
		s.Op = wire.OpMultiRead
	}
	n := rapid.IntRange(1, 4).Draw(t, "subOps")
	if rapid.IntRange(0, 19).Draw(t, "emptyMulti") == 19 {
		n = 0
	}
	for i := range n {
		var sub Step
		if read != (mixed && i == n-1) {
			op := rapid.SampledFrom([]wire.OpCode{wire.OpGetData, wire.OpGetChildren}).Draw(t, "subRead")
			sub = Step{Kind: StepRequest, Op: op, Path: pathGen(t), Watch: rapid.Bool().Draw(t, "watch")}
		} else {
			switch rapid.IntRange(0, 3).Draw(t, "subWrite") {
			case 0:
				sub = createStep(t)
				if sub.Data == DataAtLimit || sub.Data == DataPastLimit {
					sub.Data = DataText
				}
			case 1:
				sub = Step{Kind: StepRequest, Op: wire.OpDelete, Path: pathGen(t), Version: rapid.SampledFrom(versions).Draw(t, "version")}
			case 2:
				sub = Step{Kind: StepRequest, Op: wire.OpSetData, Path: pathGen(t), Text: rapid.SampledFrom(texts).Draw(t, "text"),
					Version: rapid.SampledFrom(versions).Draw(t, "version")}
			default:
				sub = Step{Kind: StepRequest, Op: wire.OpCheck, Path: pathGen(t), Version: rapid.SampledFrom(versions).Draw(t, "version")}
			}
		}
		s.Sub = append(s.Sub, sub)
	}
	return s
}

// Without returns steps minus those whose op (opName: "sasl", "createTTL"…) or kind ("raw",
// "expire", "disconnect", "reconnect"; "past-limit" for data one byte over the frame limit,
// "raw-N" for a raw frame of op code N, "bad-password" for a resume with a wrong password,
// "createTTL-negative-ttl" for a createTTL with a mode that has no TTL and a negative ttl,
// "watch-mode-overlap" for a second, different watch mode on one session's path and table,
// "multiRead-write" for a multiRead with a sub-op that is not getData or getChildren,
// "config-node" for a step or sub-op on /zookeeper/config) is
// in names: known, deliberate differences can be
// left out while the rest of a target is compared (ZABKIT_CONFORMANCE_EXCLUDE).
func Without(steps []Step, names map[string]bool) []Step {
	if len(names) == 0 {
		return steps
	}
	kinds := map[StepKind]string{StepRaw: "raw", StepExpire: "expire", StepDisconnect: "disconnect", StepReconnect: "reconnect"}
	var out []Step
	for _, s := range steps {
		if names["watch-mode-overlap"] && len(registrations(s)) > 0 {
			// Decided when the step runs: whether the session still holds another mode there
			// depends on which one-shot watches have fired by then.
			s.GuardWatchModeOverlap = true
		}
		if names["config-node"] && (s.Path == configNode || slices.ContainsFunc(s.Sub, func(sub Step) bool { return sub.Path == configNode })) {
			continue
		}
		if names["multiRead-write"] && s.Kind == StepRequest && s.Op == wire.OpMultiRead && slices.ContainsFunc(s.Sub, func(sub Step) bool {
			return sub.Op != wire.OpGetData && sub.Op != wire.OpGetChildren
		}) {
			continue
		}
		if names[kinds[s.Kind]] || (s.Kind == StepRequest && names[opName(s.Op)]) ||
			(s.Data == DataPastLimit && names["past-limit"]) ||
			(s.Kind == StepRaw && names[fmt.Sprintf("raw-%d", s.Op)]) ||
			(s.Kind == StepReconnect && s.BadPassword && names["bad-password"]) ||
			(s.Kind == StepRequest && s.Op == wire.OpCreateTTL && s.Flags != wire.ModePersistentWithTTL &&
				s.Flags != wire.ModePersistentSequentialWithTTL && s.TTLMs < 0 && names["createTTL-negative-ttl"]) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// watchModes remembers, per session slot, path and watch table, the mode of the watches a
// sequence registered, so that the runner can leave out a step that would register a second,
// different mode for the same session, path and table ("watch-mode-overlap": Apache 3.8.0
// keeps the last mode only, zabd keeps both as ZooKeeper 3.9 does; README.md). A step counts
// as registering when it is sent, whatever the reply (conservative); a standard (one-shot)
// registration is forgotten once the session has received an event that consumed it, and all
// of a slot's registrations when the slot opens a new session. Paths are in step form ("~").
type watchModes map[watchKey]string

type watchKey struct {
	session int
	path    string
	table   string
}

// registrations lists the (table, mode) pairs a step registers on each path.
func registrations(s Step) map[string][][2]string {
	out := map[string][][2]string{}
	addAll := func(path string, regs ...[2]string) { out[path] = append(out[path], regs...) }
	data, child := [2]string{"data", "standard"}, [2]string{"child", "standard"}
	both := func(mode string) [][2]string { return [][2]string{{"data", mode}, {"child", mode}} }
	if s.Kind != StepRequest {
		return out
	}
	switch s.Op {
	case wire.OpExists, wire.OpGetData:
		if s.Watch {
			addAll(s.Path, data)
		}
	case wire.OpGetChildren, wire.OpGetChildren2:
		if s.Watch {
			addAll(s.Path, child)
		}
	case wire.OpAddWatch:
		switch s.Mode {
		case int32(wire.AddWatchPersistent):
			addAll(s.Path, both("persistent")...)
		case int32(wire.AddWatchPersistentRecursive):
			addAll(s.Path, both("recursive")...)
		}
	case wire.OpSetWatches, wire.OpSetWatches2:
		for i, list := range s.Lists {
			for _, path := range list {
				switch i {
				case 0, 1:
					addAll(path, data)
				case 2:
					addAll(path, child)
				case 3:
					addAll(path, both("persistent")...)
				case 4:
					addAll(path, both("recursive")...)
				}
			}
		}
	}
	return out
}

func (m watchModes) overlaps(s Step) bool {
	for path, regs := range registrations(s) {
		seen := map[string]string{}
		for _, r := range regs {
			if mode, ok := m[watchKey{s.Session, path, r[0]}]; ok && mode != r[1] {
				return true
			}
			if mode, ok := seen[r[0]]; ok && mode != r[1] {
				return true // one setWatches step naming a path twice
			}
			seen[r[0]] = r[1]
		}
	}
	return false
}

func (m watchModes) add(s Step) {
	for path, regs := range registrations(s) {
		for _, r := range regs {
			m[watchKey{s.Session, path, r[0]}] = r[1]
		}
	}
}

// fired forgets the one-shot registrations an event delivered to session consumed (ZooKeeper's
// WatchManager.triggerWatch removes a standard watcher when it fires): NodeCreated and
// NodeDataChanged consume the data table's, NodeChildrenChanged the child table's,
// NodeDeleted both. path is in step form.
func (m watchModes) fired(session int, path string, ev wire.EventType) {
	var tables []string
	switch ev {
	case wire.EventNodeCreated, wire.EventNodeDataChanged:
		tables = []string{"data"}
	case wire.EventNodeChildrenChanged:
		tables = []string{"child"}
	case wire.EventNodeDeleted:
		tables = []string{"data", "child"}
	}
	for _, table := range tables {
		k := watchKey{session, path, table}
		if m[k] == "standard" {
			delete(m, k)
		}
	}
}

// forgetSession drops a slot's registrations: it opened a new session, which holds none.
func (m watchModes) forgetSession(session int) {
	for k := range m {
		if k.session == session {
			delete(m, k)
		}
	}
}
