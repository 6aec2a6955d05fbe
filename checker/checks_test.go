package checker

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// reportedChecks lists the values of the Check* constants report.go declares: the names
// Check can put in a Violation.
func reportedChecks(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "report.go", nil, 0)
	require.NoError(t, err)
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				if !strings.HasPrefix(n.Name, "Check") || i >= len(v.Values) {
					continue
				}
				if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					names = append(names, s)
				}
			}
		}
	}
	return names
}

// Every check Check reports fails at least one broken history here, through Check itself
// (issue 5: every check has a test with a hand-made or mutated history that fails it). A
// new Check* constant without an entry fails this test. The per-check tests elsewhere break
// each check in more ways; this one is the guard that none is left out.
func TestEveryCheckFailsABrokenHistory(t *testing.T) {
	fromWorkload := func(mutate func(h *History, at map[string]int)) func() *History {
		return func() *History {
			f, at := workload()
			h := f.h.clone()
			mutate(h, at)
			return h
		}
	}
	fromLin := func(l *linHist, zxids ...int64) func() *History {
		return func() *History {
			for i, z := range zxids {
				l.h.Ops[i].Zxid = 1<<32 | z
			}
			return &l.h
		}
	}
	broken := map[string]func() *History{
		CheckLinearizable: fromLin(new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 3, create("/k", "v1"), 0, Reply{Path: "/k"})),
		CheckWriteOrder: fromLin(new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(1, 2, 3, setData("/k", "v1", -1), 0, Reply{}), 1, 1),
		CheckSyncRead: fromLin(new(linHist).
			op(0, 0, 1, create("/k", "v0"), 0, Reply{Path: "/k"}).
			op(2, 4, 5, syncOp("/"), 0, Reply{}).
			op(2, 5, 6, getData("/k", false), wire.ErrNoNode, Reply{}), 2, 1, 1),
		CheckReadState: fromWorkload(func(h *History, at map[string]int) {
			h.Ops[at["readOwn"]].Reply.Data = []byte("a0")
		}),
		CheckWriteReply: fromWorkload(func(h *History, at map[string]int) { h.Ops[at["setA"]].Zxid++ }),
		CheckLostWrite: fromWorkload(func(h *History, at map[string]int) {
			for i, c := range h.Committed {
				if c.Zxid == h.Ops[at["setA"]].Zxid {
					h.Committed[i].Txn.Cxid = 999
				}
			}
		}),
		CheckSessionFIFO: fromWorkload(func(h *History, at map[string]int) {
			a, b := &h.Ops[at["createA"]], &h.Ops[at["setA"]]
			a.Return, b.Return = b.Return, a.Return
		}),
		CheckSessionZxid: fromWorkload(func(h *History, at map[string]int) {
			h.Ops[at["existsWatch"]].Zxid = h.Ops[at["watchB"]].Zxid - 1
		}),
		CheckReadOwnWrite: fromWorkload(func(h *History, at map[string]int) {
			o := &h.Ops[at["readOwn"]]
			o.Zxid, o.Reply = h.Ops[at["createA"]].Zxid, h.Ops[at["watchB"]].Reply
		}),
		CheckCommittedOrder: fromWorkload(func(h *History, at map[string]int) {
			h.Committed[3], h.Committed[4] = h.Committed[4], h.Committed[3]
		}),
		CheckWatchOneShot: func() *History {
			h := watchWorkload().h.clone()
			i := eventIndex(h, wire.EventNodeDataChanged, "/x")
			h.Events = slices.Insert(h.Events, i+1, h.Events[i])
			return h
		},
		CheckWatchDelivered: func() *History {
			f, _, w := endWorkload()
			f.finish()
			h := f.h.clone()
			h.Events = slices.DeleteFunc(h.Events, func(e WatchEvent) bool { return e.Session == w })
			return h
		},
		CheckEphemeral: func() *History {
			f, ops := ephemeralRun()
			h := f.h.clone()
			b := h.Ops[ops["exists live"]].Reply.Stat.EphemeralOwner
			h.Replicas[0].Ephemerals = append(h.Replicas[0].Ephemerals, Ephemeral{Path: "/d/e", Owner: b})
			return h
		},
		CheckSessionEnd: fromWorkload(func(h *History, at map[string]int) {
			h.Sessions = append(h.Sessions, SessionEvent{Session: h.Ops[at["createA"]].Session, Kind: SessionExpired})
		}),
		CheckRecipe: func() *History {
			h := lockRun().h.clone()
			h.Recipes[2].Zxid = h.Recipes[0].Zxid
			return h
		},
		CheckMalformed: fromWorkload(func(h *History, at map[string]int) {
			h.Ops[0].Return = h.Ops[0].Call - 1
		}),
	}
	names := reportedChecks(t)
	require.Len(t, names, len(broken), "report.go declares %v; this table breaks %d checks", names, len(broken))
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			mk, ok := broken[name]
			require.True(t, ok, "check %q has no broken history in this table", name)
			requireViolation(t, mk(), name)
		})
	}
}
