package tree

import (
	"fmt"

	"github.com/zabkit/zabkit/zab/wire"
)

// outstanding is the leader's view of prepared-but-not-applied changes, ZooKeeper's
// outstandingChanges / outstandingChangesForPath: the latest projected state of every path
// a pending txn touched, and the sessions a pending txn creates or closes. Prepare reads the
// applied tree through it; Apply drops what the tree now reflects; Reset drops everything
// when leadership is lost (the proposals die with the epoch).
type outstanding struct {
	nodes   map[string]change
	closing map[int64]int64 // session → zxid of its prepared closeSession (ZOOKEEPER-1208)
	opened  map[int64]int64 // session → zxid of its prepared createSession
	log     []logEntry      // what each pending zxid touched, in zxid order
	head    int
	zxid    int64 // last prepared zxid
}

type change struct {
	zxid  int64
	state nodeState
}

// logEntry names one path or session a pending txn changed.
type logEntry struct {
	zxid    int64
	path    string
	session int64
	what    entryKind
}

type entryKind uint8

const (
	entryNode entryKind = iota
	entryClosing
	entryOpened
)

// nodeState is what Prepare needs to know about a path: ZooKeeper's ChangeRecord.
type nodeState struct {
	exists      bool
	owner       int64
	version     int32
	aversion    int32
	creates     int32
	numChildren int32
	acl         []wire.ACL
}

func (o *outstanding) init() {
	o.nodes = make(map[string]change)
	o.closing = make(map[int64]int64)
	o.opened = make(map[int64]int64)
	o.log = nil
	o.head = 0
}

// Reset discards every outstanding change: call it when this server stops leading, since
// proposals of a lost epoch may never be applied.
func (t *Tree) Reset() {
	t.pending.init()
	t.pending.zxid = t.lastZxid
}

// Outstanding is the number of path and session changes prepared but not yet applied.
func (t *Tree) Outstanding() int { return len(t.pending.log) - t.pending.head }

// appliedThrough drops every outstanding change made by a txn at or below zxid: the applied
// tree now shows it (FinalRequestProcessor removes outstandingChanges with zxid <= applied).
// A path's record is dropped only if no later pending txn changed it again.
func (o *outstanding) appliedThrough(zxid int64) {
	for o.head < len(o.log) && o.log[o.head].zxid <= zxid {
		e := o.log[o.head]
		o.log[o.head] = logEntry{}
		o.head++
		switch e.what {
		case entryNode:
			if c, ok := o.nodes[e.path]; ok && c.zxid <= zxid {
				delete(o.nodes, e.path)
			}
		case entryClosing:
			if z, ok := o.closing[e.session]; ok && z <= zxid {
				delete(o.closing, e.session)
			}
		case entryOpened:
			if z, ok := o.opened[e.session]; ok && z <= zxid {
				delete(o.opened, e.session)
			}
		}
	}
	if o.head == len(o.log) {
		o.log = o.log[:0]
		o.head = 0
	} else if o.head > 1024 && o.head > len(o.log)/2 {
		o.log = append(o.log[:0], o.log[o.head:]...)
		o.head = 0
	}
}

func (o *outstanding) record(zxid int64, e logEntry) {
	if n := len(o.log); n > o.head && o.log[n-1].zxid > zxid {
		panic(fmt.Sprintf("tree: outstanding change at zxid %#x after one at %#x", zxid, o.log[n-1].zxid))
	}
	e.zxid = zxid
	o.log = append(o.log, e)
}
