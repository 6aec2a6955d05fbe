package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
		{"a recursive watch over the session's child watch", "watch-mode-overlap",
			[]Step{getChildrenW, recursive, otherSession, otherPath, getDataW},
			[]Step{getChildrenW, otherSession, otherPath}},
		{"the same mode again is no overlap", "watch-mode-overlap",
			[]Step{getChildrenW, setWatches}, []Step{getChildrenW, setWatches}},
		{"nothing named, nothing left out", "", []Step{getChildrenW, recursive}, []Step{getChildrenW, recursive}},
		{"createTTL with a non-TTL mode and a negative ttl", "createTTL-negative-ttl",
			[]Step{ttlNeg, ttlOK}, []Step{ttlOK}},
		{"a multiRead with a write sub-op", "multiRead-write",
			[]Step{{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData}, {Op: wire.OpDelete}}},
				{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData}, {Op: wire.OpGetChildren}}}},
			[]Step{{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData}, {Op: wire.OpGetChildren}}}}},
		{"raw frames by op code", "raw-13",
			[]Step{{Kind: StepRaw, Op: wire.OpCheck}, {Kind: StepRaw, Op: 200}}, []Step{{Kind: StepRaw, Op: 200}}},
	}
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
