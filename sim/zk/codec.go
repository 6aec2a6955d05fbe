package zk

import (
	"fmt"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/wire"
)

// openACL is the ACL of every znode the workload creates: world-readable, as the checker's
// replay assumes (checker.History).
var openACL = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}

// ttlMs is the TTL of every TTL node the workload creates: a few ticks of the slowest
// tick, so the leader reaps them within a run.
const ttlMs = 200

// encodeRequest turns a recorded request into its op code and wire body: the history holds
// exactly what was sent.
func encodeRequest(r checker.Request) (wire.OpCode, wire.Record) {
	switch r.Type {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer:
		return r.Type, &wire.CreateRequest{Path: r.Path, Data: r.Data, ACL: openACL, Flags: r.Mode}
	case wire.OpCreateTTL:
		// The history's Request has no TTL field: every TTL node lives ttlMs (the committed
		// txn, which the checker replays, carries it).
		return r.Type, &wire.CreateTTLRequest{Path: r.Path, Data: r.Data, ACL: openACL, Flags: r.Mode, TTLMs: ttlMs}
	case wire.OpDelete:
		return r.Type, &wire.DeleteRequest{Path: r.Path, Version: r.Version}
	case wire.OpSetData:
		return r.Type, &wire.SetDataRequest{Path: r.Path, Data: r.Data, Version: r.Version}
	case wire.OpExists:
		return r.Type, &wire.ExistsRequest{Path: r.Path, Watch: r.Watch}
	case wire.OpGetData:
		return r.Type, &wire.GetDataRequest{Path: r.Path, Watch: r.Watch}
	case wire.OpGetChildren:
		return r.Type, &wire.GetChildrenRequest{Path: r.Path, Watch: r.Watch}
	case wire.OpGetChildren2:
		return r.Type, &wire.GetChildren2Request{Path: r.Path, Watch: r.Watch}
	case wire.OpSync:
		return r.Type, &wire.SyncRequest{Path: r.Path}
	case wire.OpCheck:
		return r.Type, &wire.CheckVersionRequest{Path: r.Path, Version: r.Version}
	case wire.OpMulti:
		m := &wire.MultiRequest{Ops: make([]wire.MultiOp, len(r.Ops))}
		for i, sub := range r.Ops {
			op, body := encodeRequest(sub)
			m.Ops[i] = wire.MultiOp{Type: op, Body: body}
		}
		return wire.OpMulti, m
	case wire.OpPing, wire.OpCloseSession:
		return r.Type, nil
	case wire.OpAddWatch:
		return r.Type, &wire.AddWatchRequest{Path: r.Path, Mode: r.WatchMode}
	case wire.OpSetWatches:
		return r.Type, &wire.SetWatches{} // the body is built by client.setWatches; decoding needs only the op
	case wire.OpSetWatches2:
		return r.Type, &wire.SetWatches2{}
	case wire.OpSetACL:
		// The history's Request has no ACL field: every setACL sets the open ACL again
		// (it still commits a txn and bumps the aversion), as the checker's replay assumes
		// world-readable znodes.
		return r.Type, &wire.SetACLRequest{Path: r.Path, ACL: openACL, Version: r.Version}
	case wire.OpGetACL:
		return r.Type, &wire.GetACLRequest{Path: r.Path}
	case wire.OpCheckWatches:
		return r.Type, &wire.CheckWatchesRequest{Path: r.Path, Type: r.WatchType}
	case wire.OpRemoveWatches:
		return r.Type, &wire.RemoveWatchesRequest{Path: r.Path, Type: r.WatchType}
	case wire.OpGetEphemerals:
		return r.Type, &wire.GetEphemeralsRequest{PrefixPath: r.Path}
	case wire.OpGetAllChildrenNumber:
		return r.Type, &wire.GetAllChildrenNumberRequest{Path: r.Path}
	case wire.OpMultiRead:
		m := &wire.MultiRequest{Ops: make([]wire.MultiOp, len(r.Ops))}
		for i, sub := range r.Ops {
			op, body := encodeRequest(sub)
			m.Ops[i] = wire.MultiOp{Type: op, Body: body}
		}
		return wire.OpMultiRead, m
	case wire.OpWhoAmI:
		return r.Type, nil
	}
	panic(fmt.Sprintf("zk: the workload made a request of type %d", r.Type))
}

// replyOf converts a successful reply body to the history's form.
func replyOf(body wire.Record) checker.Reply {
	switch b := body.(type) {
	case *wire.CreateResponse:
		return checker.Reply{Path: b.Path}
	case *wire.Create2Response:
		st := b.Stat
		return checker.Reply{Path: b.Path, Stat: &st}
	case *wire.ExistsResponse:
		st := b.Stat
		return checker.Reply{Stat: &st}
	case *wire.GetDataResponse:
		st := b.Stat
		return checker.Reply{Data: nonNilBytes(b.Data), Stat: &st}
	case *wire.SetDataResponse:
		st := b.Stat
		return checker.Reply{Stat: &st}
	case *wire.SetACLResponse:
		st := b.Stat
		return checker.Reply{Stat: &st}
	case *wire.GetACLResponse:
		st := b.Stat
		acl := b.ACL
		if acl == nil {
			acl = []wire.ACL{} // recorded: nil would mean left out, and skip the comparison
		}
		return checker.Reply{ACL: acl, Stat: &st}
	case *wire.GetAllChildrenNumberResponse:
		n := b.TotalNumber
		return checker.Reply{AllChildrenNumber: &n}
	case *wire.GetEphemeralsResponse:
		return checker.Reply{Children: nonNil(b.Ephemerals)}
	case *wire.GetChildrenResponse:
		return checker.Reply{Children: nonNil(b.Children)}
	case *wire.GetChildren2Response:
		st := b.Stat
		return checker.Reply{Children: nonNil(b.Children), Stat: &st}
	case *wire.MultiResponse:
		rep := checker.Reply{Results: make([]checker.Result, len(b.Results))}
		for i, res := range b.Results {
			out := checker.Result{Err: res.Err}
			switch rb := res.Body.(type) {
			case *wire.CreateResponse:
				out.Path = rb.Path
			case *wire.Create2Response:
				st := rb.Stat
				out.Path, out.Stat = rb.Path, &st
			case *wire.SetDataResponse:
				st := rb.Stat
				out.Stat = &st
			case *wire.GetDataResponse: // multiRead
				st := rb.Stat
				out.Data, out.Stat = nonNilBytes(rb.Data), &st
			case *wire.GetChildrenResponse: // multiRead
				out.Children = nonNil(rb.Children)
			}
			rep.Results[i] = out
		}
		return rep
	}
	return checker.Reply{}
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// nonNilBytes keeps empty data recorded: a nil Data is a field the recorder left out.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
