package conformance

import (
	"strings"

	"pgregory.net/rapid"

	"github.com/zabkit/zabkit/zab/wire"
)

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
	texts = []string{"", "x", "hello", "\x00\x01\xfe", "second value"}
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

// StepsGen generates differential sequences of up to stepsMaxPerSequence steps from up to
// four sessions. Sessions connect at first use; a session may expire at most once per
// sequence, and only a short one (each expiry costs about 2.5 s of waiting).
func StepsGen(stepsMaxPerSequence int) *rapid.Generator[[]Step] {
	return rapid.Custom(func(t *rapid.T) []Step {
		var steps []Step
		opened := make([]bool, sessionsMax)
		short := make([]bool, sessionsMax)
		expiries := 0
		n := rapid.IntRange(1, stepsMaxPerSequence).Draw(t, "steps")
		for range n {
			s := rapid.IntRange(0, sessionsMax-1).Draw(t, "session")
			if !opened[s] {
				timeout := rapid.SampledFrom([]int32{60000, 120000, 500, 60000, 1000}).Draw(t, "timeoutMs")
				steps = append(steps, Step{Session: s, Kind: StepConnect, TimeoutMs: timeout,
					ReadOnlyByte: rapid.Bool().Draw(t, "readOnlyByte")})
				opened[s], short[s] = true, timeout <= 1000
			}
			step := stepGen(t, short[s] && expiries == 0)
			if step.Kind == StepExpire {
				expiries++
			}
			step.Session = s
			steps = append(steps, step)
		}
		return steps
	})
}

// stepGen draws one step; the weights favour the data operations.
func stepGen(t *rapid.T, mayExpire bool) Step {
	k := rapid.IntRange(0, 99).Draw(t, "kind")
	switch {
	case k < 22:
		return createStep(t)
	case k < 27:
		return Step{Kind: StepRequest, Op: wire.OpDelete, Path: pathGen(t), Version: rapid.SampledFrom(versions).Draw(t, "version")}
	case k < 37:
		op := rapid.SampledFrom([]wire.OpCode{wire.OpExists, wire.OpGetData, wire.OpGetChildren, wire.OpGetChildren2}).Draw(t, "read")
		return Step{Kind: StepRequest, Op: op, Path: pathGen(t), Watch: rapid.IntRange(0, 9).Draw(t, "watch") < 7}
	case k < 45:
		s := Step{Kind: StepRequest, Op: wire.OpSetData, Path: pathGen(t), Version: rapid.SampledFrom(versions).Draw(t, "version")}
		s.Data, s.Text = dataGen(t)
		return s
	case k < 48:
		return Step{Kind: StepRequest, Op: wire.OpGetACL, Path: pathGen(t)}
	case k < 52:
		return Step{Kind: StepRequest, Op: wire.OpSetACL, Path: pathGen(t), ACL: rapid.SampledFrom(aclKeys).Draw(t, "acl"),
			Version: rapid.SampledFrom(versions).Draw(t, "version")}
	case k < 60:
		return multiStep(t)
	case k < 62:
		return Step{Kind: StepRequest, Op: wire.OpSync, Path: pathGen(t)}
	case k < 64:
		return Step{Kind: StepRequest, Op: wire.OpGetEphemerals,
			Path: rapid.SampledFrom([]string{"", "/", "~", "~/a", "~/e"}).Draw(t, "prefix")}
	case k < 66:
		return Step{Kind: StepRequest, Op: wire.OpGetAllChildrenNumber, Path: pathGen(t)}
	case k < 71:
		return Step{Kind: StepRequest, Op: wire.OpAddWatch, Path: pathGen(t),
			Mode: rapid.SampledFrom([]int32{0, 1, 0, 1, 2}).Draw(t, "mode")}
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
	case k < 86:
		return Step{Kind: StepRequest, Op: wire.OpCloseSession}
	case k < 89:
		s := rapid.SampledFrom(systemSteps).Draw(t, "system")
		s.Kind = StepRequest
		return s
	case k < 90:
		return Step{Kind: StepRaw, Op: rapid.SampledFrom(rawOps).Draw(t, "rawOp"), Path: pathGen(t), Version: -1}
	case k < 91:
		return Step{Kind: StepRequest, Op: wire.OpSASL}
	case k < 94:
		return Step{Kind: StepDisconnect}
	case k < 98 || !mayExpire:
		v := rapid.IntRange(0, 9).Draw(t, "reconnectVariant")
		return Step{Kind: StepReconnect, BadPassword: v == 0, FutureZxid: v == 1}
	}
	return Step{Kind: StepExpire}
}

func pathGen(t *rapid.T) string {
	if rapid.IntRange(0, 9).Draw(t, "edge") == 0 {
		return rapid.SampledFrom(edgePaths).Draw(t, "edgePath")
	}
	return rapid.SampledFrom(nodePaths).Draw(t, "path")
}

func dataGen(t *rapid.T) (DataKind, string) {
	switch rapid.IntRange(0, 39).Draw(t, "data") {
	case 0:
		return DataAtLimit, ""
	case 1:
		return DataPastLimit, ""
	case 2, 3, 4:
		return DataNull, ""
	}
	return DataText, rapid.SampledFrom(texts).Draw(t, "text")
}

// createStep draws a create in any of its four op codes, mostly with the flags that op is
// meant for, sometimes with the wrong ones (§4.5 create checks 1-2).
func createStep(t *rapid.T) Step {
	s := Step{Kind: StepRequest, ACL: rapid.SampledFrom(aclKeys).Draw(t, "acl")}
	s.Data, s.Text = dataGen(t)
	wrong := rapid.IntRange(0, 9).Draw(t, "wrongFlags") == 0
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
	return s
}

// multiStep draws a multi (atomic writes, often failing part-way) or a multiRead, and now and
// then one that mixes reads and writes (MarshallingError, §10.1).
func multiStep(t *rapid.T) Step {
	read := rapid.IntRange(0, 4).Draw(t, "multiRead") == 0
	mixed := rapid.IntRange(0, 9).Draw(t, "mixed") == 0
	s := Step{Kind: StepRequest, Op: wire.OpMulti}
	if read {
		s.Op = wire.OpMultiRead
	}
	n := rapid.IntRange(0, 4).Draw(t, "subOps")
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
