package conformance

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zabkit/zabkit/zab/wire"
)

// treeNodesMax bounds the nodes readTree lists under a run's prefix.
const treeNodesMax = 500

// RunThenKillLeader runs steps on an ensemble target whose Members[0] is the leader and,
// before the tear-down, kills the leader (kill) and records the outcomes of the failover that
// do not depend on timing: the tree under the prefix before the kill and after the survivors
// took over (ZooKeeper keeps every acknowledged write and nothing else: the two must be
// equal), and whether each session the sequence opened resumes on a survivor (a live one
// does; one that was closed or expired is refused). The sessions are long (a connect asking
// for 2 s or less asks for 60 s instead), so none can expire while the survivors elect a
// leader. Notifications already sent before the kill are read first (a sync of each
// connected session). The tear-down then closes the resumed sessions.
func RunThenKillLeader(target Target, prefix string, steps []Step, kill func()) *Transcript {
	long := make([]Step, len(steps))
	for i, s := range steps {
		if s.Kind == StepConnect && s.TimeoutMs <= shortSessionMsMax {
			s.TimeoutMs = 60000
		}
		long[i] = s
	}
	return run(target, prefix, long, func(r *runner) { r.killLeader(kill) })
}

// TreeBeforeKill and TreeAfterFailover are the What of RunThenKillLeader's two tree
// observations; their Note holds the tree.
const (
	TreeBeforeKill    = "the tree under ~ before the leader is killed"
	TreeAfterFailover = "the tree under ~ after the failover"
)

func (r *runner) killLeader(kill func()) {
	for i := range sessionsMax {
		ss := r.sessions[i]
		if ss == nil || ss.conn == nil {
			continue
		}
		if evs, ok := r.syncBarrier(i, ss); ok && len(evs) > 0 {
			r.record(Observation{Session: i, What: "before the leader is killed", Exchange: &Exchange{Outcome: Replied, Events: evs}, Note: "notifications"})
		}
	}
	r.record(Observation{Session: -1, What: TreeBeforeKill, Note: r.readTree()})
	kill()
	gone := "it refuses connections"
	if c, hs := Dial(r.t.Target.Members[0], wire.ConnectRequest{TimeoutMs: 30000, Passwd: make([]byte, 16)}); c != nil || hs.Outcome != NotConnected {
		gone = "it still answers: " + hs.Outcome.String()
		if c != nil {
			c.Close()
		}
	}
	r.record(Observation{Session: -1, What: "the leader is killed", Note: gone})
	for i := range sessionsMax {
		ss := r.sessions[i]
		if ss == nil || ss.id == 0 {
			continue
		}
		if ss.conn != nil {
			ss.conn.Close()
			ss.conn = nil
		}
		r.record(Observation{Session: i, What: fmt.Sprintf("resume %s on a survivor", sessionName(i, ss.generation)), Note: r.resumeOnSurvivor(ss)})
	}
	r.record(Observation{Session: -1, What: TreeAfterFailover, Note: r.readTree()})
}

// survivors are the members other than the killed leader (Members[0]).
func (r *runner) survivors() []string { return r.t.Target.Members[1:] }

// resumeOnSurvivor resumes a session on the first survivor that serves it within
// resumeWaitMax and reports the outcome.
func (r *runner) resumeOnSurvivor(ss *session) string {
	req := wire.ConnectRequest{LastZxidSeen: ss.lastZxid, TimeoutMs: ss.requestedMs, SessionID: ss.id,
		Passwd: append([]byte(nil), ss.passwd...), HasReadOnly: ss.readOnlyByte}
	deadline := time.Now().Add(resumeWaitMax)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		addr := r.survivors()[attempt%len(r.survivors())]
		c, hs := Dial(addr, req)
		switch {
		case c != nil && hs.Response.SessionID != 0:
			ss.conn, ss.negotiatedMs = c, hs.Response.TimeoutMs
			c.StartPinger(time.Duration(ss.negotiatedMs) * time.Millisecond / 3)
			return "resumed"
		case c != nil:
			c.Close()
			return "refused: invalid session (closed or expired before the kill)"
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Sprintf("no survivor took it within %v", resumeWaitMax)
}

// readTree lists the nodes under the run's prefix as one line, in path order: data, version,
// cversion, aversion and ephemeral owner (by session name) of each, read through a fresh
// session on a survivor after a sync. A node whose data or children the reader may not read
// says so.
func (r *runner) readTree() string {
	deadline := time.Now().Add(resumeWaitMax)
	var c *Conn
	for attempt := 0; c == nil && time.Now().Before(deadline); attempt++ {
		var hs Handshake
		c, hs = Dial(r.survivors()[attempt%len(r.survivors())], wire.ConnectRequest{TimeoutMs: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
		if c != nil && hs.Response.SessionID == 0 {
			c.Close()
			c = nil
		}
		if c == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if c == nil {
		return fmt.Sprintf("no survivor served a reader within %v", resumeWaitMax)
	}
	defer c.Close()
	xid := int32(0)
	call := func(op wire.OpCode, body wire.Record) Exchange {
		xid++
		return c.Call(xid, op, wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: op}, body))
	}
	if ex := call(wire.OpSync, &wire.SyncRequest{Path: r.t.Prefix}); ex.Outcome != Replied {
		return "the reader's sync: " + ex.Outcome.String()
	}
	var nodes []string
	queue := []string{r.t.Prefix}
	for len(queue) > 0 && len(nodes) < treeNodesMax {
		path := queue[0]
		queue = queue[1:]
		name := "~" + strings.TrimPrefix(path, r.t.Prefix)
		ex := call(wire.OpGetData, &wire.GetDataRequest{Path: path})
		switch {
		case ex.Outcome != Replied:
			return fmt.Sprintf("reading %s: %s", name, ex.Outcome)
		case ex.Reply.Header.Err != wire.ErrOK:
			nodes = append(nodes, fmt.Sprintf("%s %s", name, errName(ex.Reply.Header.Err)))
		default:
			d := ex.Reply.Body.(*wire.GetDataResponse)
			owner := "0"
			if d.Stat.EphemeralOwner != 0 {
				owner = "unknown-session"
				if n, ok := r.t.SessionIDs[d.Stat.EphemeralOwner]; ok {
					owner = n
				}
			}
			nodes = append(nodes, fmt.Sprintf("%s data=%s version=%d cversion=%d aversion=%d owner=%s", name, data(d.Data),
				d.Stat.Version, d.Stat.Cversion, d.Stat.Aversion, owner))
		}
		ex = call(wire.OpGetChildren, &wire.GetChildrenRequest{Path: path})
		if ex.Outcome != Replied {
			return fmt.Sprintf("listing %s: %s", name, ex.Outcome)
		}
		if ex.Reply.Header.Err != wire.ErrOK {
			nodes = append(nodes, fmt.Sprintf("%s children: %s", name, errName(ex.Reply.Header.Err)))
			continue
		}
		children := ex.Reply.Body.(*wire.GetChildrenResponse).Children
		sort.Strings(children)
		for _, child := range children {
			queue = append(queue, strings.TrimSuffix(path, "/")+"/"+child)
		}
	}
	call(wire.OpCloseSession, nil)
	sort.Strings(nodes)
	return "[" + strings.Join(nodes, "; ") + "]"
}
