package zk

import (
	"fmt"

	"github.com/zabkit/zabkit/checker"
)

// connectedSample is a client found connected and drained at the start of the quiet end's
// last wait: kept for the history only if the client is still on that connection after it.
type connectedSample struct {
	cl   *client
	conn *clientConn
	rec  checker.ConnectedSession
}

// sampleConnected records, for every client whose connection is open with no request
// outstanding (pings aside), the zxid up to which its server has sent watch events
// (zab/node's LastApplied: a txn reaches it when delivered, after firing its watches).
//
// A paused server (Options.Pauses) is left out: it holds what it received and the sends its
// writer released (pause.go), and its connections are about to time out or catch up when
// it wakes, so what it has sent says nothing final about what it owes. Pauses end before
// the fault phase does, so none is paused here in a run; the rule keeps the sample sound if
// that ever changes.
func (c *Cluster) sampleConnected() []connectedSample {
	var out []connectedSample
	for _, cl := range c.clients {
		cc := cl.conn
		if cc == nil || !cc.open || cl.session == 0 || len(cl.queued) > 0 {
			continue
		}
		busy := false
		for _, k := range cc.pending {
			busy = busy || k.op >= 0
		}
		l := c.server(cc.server).current()
		if busy || l == nil || l.node == nil || l.paused {
			continue
		}
		n := l.node
		out = append(out, connectedSample{cl: cl, conn: cc, rec: checker.ConnectedSession{
			Client: cl.idx, Session: cl.session, Server: cc.server,
			AppliedZxid: int64(n.LastApplied()), Time: int64(c.world.Now())}})
	}
	return out
}

// stillConnected keeps the samples whose client is on the same connection and session now,
// after a wait longer than any message delay: everything the server sent up to the
// sample has arrived.
func stillConnected(samples []connectedSample) []checker.ConnectedSession {
	var out []checker.ConnectedSession
	for _, s := range samples {
		if s.cl.conn == s.conn && s.cl.session == s.rec.Session {
			out = append(out, s.rec)
		}
	}
	return out
}

// replicas records every running server's final ephemerals (checker.ReplicaState).
func (c *Cluster) replicas() []checker.ReplicaState {
	var out []checker.ReplicaState
	for _, s := range c.servers {
		n := s.node()
		if n == nil {
			continue
		}
		t := n.Tree()
		rs := checker.ReplicaState{Server: s.name, Zxid: t.LastZxid()}
		for _, id := range t.Sessions() {
			for _, p := range t.GetEphemerals(id, "/").Ephemerals {
				rs.Ephemerals = append(rs.Ephemerals, checker.Ephemeral{Path: p, Owner: id})
			}
		}
		out = append(out, rs)
	}
	return out
}

// server returns the named server.
func (c *Cluster) server(name string) *server {
	for _, s := range c.servers {
		if s.name == name {
			return s
		}
	}
	panic(fmt.Sprintf("zk: no server %q", name))
}
