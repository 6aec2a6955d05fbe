package conformance

import (
	"fmt"
	"time"

	"github.com/zabkit/zabkit/zab/wire"
)

// RunSessionMoved is the SessionMoved scenario on an ensemble (zk-protocol.md §13): a session
// opened on member from creates a node, is resumed on member to while its first connection
// stays open, and then reads and writes through the old connection. ZooKeeper 3.8.0's leader
// refuses the old connection's write (SessionMovedException) and that member closes the
// connection instead of answering -118 (ZOOKEEPER-710); the node keeps its version. It returns
// one line per observation, with nothing timing-dependent in them, so two ensembles can be
// compared line by line.
// resumeRetriesMax bounds RunSessionMoved's retries of the resume on a lagging member.
const resumeRetriesMax = 30

func RunSessionMoved(members []string, from, to int, prefix string) []string {
	var lines []string
	note := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	outcome := func(ex Exchange) string {
		if ex.Outcome != Replied {
			return ex.Outcome.String()
		}
		s := fmt.Sprintf("replied %s", errName(ex.Reply.Header.Err))
		if r, ok := ex.Reply.Body.(*wire.GetDataResponse); ok && ex.Reply.Header.Err == wire.ErrOK {
			s += fmt.Sprintf(" data=%q version=%d", r.Data, r.Stat.Version)
		}
		return s
	}
	acl := ACLs["open"]
	old, hs := Dial(members[from], wire.ConnectRequest{TimeoutMs: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
	note("open a session on member %d: %s", from, hs.Outcome)
	if old == nil {
		return lines
	}
	defer old.Close()
	old.StartPinger(5 * time.Second)
	xid := int32(0)
	call := func(c *Conn, op wire.OpCode, body wire.Record) Exchange {
		xid++
		return c.Call(xid, op, wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: op}, body))
	}
	node := prefix + "/m"
	note("create the prefix: %s", outcome(call(old, wire.OpCreate, &wire.CreateRequest{Path: prefix, ACL: acl})))
	created := call(old, wire.OpCreate, &wire.CreateRequest{Path: node, Data: []byte("v0"), ACL: acl})
	note("create %s: %s", "~/m", outcome(created))

	resume := wire.ConnectRequest{TimeoutMs: 30000, SessionID: hs.Response.SessionID, Passwd: hs.Response.Passwd,
		LastZxidSeen: created.Reply.Header.Zxid, HasReadOnly: true}
	// A follower that has not applied the create yet refuses a client that has seen it
	// (lastZxidSeen ahead: closed without reply); a real client tries again.
	moved, hs2 := Dial(members[to], resume)
	for i := 0; moved == nil && hs2.Outcome == ClosedSilent && i < resumeRetriesMax; i++ {
		time.Sleep(100 * time.Millisecond)
		moved, hs2 = Dial(members[to], resume)
	}
	note("resume it on member %d: %s, same session %t", to, hs2.Outcome, hs2.Outcome == Replied && hs2.Response.SessionID == hs.Response.SessionID)
	if moved == nil {
		return lines
	}
	defer moved.Close()
	moved.StartPinger(5 * time.Second)

	note("write through the old connection: %s", outcome(call(old, wire.OpSetData, &wire.SetDataRequest{Path: node, Data: []byte("stale"), Version: -1})))
	closed, _, _ := old.WaitClosed(closeWaitMax)
	note("old connection closed by the server: %t", closed)
	call(moved, wire.OpSync, &wire.SyncRequest{Path: prefix})
	note("read through the new connection: %s", outcome(call(moved, wire.OpGetData, &wire.GetDataRequest{Path: node})))
	note("write through the new connection: %s", outcome(call(moved, wire.OpSetData, &wire.SetDataRequest{Path: node, Data: []byte("v1"), Version: -1})))
	note("close the session: %s", outcome(call(moved, wire.OpCloseSession, nil)))
	return lines
}
