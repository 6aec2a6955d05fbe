package checker

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// An ephemeral znode lives exactly as long as its session (zab-bugs.md §3 item 10): it can
// only be created by a live session, and the txn that ends the session (closeSession, which
// the leader also proposes on expiry) deletes all of them. Bugs Z08/Z22/Z28-Z31 of
// zab-bugs.md §4.3 break this without any read going wrong at once, and a bug in zab/tree's
// own close would be shared by the replay the read checks compare with. So the ephemerals
// are followed here from the committed txns alone, not from the replayed tree, and judged
// against what the servers showed: every read's reply (an ephemeral of a dead session, or a
// live session's ephemeral missing) and the servers' final trees (History.Replicas).

// ephemeralTracker follows the committed order: live sessions and the ephemerals each owns.
type ephemeralTracker struct {
	live     map[int64]bool
	owned    map[string]int64           // ephemeral path -> owner
	byParent map[string]map[string]bool // parent path -> names of its ephemeral children
	ended    map[int64]int64            // session -> zxid of the closeSession that ended it
}

func newEphemeralTracker() *ephemeralTracker {
	return &ephemeralTracker{live: map[int64]bool{}, owned: map[string]int64{},
		byParent: map[string]map[string]bool{}, ended: map[int64]int64{}}
}

// before checks a txn about to apply: each ephemeral it creates belongs to a live session
// (zab/tree itself refuses an unknown owner, so this must run first to name the problem).
func (e *ephemeralTracker) before(c CommittedTxn, r *Report) {
	owners := createdOwners(c.Txn)
	paths := make([]string, 0, len(owners))
	for p := range owners {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, path := range paths {
		if owner := owners[path]; !e.live[owner] {
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("ephemeral %q created for session %#x, which is not live", path, owner),
				Txns:   []CommittedTxn{c}})
		}
	}
}

// observe takes one applied txn, from the txn alone: sessions start and end, ephemerals
// are created and deleted, and a session's end deletes every ephemeral it owns. A failed
// write or multi is an OpError txn (or a multi of OpError subs) and changes nothing.
func (e *ephemeralTracker) observe(c CommittedTxn) {
	x := c.Txn
	switch x.Type {
	case wire.OpCreateSession:
		e.live[x.SessionID] = true
	case wire.OpCloseSession:
		if e.live[x.SessionID] {
			e.ended[x.SessionID] = c.Zxid
		}
		delete(e.live, x.SessionID)
		for path, owner := range e.owned {
			if owner == x.SessionID {
				e.forget(path)
			}
		}
	case wire.OpMulti:
		for _, sub := range x.Ops {
			e.change(sub)
		}
	default:
		e.change(x)
	}
}

// change applies one create or delete (of a txn or a multi's sub-txn).
func (e *ephemeralTracker) change(x tree.Txn) {
	switch {
	case isCreate(x.Type) && sessionOwner(x.Owner):
		e.owned[x.Path] = x.Owner
		parent, name := splitPath(x.Path)
		if e.byParent[parent] == nil {
			e.byParent[parent] = map[string]bool{}
		}
		e.byParent[parent][name] = true
	case x.Type == wire.OpDelete || x.Type == wire.OpDeleteContainer:
		e.forget(x.Path)
	}
}

func (e *ephemeralTracker) forget(path string) {
	if _, ok := e.owned[path]; !ok {
		return
	}
	delete(e.owned, path)
	parent, name := splitPath(path)
	delete(e.byParent[parent], name)
	if len(e.byParent[parent]) == 0 {
		delete(e.byParent, parent)
	}
}

// ownerSays describes what the committed order says of a session that owns no ephemeral at
// path now, for reports.
func (e *ephemeralTracker) ownerSays(owner int64) string {
	switch {
	case e.live[owner]:
		return "live, but the committed order has no ephemeral of it there"
	case e.ended[owner] != 0:
		return "ended by the closeSession at " + formatZxid(e.ended[owner])
	}
	return "never created by the committed order"
}

// checkRead judges a plain read at its reply zxid (the tracker is at that zxid): a stat
// naming a session as the znode's owner must match the ephemeral the order says is there,
// a live session's ephemeral cannot be missing, and a listing cannot leave one out.
func (e *ephemeralTracker) checkRead(o *Op, r *Report) {
	switch o.Type {
	case wire.OpExists, wire.OpGetData, wire.OpGetChildren, wire.OpGetChildren2:
	default:
		return // the other reads are compared with the whole tree only (checkRead)
	}
	owner := e.owned[o.Path]
	if o.Err == wire.ErrNoNode {
		if owner != 0 {
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("read at zxid %s misses %q, the ephemeral of session %#x, live then",
					formatZxid(o.Zxid), o.Path, owner),
				Ops: []Op{*o}})
		}
		return
	}
	if got := o.Reply.Stat; got != nil && got.EphemeralOwner != owner && (sessionOwner(got.EphemeralOwner) || owner != 0) {
		r.add(Violation{Check: CheckEphemeral,
			Detail: fmt.Sprintf("read at zxid %s shows %q owned by %#x; the committed order has it %s",
				formatZxid(o.Zxid), o.Path, got.EphemeralOwner, e.describe(o.Path, got.EphemeralOwner)),
			Ops: []Op{*o}})
	}
	if o.Type != wire.OpGetChildren && o.Type != wire.OpGetChildren2 {
		return
	}
	kids := e.byParent[o.Path]
	names := make([]string, 0, len(kids))
	for name := range kids {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(o.Reply.Children, name) {
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("listing at zxid %s leaves out %q, the ephemeral of session %#x, live then",
					formatZxid(o.Zxid), name, e.owned[joinPath(o.Path, name)]),
				Ops: []Op{*o}})
		}
	}
}

// describe says what the committed order has at path, for a server that showed owner.
func (e *ephemeralTracker) describe(path string, owner int64) string {
	if want := e.owned[path]; want != 0 {
		return fmt.Sprintf("as the ephemeral of session %#x", want)
	}
	return fmt.Sprintf("as no ephemeral, and session %#x %s", owner, e.ownerSays(owner))
}

// checkReplica compares a server's final ephemerals with the tracker at the server's zxid:
// the same set of (path, owner).
func (e *ephemeralTracker) checkReplica(s ReplicaState, r *Report) {
	held := map[string]int64{}
	for _, x := range s.Ephemerals {
		held[x.Path] = x.Owner
	}
	paths := make([]string, 0, len(held))
	for p := range held {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, path := range paths {
		if owner := held[path]; e.owned[path] != owner {
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("server %s at zxid %s holds %q as an ephemeral of session %#x; the committed order has it %s",
					s.Server, formatZxid(s.Zxid), path, owner, e.describe(path, owner))})
		}
	}
	for _, path := range e.sortedOwned() {
		if _, ok := held[path]; !ok {
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("server %s at zxid %s lacks %q, the ephemeral of session %#x, live then",
					s.Server, formatZxid(s.Zxid), path, e.owned[path])})
		}
	}
}

func (e *ephemeralTracker) sortedOwned() []string {
	paths := make([]string, 0, len(e.owned))
	for p := range e.owned {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}

func joinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// splitPath splits a znode path into its parent and last name ("/a/b" -> "/a", "b").
func splitPath(path string) (parent, name string) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", path // not a path: the replay refuses it before it gets here
	}
	if i == 0 {
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}

// checkSessions checks the session ends the clients saw against the committed order: an
// established session was created by a committed txn, an expired or closed one was ended
// by one, and no write of a session is acknowledged after the txn that ended it.
func checkSessions(h *History, rp *replayed, r *Report) {
	for _, ev := range h.Sessions {
		switch ev.Kind {
		case SessionEstablished:
			if _, ok := rp.sessionCreated[ev.Session]; !ok && rp.complete {
				r.add(Violation{Check: CheckSessionEnd,
					Detail: fmt.Sprintf("session %#x was established but no createSession was committed (%v)",
						ev.Session, ev)})
			}
		case SessionExpired, SessionClosed:
			if _, ok := rp.sessionClosed[ev.Session]; !ok && rp.complete {
				r.add(Violation{Check: CheckSessionEnd,
					Detail: fmt.Sprintf("session %#x ended for its client but no closeSession was committed (%v)",
						ev.Session, ev)})
			}
		}
	}
	for i := range h.Ops {
		o := &h.Ops[i]
		end, ended := rp.sessionClosed[o.Session]
		if !ended || !isWrite(o.Type) || o.Type == wire.OpCloseSession || o.outcomeUnknown() ||
			o.Err != wire.ErrOK || o.Zxid <= end {
			continue
		}
		r.add(Violation{Check: CheckSessionEnd,
			Detail: fmt.Sprintf("write acknowledged at zxid %s after its session ended at %s",
				formatZxid(o.Zxid), formatZxid(end)),
			Ops: []Op{*o}, Txns: txnAt(h, end)})
	}
}
