package checker

import (
	"fmt"
	"slices"

	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// An ephemeral znode lives exactly as long as its session (zab-bugs.md §3 item 10): it can
// only be created by a live session, and the txn that ends the session (closeSession, which
// the leader also proposes on expiry) deletes all of them. Bugs Z08/Z22/Z28-Z31 of
// zab-bugs.md §4.3 break this without any read going wrong at once.

// ephemeralTracker follows the committed order: live sessions and the ephemerals each owns.
type ephemeralTracker struct {
	live   map[int64]bool
	owned  map[string]int64 // ephemeral path -> owner
	closed map[int64]int64  // session -> zxid of the closeSession that ended it
}

func newEphemeralTracker() *ephemeralTracker {
	return &ephemeralTracker{live: map[int64]bool{}, owned: map[string]int64{}, closed: map[int64]int64{}}
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

// observe takes one applied txn; t is the tree after it.
func (e *ephemeralTracker) observe(t *tree.Tree, c CommittedTxn, a tree.Applied, r *Report) {
	for path, owner := range createdOwners(c.Txn) {
		e.owned[path] = owner
	}
	for _, ev := range a.Events {
		if ev.Type == wire.EventNodeDeleted {
			delete(e.owned, ev.Path)
		}
	}
	switch c.Txn.Type {
	case wire.OpCreateSession:
		e.live[c.Txn.SessionID] = true
	case wire.OpCloseSession:
		s := c.Txn.SessionID
		if e.live[s] {
			e.closed[s] = c.Zxid
		}
		delete(e.live, s)
		for _, path := range e.sortedOwned() {
			if e.owned[path] == s {
				r.add(Violation{Check: CheckEphemeral,
					Detail: fmt.Sprintf("ephemeral %q of session %#x outlives the txn closing the session", path, s),
					Txns:   []CommittedTxn{c}})
				delete(e.owned, path)
			}
		}
	}
}

// finish checks the final state: every remaining ephemeral belongs to a live session, and
// the tree agrees with the tracker on each.
func (e *ephemeralTracker) finish(t *tree.Tree, r *Report) {
	for _, path := range e.sortedOwned() {
		owner := e.owned[path]
		res, err := t.Exists(path, nil)
		switch {
		case err != wire.ErrOK:
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("ephemeral %q of session %#x vanished without a delete", path, owner)})
		case res.Stat.EphemeralOwner != owner:
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("ephemeral %q is owned by %#x, created for %#x", path, res.Stat.EphemeralOwner, owner)})
		case !e.live[owner]:
			r.add(Violation{Check: CheckEphemeral,
				Detail: fmt.Sprintf("ephemeral %q outlives its session %#x", path, owner)})
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
