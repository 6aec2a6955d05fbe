package checker

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// replayed is what replaying the committed order into a fresh zab/tree taught: the result
// of every txn, the watch triggers at every path, the sessions' lives and every znode's
// lifetime. The read checks run during the replay itself (they need the tree as of each
// zxid); the others query this afterwards.
type replayed struct {
	// complete is false when the replay stopped at a txn that could not apply: later
	// zxids have no known state, so the checks that need one skip them.
	complete bool
	lastZxid int64

	applied map[sessionXid]appliedTxn
	// triggers is every watch trigger in commit order; byPath indexes it per path.
	triggers []trigger
	byPath   map[string][]int
	initial  *tree.Tree // the fresh tree: which paths exist before any txn

	sessionCreated map[int64]int64 // session -> zxid of its createSession
	sessionClosed  map[int64]int64 // session -> zxid of its first closeSession
	lives          map[string][]nodeLife
}

type sessionXid struct {
	session int64
	xid     int32
}

type appliedTxn struct {
	tree.Applied
	txn tree.Txn
}

// trigger is one watch trigger of a committed txn (tree.Applied.Events).
type trigger struct {
	zxid int64
	typ  wire.EventType
	path string
}

// nodeLife is one incarnation of a znode: created at created, deleted at deleted
// (math.MaxInt64 while it lives), owned by owner (0 unless a session ephemeral).
type nodeLife struct {
	created, deleted int64
	owner            int64
}

// replayCommitted replays h.Committed, checking every plain read at its reply zxid on
// the way (reads.go), and the ephemerals each read and each server's final tree show
// (sessions.go).
func replayCommitted(h *History, cfg tree.Config, r *Report) *replayed {
	rp := &replayed{
		applied:        map[sessionXid]appliedTxn{},
		byPath:         map[string][]int{},
		initial:        tree.New(cfg),
		sessionCreated: map[int64]int64{},
		sessionClosed:  map[int64]int64{},
		lives:          map[string][]nodeLife{},
	}
	t := tree.New(cfg)
	reads := readsByZxid(h)
	eph := newEphemeralTracker()
	next := 0 // next read to check
	replicas := replicasByZxid(h)
	nextReplica := 0
	for i, c := range h.Committed {
		for next < len(reads) && reads[next].Zxid < c.Zxid {
			checkRead(t, reads[next], r)
			eph.checkRead(reads[next], r)
			next++
		}
		for ; nextReplica < len(replicas) && replicas[nextReplica].Zxid < c.Zxid; nextReplica++ {
			eph.checkReplica(replicas[nextReplica], r)
		}
		if c.Zxid <= rp.lastZxid {
			r.add(Violation{Check: CheckCommittedOrder,
				Detail: fmt.Sprintf("committed txn %d has zxid %s, not above the previous %s",
					i, formatZxid(c.Zxid), formatZxid(rp.lastZxid)),
				Txns: []CommittedTxn{c}})
			return rp
		}
		eph.before(c, r)
		a, err := applySafely(t, c)
		if err != nil {
			r.add(Violation{Check: CheckCommittedOrder,
				Detail: fmt.Sprintf("committed txn %d does not apply to the replayed tree: %v", i, err),
				Txns:   []CommittedTxn{c}})
			return rp
		}
		rp.lastZxid = c.Zxid
		rp.record(c, a)
		eph.observe(c)
	}
	rp.complete = true
	for ; next < len(reads); next++ {
		checkRead(t, reads[next], r)
		eph.checkRead(reads[next], r)
	}
	for ; nextReplica < len(replicas); nextReplica++ {
		eph.checkReplica(replicas[nextReplica], r)
	}
	return rp
}

// replicasByZxid returns h.Replicas ordered by zxid (stable).
func replicasByZxid(h *History) []ReplicaState {
	rs := slices.Clone(h.Replicas)
	slices.SortStableFunc(rs, func(a, b ReplicaState) int { return cmp.Compare(a.Zxid, b.Zxid) })
	return rs
}

// applySafely applies one txn; zab/tree panics on a txn that cannot apply (its Prepare
// would never have made it), which here is a finding about the history, not a crash.
func applySafely(t *tree.Tree, c CommittedTxn) (a tree.Applied, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	return t.Apply(c.Zxid, c.Txn), nil
}

func (rp *replayed) record(c CommittedTxn, a tree.Applied) {
	key := sessionXid{c.Txn.SessionID, c.Txn.Cxid}
	if _, dup := rp.applied[key]; !dup && c.Txn.Type != wire.OpCreateSession {
		rp.applied[key] = appliedTxn{Applied: a, txn: c.Txn}
	}
	switch c.Txn.Type {
	case wire.OpCreateSession:
		rp.sessionCreated[c.Txn.SessionID] = c.Zxid
	case wire.OpCloseSession:
		if _, ok := rp.sessionClosed[c.Txn.SessionID]; !ok {
			rp.sessionClosed[c.Txn.SessionID] = c.Zxid
		}
	}
	owners := createdOwners(c.Txn)
	for _, e := range a.Events {
		rp.byPath[e.Path] = append(rp.byPath[e.Path], len(rp.triggers))
		rp.triggers = append(rp.triggers, trigger{zxid: c.Zxid, typ: e.Type, path: e.Path})
		switch e.Type {
		case wire.EventNodeCreated:
			rp.lives[e.Path] = append(rp.lives[e.Path],
				nodeLife{created: c.Zxid, deleted: math.MaxInt64, owner: owners[e.Path]})
		case wire.EventNodeDeleted:
			if l := rp.lives[e.Path]; len(l) > 0 {
				l[len(l)-1].deleted = c.Zxid
			}
		}
	}
}

// createdOwners maps each path a txn creates to its session owner (0 if not ephemeral).
func createdOwners(x tree.Txn) map[string]int64 {
	m := map[string]int64{}
	var walk func(x tree.Txn)
	walk = func(x tree.Txn) {
		if isCreate(x.Type) && sessionOwner(x.Owner) {
			m[x.Path] = x.Owner
		}
		for _, s := range x.Ops {
			walk(s)
		}
	}
	walk(x)
	return m
}

// sessionOwner reports whether a raw ephemeralOwner names a session, not the container
// (0x80...) or TTL (0xff...) markers of zab/tree and ZooKeeper's EphemeralType.
func sessionOwner(owner int64) bool {
	return owner != 0 && owner != math.MinInt64 && uint64(owner)>>56 != 0xff
}

// existsAt reports whether path exists once every txn up to zxid is applied.
func (rp *replayed) existsAt(path string, zxid int64) bool {
	exists := false
	if _, err := rp.initial.Exists(path, nil); err == wire.ErrOK {
		exists = true
	}
	for _, i := range rp.byPath[path] {
		tr := rp.triggers[i]
		if tr.zxid > zxid {
			break
		}
		switch tr.typ {
		case wire.EventNodeCreated:
			exists = true
		case wire.EventNodeDeleted:
			exists = false
		}
	}
	return exists
}

// changedIn reports whether path has a trigger of one of types in (after, through].
func (rp *replayed) changedIn(path string, after, through int64, types ...wire.EventType) bool {
	for _, i := range rp.byPath[path] {
		tr := rp.triggers[i]
		if tr.zxid > through {
			break
		}
		if tr.zxid > after && slices.Contains(types, tr.typ) {
			return true
		}
	}
	return false
}

// lifeAt returns the incarnation of path that exists at zxid.
func (rp *replayed) lifeAt(path string, zxid int64) (nodeLife, bool) {
	for _, l := range rp.lives[path] {
		if l.created <= zxid && zxid < l.deleted {
			return l, true
		}
	}
	return nodeLife{}, false
}

// txnAt returns the committed txn with zxid, for reports.
func txnAt(h *History, zxid int64) []CommittedTxn {
	i, ok := slices.BinarySearchFunc(h.Committed, zxid, func(c CommittedTxn, z int64) int {
		switch {
		case c.Zxid < z:
			return -1
		case c.Zxid > z:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return h.Committed[i : i+1]
}

// describeTxn prints a txn on one line.
func describeTxn(x tree.Txn) string {
	switch x.Type {
	case wire.OpCreateSession:
		return fmt.Sprintf("createSession %#x", x.SessionID)
	case wire.OpCloseSession:
		return fmt.Sprintf("closeSession %#x", x.SessionID)
	case wire.OpError:
		return fmt.Sprintf("error %d (session %#x xid %d)", x.Err, x.SessionID, x.Cxid)
	case wire.OpMulti:
		s := fmt.Sprintf("multi (session %#x xid %d):", x.SessionID, x.Cxid)
		for _, sub := range x.Ops {
			s += " " + describeTxn(sub) + ";"
		}
		return s
	}
	return fmt.Sprintf("%s %q data %q version %d owner %#x (session %#x xid %d)",
		opName(x.Type), x.Path, x.Data, x.Version, x.Owner, x.SessionID, x.Cxid)
}
