package checker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

func TestSessionChecksPass(t *testing.T) {
	f := newFakeZK()
	a, b := f.connect(0), f.connect(1)
	f.do(b, createMode("/e1", "", wire.ModeEphemeral))
	f.do(b, createMode("/e2", "", wire.ModeEphemeralSequential))
	f.do(a, exists("/e1", true))
	f.expire(b) // deletes both, fires a's exist... data watch
	f.do(a, exists("/e1", false))
	c := f.connect(2)
	f.do(c, createMode("/e1", "again", wire.ModeEphemeral))
	f.do(c, Request{Type: wire.OpCloseSession})
	f.h.Sessions = append(f.h.Sessions, SessionEvent{Client: 2, Session: c, Kind: SessionClosed, Time: f.now})
	requireOK(t, &f.h)
}

func TestSessionMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check string
		make  func() *History
	}{
		{"ephemeral created for a closed session", CheckEphemeral, func() *History {
			f := newFakeZK()
			a, b := f.connect(0), f.connect(1)
			f.expire(b)
			// The leader turns a's create into an ephemeral of the dead session b.
			f.commit(tree.Request{SessionID: a, Cxid: 1, Zxid: f.nextZxid(), Type: wire.OpCreate,
				Body: &wire.CreateRequest{Path: "/ghost", ACL: tree.OpenACL, Flags: wire.ModeEphemeral}})
			last := &f.h.Committed[len(f.h.Committed)-1]
			last.Txn.Owner = b
			return &f.h
		}},
		{"write acknowledged after the session ended", CheckSessionEnd, func() *History {
			f := newFakeZK()
			a := f.connect(0)
			f.expire(a)
			// A leader that forgets to check the session: the create commits and is acknowledged.
			txn := tree.Txn{Type: wire.OpCreate, SessionID: a, Cxid: 1, Path: "/late", ACL: tree.OpenACL}
			zxid := f.nextZxid()
			f.h.Committed = append(f.h.Committed, CommittedTxn{Zxid: zxid, Txn: txn})
			f.h.Ops = append(f.h.Ops, Op{Session: a, Xid: 1, Call: f.now, Return: f.now + 1,
				Request: create("/late", ""), Zxid: zxid, Reply: Reply{Path: "/late"}})
			return &f.h
		}},
		{"expired for the client, never closed in the order", CheckSessionEnd, func() *History {
			f := newFakeZK()
			a := f.connect(0)
			f.do(a, create("/x", ""))
			f.h.Sessions = append(f.h.Sessions, SessionEvent{Session: a, Kind: SessionExpired, Time: f.now})
			return &f.h
		}},
		{"established but never created", CheckSessionEnd, func() *History {
			f := newFakeZK()
			f.connect(0)
			f.h.Sessions = append(f.h.Sessions, SessionEvent{Session: 0x999, Kind: SessionEstablished})
			return &f.h
		}},
		{"an op returning before its call", CheckMalformed, func() *History {
			f := newFakeZK()
			a := f.connect(0)
			f.do(a, create("/x", ""))
			f.h.Ops[0].Return = f.h.Ops[0].Call - 1
			return &f.h
		}},
		{"event's LastZxid disagrees with its AfterXid", CheckMalformed, func() *History {
			f := newFakeZK()
			a, b := f.connect(0), f.connect(1)
			f.do(a, exists("/x", true))
			f.do(b, create("/x", ""))
			f.h.Events[0].LastZxid++
			return &f.h
		}},
		{"two replies with one xid", CheckMalformed, func() *History {
			f := newFakeZK()
			a := f.connect(0)
			f.do(a, exists("/x", false))
			f.do(a, exists("/y", false))
			f.h.Ops[1].Xid = f.h.Ops[0].Xid
			return &f.h
		}},
		{"event placed after a reply that does not exist", CheckMalformed, func() *History {
			f := newFakeZK()
			a, b := f.connect(0), f.connect(1)
			f.do(a, exists("/x", true))
			f.do(b, create("/x", ""))
			f.h.Events[0].AfterXid = 42
			return &f.h
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireViolation(t, tc.make(), tc.check)
		})
	}
}

// ephemeralRun: b's ephemeral /d/e is read in every way, then b expires and c takes /g;
// the end records the server's final ephemerals.
func ephemeralRun() (f *fakeZK, ops map[string]int) {
	f = newFakeZK()
	a, b := f.connect(0), f.connect(1)
	f.do(a, create("/d", ""))
	f.do(b, createMode("/d/e", "", wire.ModeEphemeral))
	ops = map[string]int{
		"exists live":  f.do(a, exists("/d/e", false)),
		"getData live": f.do(a, getData("/d/e", false)),
		"children":     f.do(a, children("/d", false)),
	}
	f.expire(b)
	ops["exists ended"] = f.do(a, exists("/d/e", false))
	c := f.connect(2)
	ops["create g"] = f.do(c, createMode("/g", "", wire.ModeEphemeral))
	ops["children root"] = f.do(a, children("/", false))
	ops["exists persistent"] = f.do(a, exists("/d", false))
	f.finish()
	return f, ops
}

func TestEphemeralRunPasses(t *testing.T) {
	f, ops := ephemeralRun()
	requireOK(t, &f.h)
	require.Equal(t, wire.ErrNoNode, f.h.Ops[ops["exists ended"]].Err, "b's ephemeral is gone after b expired")
	require.Equal(t, []Ephemeral{{Path: "/g", Owner: f.h.Ops[ops["create g"]].Session}}, f.h.Replicas[0].Ephemerals,
		"the server ends with c's ephemeral only")
}

// Every branch of the ephemeral check fails a mutated history. The check follows the
// ephemerals from the committed txns alone, so it does not share a bug of zab/tree's
// close with the replay: a server's final tree that no read looked at fails it and
// nothing else.
func TestEphemeralMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		only   bool // CheckEphemeral is the only failed check
		break_ func(h *History, ops map[string]int)
	}{
		{"a read misses a live session's ephemeral", false, func(h *History, ops map[string]int) {
			o := &h.Ops[ops["exists live"]]
			o.Err, o.Reply = wire.ErrNoNode, Reply{}
		}},
		{"a read shows the ephemeral of an expired session", false, func(h *History, ops map[string]int) {
			o := &h.Ops[ops["exists ended"]]
			o.Err, o.Reply = wire.ErrOK, h.Ops[ops["exists live"]].Reply
		}},
		{"a read shows another owner", false, func(h *History, ops map[string]int) {
			o := &h.Ops[ops["getData live"]]
			st := *o.Reply.Stat
			st.EphemeralOwner = h.Ops[0].Session
			o.Reply.Stat = &st
		}},
		{"a read shows a live session's ephemeral as persistent", false, func(h *History, ops map[string]int) {
			o := &h.Ops[ops["getData live"]]
			st := *o.Reply.Stat
			st.EphemeralOwner = 0
			o.Reply.Stat = &st
		}},
		{"a read shows a persistent znode as a live session's ephemeral", false, func(h *History, ops map[string]int) {
			o := &h.Ops[ops["exists persistent"]]
			st := *o.Reply.Stat
			st.EphemeralOwner = h.Ops[0].Session
			o.Reply.Stat = &st
		}},
		{"a listing leaves a live session's ephemeral out", false, func(h *History, ops map[string]int) {
			h.Ops[ops["children"]].Reply.Children = []string{}
		}},
		{"a listing of the root leaves a live session's ephemeral out", false, func(h *History, ops map[string]int) {
			o := &h.Ops[ops["children root"]]
			o.Reply.Children = slices.DeleteFunc(slices.Clone(o.Reply.Children), func(c string) bool { return c == "g" })
		}},
		{"a server keeps the ephemeral of an expired session", true, func(h *History, ops map[string]int) {
			b := h.Ops[ops["exists live"]].Reply.Stat.EphemeralOwner
			h.Replicas[0].Ephemerals = append(h.Replicas[0].Ephemerals, Ephemeral{Path: "/d/e", Owner: b})
		}},
		{"a server lacks a live session's ephemeral", true, func(h *History, ops map[string]int) {
			h.Replicas[0].Ephemerals = nil
		}},
		{"a server holds an ephemeral for another owner", true, func(h *History, ops map[string]int) {
			h.Replicas[0].Ephemerals[0].Owner = h.Ops[0].Session
		}},
		{"a server holds an ephemeral of a session never created", true, func(h *History, ops map[string]int) {
			h.Replicas[0].Ephemerals = append(h.Replicas[0].Ephemerals, Ephemeral{Path: "/d/x", Owner: 0x999})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ops := ephemeralRun()
			h := f.h.clone()
			tc.break_(h, ops)
			r := requireViolation(t, h, CheckEphemeral)
			if tc.only {
				require.Equal(t, []string{CheckEphemeral}, r.Failed(), "only the ephemeral check sees a server's final tree:\n%s", r.String())
			}
		})
	}
}

// lockRun: two clients take turns on the lock recipe; b takes over when a releases, then
// c when b's session expires.
func lockRun() *fakeZK {
	f := newFakeZK()
	a, b, c := f.connect(0), f.connect(1), f.connect(2)
	f.do(a, create("/lock", ""))
	acquire := func(s int64, node string) {
		i := f.do(s, children("/lock", false))
		f.h.Recipes = append(f.h.Recipes, RecipeEvent{Recipe: "lock /lock", Kind: RecipeAcquired,
			Client: f.clients[s].client, Session: s, Node: node, Zxid: f.h.Ops[i].Zxid, Time: f.now})
	}
	na := f.h.Ops[f.do(a, createMode("/lock/n-", "", wire.ModeEphemeralSequential))].Reply.Path
	nb := f.h.Ops[f.do(b, createMode("/lock/n-", "", wire.ModeEphemeralSequential))].Reply.Path
	nc := f.h.Ops[f.do(c, createMode("/lock/n-", "", wire.ModeEphemeralSequential))].Reply.Path
	acquire(a, na)
	f.do(b, children("/lock", false)) // b waits: a is lower
	rel := f.do(a, del(na, -1))
	f.h.Recipes = append(f.h.Recipes, RecipeEvent{Recipe: "lock /lock", Kind: RecipeReleased,
		Client: 0, Session: a, Node: na, Zxid: f.h.Ops[rel].Zxid, Time: f.now})
	acquire(b, nb)
	f.expire(b)
	acquire(c, nc)
	return f
}

func TestRecipesPass(t *testing.T) {
	f := lockRun()
	requireOK(t, &f.h)
	require.Len(t, f.h.Recipes, 4)
}

func TestRecipeMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(h *History)
	}{
		{"b acquires while a holds", func(h *History) {
			h.Recipes[2].Zxid = h.Recipes[0].Zxid // b claims it at a's acquisition zxid
		}},
		{"c acquires before b's session ended", func(h *History) {
			h.Recipes[3].Zxid = h.Recipes[2].Zxid
		}},
		{"acquired with a znode that does not exist", func(h *History) {
			h.Recipes[0].Node = "/lock/n-0000000042"
		}},
		{"acquired with another session's znode", func(h *History) {
			h.Recipes[3].Node = h.Recipes[2].Node // c claims b's znode while it exists
			h.Recipes[3].Zxid = h.Recipes[2].Zxid
		}},
		{"released without holding", func(h *History) {
			h.Recipes[1].Session = 0x777
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := lockRun().h.clone()
			tc.break_(h)
			requireViolation(t, h, CheckRecipe)
		})
	}
}

// Exclusion is per recipe: a lock and an election held at once are fine; two leaders of
// one election are not.
func TestRecipesAreIndependent(t *testing.T) {
	f := newFakeZK()
	a, b := f.connect(0), f.connect(1)
	f.do(a, create("/lock", ""))
	f.do(a, create("/election", ""))
	na := f.h.Ops[f.do(a, createMode("/lock/n-", "", wire.ModeEphemeralSequential))].Reply.Path
	nb := f.h.Ops[f.do(b, createMode("/election/n-", "", wire.ModeEphemeralSequential))].Reply.Path
	na2 := f.h.Ops[f.do(a, createMode("/election/n-", "", wire.ModeEphemeralSequential))].Reply.Path
	z := f.h.Ops[f.do(a, children("/election", false))].Zxid
	f.h.Recipes = append(f.h.Recipes,
		RecipeEvent{Recipe: "lock /lock", Kind: RecipeAcquired, Session: a, Node: na, Zxid: z},
		RecipeEvent{Recipe: "election /election", Kind: RecipeAcquired, Client: 1, Session: b, Node: nb, Zxid: z})
	requireOK(t, &f.h)

	h := f.h.clone()
	h.Recipes = append(h.Recipes, RecipeEvent{Recipe: "election /election", Kind: RecipeAcquired,
		Session: a, Node: na2, Zxid: z})
	requireViolation(t, h, CheckRecipe)
}
