package conformance

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/wire"
)

func TestWithoutLeavesOutNamedSteps(t *testing.T) {
	getChildrenW := Step{Session: 1, Kind: StepRequest, Op: wire.OpGetChildren, Path: "~", Watch: true}
	recursive := Step{Session: 1, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~", Mode: 1}
	otherSession := Step{Session: 2, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~", Mode: 1}
	otherPath := Step{Session: 1, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~/a", Mode: 1}
	getDataW := Step{Session: 1, Kind: StepRequest, Op: wire.OpGetData, Path: "~/a", Watch: true}
	setWatches := Step{Session: 1, Kind: StepRequest, Op: wire.OpSetWatches2, Lists: [][]string{{}, {}, {"~"}, {}, {}}}
	ttlNeg := Step{Kind: StepRequest, Op: wire.OpCreateTTL, Path: "~/t", Flags: wire.ModePersistent, TTLMs: -5}
	ttlOK := Step{Kind: StepRequest, Op: wire.OpCreateTTL, Path: "~/t", Flags: wire.ModePersistentWithTTL, TTLMs: -5}
	cases := []struct {
		name  string
		names string
		steps []Step
		want  []Step
	}{
		{"watch-mode-overlap guards every step that registers a watch (decided at run time)", "watch-mode-overlap",
			[]Step{getChildrenW, recursive, {Kind: StepRequest, Op: wire.OpGetData, Path: "~/a"}, setWatches},
			[]Step{guarded(getChildrenW), guarded(recursive), {Kind: StepRequest, Op: wire.OpGetData, Path: "~/a"}, guarded(setWatches)}},
		{"nothing named, nothing left out", "", []Step{getChildrenW, recursive}, []Step{getChildrenW, recursive}},
		{"createTTL with a non-TTL mode and a negative ttl", "createTTL-negative-ttl",
			[]Step{ttlNeg, ttlOK}, []Step{ttlOK}},
		{"a multiRead with a write sub-op", "multiRead-write",
			[]Step{{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData}, {Op: wire.OpDelete}}},
				{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData}, {Op: wire.OpGetChildren}}}},
			[]Step{{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData}, {Op: wire.OpGetChildren}}}}},
		{"the configuration node, as a step or a sub-op", "config-node",
			[]Step{{Kind: StepRequest, Op: wire.OpGetData, Path: "/zookeeper/config"},
				{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData, Path: "/zookeeper/config"}}},
				{Kind: StepRequest, Op: wire.OpGetData, Path: "/zookeeper"}},
			[]Step{{Kind: StepRequest, Op: wire.OpGetData, Path: "/zookeeper"}}},
		{"raw frames by op code", "raw-13",
			[]Step{{Kind: StepRaw, Op: wire.OpCheck}, {Kind: StepRaw, Op: 200}}, []Step{{Kind: StepRaw, Op: 200}}},
	}
	_, _, _ = otherSession, otherPath, getDataW
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			names := map[string]bool{}
			if tc.names != "" {
				names[tc.names] = true
			}
			assert.Equal(t, tc.want, Without(tc.steps, names))
		})
	}
}

func guarded(s Step) Step {
	s.GuardWatchModeOverlap = true
	return s
}

// The run-time bookkeeping of watch-mode-overlap: a second mode on a session's path and table
// overlaps while the first is held; a one-shot watch is forgotten once an event consumed it,
// a persistent one never; a new session in the slot starts with none.
func TestWatchModesForgetFiredOneShotWatches(t *testing.T) {
	getDataW := Step{Session: 1, Kind: StepRequest, Op: wire.OpGetData, Path: "~/a", Watch: true}
	getChildrenW := Step{Session: 1, Kind: StepRequest, Op: wire.OpGetChildren, Path: "~/a", Watch: true}
	persistent := Step{Session: 1, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~/a", Mode: 0}
	otherSession := Step{Session: 2, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~/a", Mode: 0}
	twice := Step{Session: 3, Kind: StepRequest, Op: wire.OpSetWatches2, Lists: [][]string{{"~/a"}, {}, {}, {"~/a"}, {}}}

	m := watchModes{}
	m.add(getDataW)
	assert.True(t, m.overlaps(persistent), "persistent over a held standard data watch")
	assert.False(t, m.overlaps(otherSession), "another session's watches are its own")
	assert.False(t, m.overlaps(getDataW), "the same mode again")
	assert.True(t, m.overlaps(twice), "one setWatches naming a path with two modes")

	m.fired(1, "~/a", wire.EventNodeChildrenChanged)
	assert.True(t, m.overlaps(persistent), "a child event does not consume a data watch")
	m.fired(1, "~/a", wire.EventNodeDataChanged)
	assert.False(t, m.overlaps(persistent), "the data watch fired: a persistent watch is no overlap now")

	m.add(getChildrenW)
	m.fired(1, "~/a", wire.EventNodeDeleted)
	assert.False(t, m.overlaps(persistent), "NodeDeleted consumes the child watch too")

	m.add(persistent)
	m.fired(1, "~/a", wire.EventNodeDataChanged)
	assert.True(t, m.overlaps(getDataW), "a persistent watch stays after firing")
	m.forgetSession(1)
	assert.False(t, m.overlaps(getDataW), "a new session in the slot holds no watches")
}

// Against both targets: once a one-shot watch has fired, the same session's persistent watch on
// that path is run and compared (standard-then-persistent interplay), and a standard watch
// over the persistent one is still left out.
func TestWatchModeOverlapIsDecidedWhenTheStepRuns(t *testing.T) {
	a, b := targets(t)
	connect := func(s int) Step { return Step{Session: s, Kind: StepConnect, TimeoutMs: 60000, ReadOnlyByte: true} }
	steps := Without([]Step{
		connect(0), connect(1),
		{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open", Text: "x"},
		{Session: 1, Kind: StepRequest, Op: wire.OpGetData, Path: "~/a", Watch: true},
		{Session: 0, Kind: StepRequest, Op: wire.OpSetData, Path: "~/a", Text: "y", Version: -1},
		{Session: 1, Kind: StepRequest, Op: wire.OpSync, Path: "~"}, // reads the one-shot event
		{Session: 1, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~/a", Mode: 0},
		{Session: 0, Kind: StepRequest, Op: wire.OpSetData, Path: "~/a", Text: "z", Version: -1},
		{Session: 0, Kind: StepRequest, Op: wire.OpSetData, Path: "~/a", Text: "w", Version: -1},
		{Session: 1, Kind: StepRequest, Op: wire.OpGetData, Path: "~/a", Watch: true},
	}, map[string]bool{"watch-mode-overlap": true})
	r := Differential(a, b, nextPrefix(), steps)
	require.Nil(t, r.Divergence, "reproduce: go test ./conformance -run TestWatchModeOverlapIsDecidedWhenTheStepRuns")
	lines := CanonicalLines(r.A, len(steps))
	assert.Contains(t, lines[6][0], `NodeDataChanged("~/a" state=3)`, "the one-shot event, read before the sync's reply:\n%v", lines)
	assert.Contains(t, lines[7][0], `addWatch "~/a" mode=0 → replied err=OK(0)`, "the persistent watch is sent once the one-shot one fired:\n%v", lines)
	assert.Contains(t, lines[10][0], "left out: watch-mode-overlap", "a standard watch over the persistent one:\n%v", lines)
	assert.NotContains(t, strings.Join(lines[10], " "), "replied", "it is not sent:\n%v", lines)
	assert.Contains(t, strings.Join(lines[11], " "), `events-before=[NodeDataChanged("~/a" state=3) NodeDataChanged("~/a" state=3)]`,
		"the persistent watch fired on both later changes:\n%v", lines)
}
