package node

import (
	"slices"

	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// execute answers a request served by this member alone (FinalRequestProcessor's reads and
// ZooKeeperServer.processPacket's auth), at its turn in the FIFO. It reports false when the
// connection was closed.
func (n *Node) execute(c *conn, req wire.Request) bool {
	h := wire.ReplyHeader{Xid: req.Header.Xid, Zxid: int64(n.lastApplied)}
	op := req.Header.Type
	var body wire.Record
	switch r := req.Body.(type) {
	case nil:
		switch op {
		case wire.OpPing:
		case wire.OpWhoAmI:
			info := make([]wire.ClientInfo, len(c.auth))
			for i, id := range c.auth {
				info[i] = wire.ClientInfo{AuthScheme: id.Scheme, User: whoAmIUser(id)}
			}
			body = &wire.WhoAmIResponse{ClientInfo: info}
		}
	case *wire.AuthPacket:
		return n.auth(c, req.Header.Xid, r)
	case *wire.GetSASLRequest:
		// No SASL configured: Apache ZooKeeper 3.8.0, the reference (conformance/README.md),
		// answers OK with a null token and keeps the connection; the client's SASL
		// negotiation then has nothing to continue with.
		h.Zxid = 0
		body = &wire.SetSASLResponse{}
	case *wire.SyncRequest:
		body = &wire.SyncResponse{Path: r.Path} // only with Bugs.SyncWithoutQuorum: sync is a txn
	case *wire.ReconfigRequest:
		h.Err = wire.ErrReconfigDisabled
	case *wire.SetWatches:
		n.setWatches(c, &wire.SetWatches2{RelativeZxid: r.RelativeZxid, DataWatches: r.DataWatches,
			ExistWatches: r.ExistWatches, ChildWatches: r.ChildWatches})
	case *wire.SetWatches2:
		n.setWatches(c, r)
	case *wire.CheckWatchesRequest:
		h.Err = n.watches.Check(c.session, r.Path, r.Type, false)
	case *wire.RemoveWatchesRequest:
		h.Err = n.watches.Check(c.session, r.Path, r.Type, true)
	case *wire.AddWatchRequest:
		h.Err = n.watches.AddWatch(c.session, r.Path, r.Mode)
		if h.Err == wire.ErrOK {
			body = &wire.ErrorResponse{}
		}
	default:
		body, h.Err = n.tree.Read(op, req.Body, c.session, c.auth)
		if path, watch := readWatch(req.Body); watch {
			n.watches.AfterRead(c.session, op, path, h.Err)
		}
	}
	if h.Err != wire.ErrOK {
		body = nil
	}
	n.emit(ClientSend{Conn: c.id, Frame: wire.AppendReply(nil, op, h, body)})
	return true
}

// readWatch returns the path and watch flag of a read that may set a watch.
func readWatch(body wire.Record) (string, bool) {
	switch r := body.(type) {
	case *wire.ExistsRequest:
		return r.Path, r.Watch
	case *wire.GetDataRequest:
		return r.Path, r.Watch
	case *wire.GetChildrenRequest:
		return r.Path, r.Watch
	case *wire.GetChildren2Request:
		return r.Path, r.Watch
	}
	return "", false
}

// whoAmIUser is the user part whoAmI reports: the digest id's user name, the id otherwise.
func whoAmIUser(id wire.Id) string {
	if id.Scheme == "digest" {
		for i := 0; i < len(id.ID); i++ {
			if id.ID[i] == ':' {
				return id.ID[:i]
			}
		}
	}
	return id.ID
}

// setWatches re-arms a reconnecting client's watches; what it missed fires before the reply.
func (n *Node) setWatches(c *conn, req *wire.SetWatches2) {
	for _, note := range n.watches.SetWatches(n.tree, c.session, req) {
		n.emit(ClientSend{Conn: c.id, Frame: wire.AppendNotification(nil, note.Event)})
	}
}

// auth handles an auth packet (zk-protocol.md §9.5): the reply carries zxid 0; an unknown
// scheme is AuthFailed and the connection closes (the session lives on).
func (n *Node) auth(c *conn, xid int32, p *wire.AuthPacket) bool {
	var ids []wire.Id
	switch p.Scheme {
	case "digest":
		ids = tree.DigestAuth(p.Auth, n.cfg.SuperDigest)
	case "ip":
	default:
		n.emit(ClientSend{Conn: c.id, Frame: wire.AppendReply(nil, wire.OpAuth,
			wire.ReplyHeader{Xid: xid, Err: wire.ErrAuthFailed}, nil)})
		n.closeConn(c, "auth failed: unknown scheme")
		return false
	}
	for _, id := range ids {
		if !slices.Contains(c.auth, id) && len(c.auth) < authIDsMax {
			c.auth = append(c.auth, id)
		}
	}
	// Apache keeps a connection's ids in a hash set: whoAmI and "auth" ACLs see them in its
	// iteration order, which the ids keep from here on.
	tree.SortAuthIDs(c.auth)
	n.emit(ClientSend{Conn: c.id, Frame: wire.AppendReply(nil, wire.OpAuth, wire.ReplyHeader{Xid: xid}, nil)})
	return true
}
