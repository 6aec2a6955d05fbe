package zk

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/wire"
)

// getACL's ACL, getAllChildrenNumber's count and multiRead's sub-results (getData's data
// and stat, getChildren's children) reach the history, and the checker compares them with
// the tree at the reply's zxid: each one changed fails ReadAtZxid. The recorder before
// left them nil, which the checker reads as "not recorded" and skips.
func TestReadReplyFieldsAreRecordedAndChecked(t *testing.T) {
	o := Quiet(1)
	o.OutDir = t.TempDir()
	r := Run(o)
	require.False(t, r.Failed(), "quiet seed 1:\n%v", r)
	h := r.History
	first := map[string]int{} // what was recorded -> the first op index that shows it
	note := func(what string, i int) {
		if _, ok := first[what]; !ok {
			first[what] = i
		}
	}
	for i, op := range h.Ops {
		if op.Unknown || op.Err != wire.ErrOK {
			continue
		}
		switch op.Type {
		case wire.OpGetACL:
			require.Equal(t, openACL, op.Reply.ACL, "quiet seed 1: %v: getACL's ACL (every znode has the open ACL)", op)
			note("acl", i)
		case wire.OpGetAllChildrenNumber:
			require.NotNil(t, op.Reply.AllChildrenNumber, "quiet seed 1: %v: getAllChildrenNumber's count", op)
			note("count", i)
		case wire.OpMultiRead:
			require.Len(t, op.Reply.Results, len(op.Ops), "quiet seed 1: %v: one result per read", op)
			for j, res := range op.Reply.Results {
				if res.Err != wire.ErrOK {
					continue
				}
				switch op.Ops[j].Type {
				case wire.OpGetData:
					require.NotNil(t, res.Data, "quiet seed 1: %v: result %d's data", op, j)
					require.NotNil(t, res.Stat, "quiet seed 1: %v: result %d's stat", op, j)
					note("multiRead data", i)
				case wire.OpGetChildren:
					require.NotNil(t, res.Children, "quiet seed 1: %v: result %d's children", op, j)
					note("multiRead children", i)
				}
			}
		}
	}
	for _, tc := range []struct {
		what   string
		mutate func(rep *checker.Reply)
	}{
		{"acl", func(rep *checker.Reply) {
			rep.ACL = []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
		}},
		{"count", func(rep *checker.Reply) {
			n := *rep.AllChildrenNumber + 1
			rep.AllChildrenNumber = &n
		}},
		{"multiRead data", func(rep *checker.Reply) {
			rep.Results = slices.Clone(rep.Results)
			for j := range rep.Results {
				if rep.Results[j].Data != nil {
					rep.Results[j].Data = []byte("not what the tree held")
					return
				}
			}
		}},
		{"multiRead children", func(rep *checker.Reply) {
			rep.Results = slices.Clone(rep.Results)
			for j := range rep.Results {
				if rep.Results[j].Children != nil {
					rep.Results[j].Children = append(slices.Clone(rep.Results[j].Children), "never-created")
					return
				}
			}
		}},
	} {
		i, ok := first[tc.what]
		require.True(t, ok, "quiet seed 1: no successful reply records the %s: the workload must exercise it", tc.what)
		mutated := *h
		mutated.Ops = slices.Clone(h.Ops)
		tc.mutate(&mutated.Ops[i].Reply)
		rep := checker.Check(&mutated, checker.Config{Tree: treeConfig})
		require.Equal(t, []string{checker.CheckReadState}, rep.Failed(),
			"quiet seed 1: %v with its %s changed must fail ReadAtZxid alone\n%v", mutated.Ops[i], tc.what, rep.String())
	}
}
