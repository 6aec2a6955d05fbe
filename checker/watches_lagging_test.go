package checker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// lagged records a reply w got from a server that has not applied the fake's latest txns,
// at zxid: the fake is one server at its last zxid, so the lagging server's part of the
// history is written here by hand, as a recorder would have written it.
func (f *fakeZK) lagged(session int64, q Request, zxid int64, err wire.Err, reply Reply) int {
	c := f.clients[session]
	c.xid++
	o := Op{Client: c.client, Session: session, Xid: c.xid, Call: f.now, Request: q,
		Err: err, Zxid: zxid, Reply: reply}
	o.Return = f.now + 1
	f.now += 2
	c.lastXid, c.lastZxid = o.Xid, o.Zxid
	f.h.Ops = append(f.h.Ops, o)
	return len(f.h.Ops) - 1
}

// laggedEvent records an event the lagging server sent w as it applied a txn.
func (f *fakeZK) laggedEvent(session int64, typ wire.EventType, path string) {
	c := f.clients[session]
	f.h.Events = append(f.h.Events, WatchEvent{Client: c.client, Session: session, Type: typ, Path: path,
		LastZxid: c.lastZxid, AfterXid: c.lastXid, Time: f.now})
	f.now++
}

// laggingDeleteWorkload is the shape of scenarios seed 91 (-kind=lockexpiry), found by the
// audit of issue 5: w's data watch on /a fires NodeDeleted on its server s1; w's connection
// drops, and it reconnects to s3, which has not applied the delete (allowed: a notification
// leaves the client's last zxid alone, ClientCnxn.readResponse in ZooKeeper 3.8.0 returns
// for NOTIFICATION_XID before it updates lastZxid, so the handshake's lastZxidSeen is the
// getData reply's). /a still exists there, w sets a new watch on it, and s3's apply of the
// delete fires that watch: a second NodeDeleted(/a), for a registration made before the
// delete on the server that fired it. With other, held watches, w re-arms them with
// setWatches first (holdOther).
func laggingDeleteWorkload(holdOther bool) *fakeZK {
	f := newFakeZK()
	m, w := f.connect(0), f.connect(1)
	f.do(m, create("/a", "a0"))
	if holdOther {
		f.do(m, create("/b", "b0"))
		f.do(w, getData("/b", true))
	}
	armed := f.h.Ops[f.do(w, getData("/a", true))]
	at := armed.Zxid       // s3's state: everything before the delete
	f.do(m, del("/a", -1)) // s1 applies it and tells w
	f.w.RemoveSession(w)   // w's connection to s1 drops
	if holdOther {
		f.lagged(w, Request{Type: wire.OpSetWatches}, at, wire.ErrOK, Reply{}) // nothing due at s3
	}
	f.lagged(w, exists("/a", true), at, wire.ErrOK, Reply{Stat: armed.Reply.Stat})
	f.laggedEvent(w, wire.EventNodeDeleted, "/a") // s3 applies the delete
	f.do(w, exists("/a", false))                  // s3 caught up with the fake
	return f
}

// laggingPersistentWorkload: w's persistent watch on /p is told of a setData by s1; w
// reconnects to s3, behind it, and re-registers the watch there with setWatches2 (nothing
// to replay: persistent watches have none); s3's apply of the same setData fires it again.
func laggingPersistentWorkload() *fakeZK {
	f := newFakeZK()
	m, w := f.connect(0), f.connect(1)
	f.do(m, create("/p", "p0"))
	at := f.h.Ops[f.do(w, addWatch("/p", wire.AddWatchPersistent))].Zxid
	f.do(m, setData("/p", "p1", -1)) // s1 tells w
	f.w.RemoveSession(w)
	f.lagged(w, Request{Type: wire.OpSetWatches2}, at, wire.ErrOK, Reply{})
	f.laggedEvent(w, wire.EventNodeDataChanged, "/p") // s3 applies the setData
	f.do(w, exists("/p", false))
	return f
}

// A watch fires for the first triggering txn after the state it was set on (the zxid of
// the reply that set it), whatever the session was told before: a watch set on a lagging
// server fires for a txn an earlier event already announced.
func TestWatchSetOnALaggingServerPasses(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *fakeZK
		want []string
	}{
		{"no watch held: no setWatches", laggingDeleteWorkload(false),
			[]string{"NodeDeleted /a", "NodeDeleted /a"}},
		{"another watch held: setWatches first", laggingDeleteWorkload(true),
			[]string{"NodeDeleted /a", "NodeDeleted /a"}},
		{"persistent watch re-registered", laggingPersistentWorkload(),
			[]string{"NodeDataChanged /p", "NodeDataChanged /p"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireOK(t, &tc.f.h)
			var got []string
			for _, e := range tc.f.h.Events {
				got = append(got, eventName(e.Type)+" "+e.Path)
			}
			require.Equal(t, tc.want, got, "the same txn is told twice, once by each server")
		})
	}
}

// The lagging-server histories broken: a second event with no registration behind it, a
// one-shot watch firing twice on the same server, and an event the lagging server owed.
func TestWatchSetOnALaggingServerMutationsFail(t *testing.T) {
	lastEvent := func(h *History) int { return len(h.Events) - 1 }
	for _, tc := range []struct {
		name   string
		f      func() *fakeZK
		check  string
		break_ func(h *History)
	}{
		{"the new registration fires twice", func() *fakeZK { return laggingDeleteWorkload(false) }, CheckWatchOneShot,
			func(h *History) { h.Events = append(h.Events, h.Events[lastEvent(h)]) }},
		{"no new registration on the lagging server", func() *fakeZK { return laggingDeleteWorkload(false) }, CheckWatchOneShot,
			func(h *History) {
				i := slices.IndexFunc(h.Ops, func(o Op) bool { return o.Type == wire.OpExists && o.Watch })
				h.Ops[i].Watch = false
			}},
		{"the first registration fires twice on s1", func() *fakeZK { return laggingDeleteWorkload(false) }, CheckWatchOneShot,
			func(h *History) {
				h.Events[1].AfterXid, h.Events[1].LastZxid = h.Events[0].AfterXid, h.Events[0].LastZxid
				h.Events[1].Time = h.Events[0].Time
			}},
		// Holding /b's watch, w would have re-armed it on any new connection: with no
		// setWatches, the exists reply came on the connection that told the delete, from
		// a server past it, and the second event is a double fire.
		{"a reply below the told txn without a reconnect", func() *fakeZK { return laggingDeleteWorkload(true) }, CheckWatchOneShot,
			func(h *History) {
				h.Ops = slices.DeleteFunc(h.Ops, func(o Op) bool { return o.Type == wire.OpSetWatches })
			}},
		{"the lagging server loses the new watch's event", func() *fakeZK { return laggingDeleteWorkload(true) }, CheckWatchDelivered,
			func(h *History) { h.Events = slices.Delete(h.Events, lastEvent(h), lastEvent(h)+1) }},
		{"the lagging server loses the persistent watch's event", laggingPersistentWorkload, CheckWatchDelivered,
			func(h *History) { h.Events = slices.Delete(h.Events, lastEvent(h), lastEvent(h)+1) }},
		{"the persistent watch fires three times", laggingPersistentWorkload, CheckWatchOneShot,
			func(h *History) { h.Events = append(h.Events, h.Events[lastEvent(h)]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.f().h.clone()
			tc.break_(h)
			requireViolation(t, h, tc.check)
		})
	}
}
