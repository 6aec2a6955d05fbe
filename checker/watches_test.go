package checker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// watchWorkload: session w watches in every way while session m changes things, and w
// reconnects once with watches pending.
func watchWorkload() *fakeZK {
	f := newFakeZK()
	m, w := f.connect(0), f.connect(1)
	f.do(m, create("/x", "x0"))
	f.do(w, getData("/x", true))  // standard data watch
	f.do(w, exists("/y", true))   // exist watch
	f.do(w, children("/x", true)) // child watch
	f.do(w, addWatch("/p", wire.AddWatchPersistent))
	f.do(w, addWatch("/r", wire.AddWatchPersistentRecursive))
	f.do(m, setData("/x", "x1", -1))   // fires the data watch
	f.do(m, setData("/x", "x2", -1))   // one-shot: fires nothing
	f.do(m, create("/y", "y0"))        // fires the exist watch
	f.do(m, create("/x/c", ""))        // fires the child watch
	f.do(m, create("/p", "p0"))        // persistent: every change at /p
	f.do(m, setData("/p", "p1", -1))   //
	f.do(m, create("/p/q", ""))        // persistent: NodeChildrenChanged(/p)
	f.do(m, create("/r", ""))          // recursive: /r and below, no children events
	f.do(m, create("/r/s", ""))        //
	f.do(m, setData("/r/s", "s1", -1)) //
	f.do(w, getData("/x", true))       // re-arm the data watch (w sees all events first)
	f.do(w, exists("/z", true))        // an exist watch that will be missed
	f.reconnect(w)                     // nothing changed yet: everything re-armed
	f.w.RemoveSession(w)               // disconnected again
	f.do(m, setData("/x", "x3", -1))   // missed while disconnected: replayed
	f.do(m, create("/z", ""))          // exist watch: created and deleted while away,
	f.do(m, del("/z", -1))             // legitimately missed
	f.do(m, setData("/p", "p2", -1))   // persistent: missed, no replay
	f.reconnect(w)                     //
	f.do(w, exists("/x", false))       // a reply past everything
	f.do(m, setData("/p", "p3", -1))   // persistent again after the reconnect
	f.do(m, create("/z", "again"))     // the re-armed exist watch fires
	f.do(w, exists("/x", false))       //
	return f
}

func TestWatchWorkloadPasses(t *testing.T) {
	f := watchWorkload()
	requireOK(t, &f.h)
	var types []wire.EventType
	for _, e := range f.h.Events {
		types = append(types, e.Type)
	}
	require.Len(t, f.h.Events, 12, "events of the watch workload: %v", f.h.Events)
	require.Contains(t, types, wire.EventNodeChildrenChanged)
}

func eventIndex(h *History, typ wire.EventType, path string) int {
	return slices.IndexFunc(h.Events, func(e WatchEvent) bool { return e.Type == typ && e.Path == path })
}

func TestWatchMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		break_ func(h *History)
	}{
		{"one-shot watch fires twice", CheckWatchOneShot, func(h *History) {
			i := eventIndex(h, wire.EventNodeDataChanged, "/x")
			h.Events = slices.Insert(h.Events, i+1, h.Events[i])
		}},
		{"wrong event type", CheckWatchOneShot, func(h *History) {
			h.Events[eventIndex(h, wire.EventNodeCreated, "/y")].Type = wire.EventNodeDataChanged
		}},
		{"wrong path", CheckWatchOneShot, func(h *History) {
			h.Events[eventIndex(h, wire.EventNodeCreated, "/y")].Path = "/w"
		}},
		{"event without a watch", CheckWatchOneShot, func(h *History) {
			e := h.Events[0]
			e.Path, e.Type = "/nobody/watches", wire.EventNodeCreated
			h.Events = append(h.Events, e)
		}},
		{"standard event lost", CheckWatchDelivered, func(h *History) {
			h.Events = slices.Delete(h.Events, 0, 1)
		}},
		{"persistent event lost", CheckWatchDelivered, func(h *History) {
			i := eventIndex(h, wire.EventNodeDataChanged, "/p")
			h.Events = slices.Delete(h.Events, i, i+1)
		}},
		{"recursive event lost", CheckWatchDelivered, func(h *History) {
			i := eventIndex(h, wire.EventNodeDataChanged, "/r/s")
			h.Events = slices.Delete(h.Events, i, i+1)
		}},
		{"event after a reply past its txn", CheckWatchDelivered, func(h *History) {
			// The first event moves behind the watcher's later getData re-arm reply.
			e := h.Events[0]
			h.Events = h.Events[1:]
			for _, o := range h.Ops {
				if o.Session == e.Session && o.Type == wire.OpGetData && o.Xid > e.AfterXid {
					e.AfterXid, e.LastZxid = o.Xid, o.Zxid
					break
				}
			}
			h.Events = append(h.Events, e)
		}},
		{"events out of zxid order", CheckWatchDelivered, func(h *History) {
			i := eventIndex(h, wire.EventNodeCreated, "/p")
			j := eventIndex(h, wire.EventNodeDataChanged, "/p")
			h.Events[i].Type, h.Events[j].Type = h.Events[j].Type, h.Events[i].Type
		}},
		{"setWatches replay missing", CheckWatchDelivered, func(h *History) {
			i := slices.IndexFunc(h.Events, func(e WatchEvent) bool {
				return e.Type == wire.EventNodeDataChanged && e.Path == "/x" && e.Time > h.Events[0].Time+20
			})
			h.Events = slices.Delete(h.Events, i, i+1)
		}},
		{"replay of a missed exist watch", CheckWatchOneShot, func(h *History) {
			// A replayed NodeCreated for /z: it was created and deleted while away.
			i := slices.IndexFunc(h.Events, func(e WatchEvent) bool {
				return e.Type == wire.EventNodeDataChanged && e.Path == "/x" && e.Time > h.Events[0].Time+20
			})
			e := h.Events[i]
			e.Type, e.Path = wire.EventNodeCreated, "/z"
			h.Events = slices.Insert(h.Events, i+1, e)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := watchWorkload().h.clone()
			tc.break_(h)
			requireViolation(t, h, tc.check)
		})
	}
}

// lostReplayWorkload: w's setWatches is applied and replays one of two due events, then
// its reply is lost; the next setWatches owes only the other (zk-protocol.md §8.6: the
// client consumed the first, so it no longer sends that watch).
func lostReplayWorkload() *fakeZK {
	f := newFakeZK()
	m, w := f.connect(0), f.connect(1)
	f.do(m, create("/a", "a0"))
	f.do(m, create("/b", "b0"))
	f.do(w, getData("/a", true))
	f.do(w, getData("/b", true))
	f.do(w, exists("/z", true))
	f.w.RemoveSession(w)             // disconnected
	f.do(m, setData("/b", "b1", -1)) // due: DataChanged(/b)
	f.do(m, setData("/a", "a1", -1)) // due: DataChanged(/a), replayed first (path order)
	f.do(m, create("/z", ""))        // exist watch: created and deleted while away, missed
	f.do(m, del("/z", -1))           // (though a lagging server may replay it)
	f.reconnectLost(w, 1)            // DataChanged(/a) arrives, the rest is lost
	f.do(m, setData("/a", "a2", -1)) // no watch on /a any more: no event
	f.reconnect(w)                   // replays DataChanged(/b) only
	f.do(w, exists("/a", false))     // a reply past everything
	return f
}

// A setWatches whose reply is lost may still have been applied: the events it replayed
// are neither ordinary triggers nor owed again by the next setWatches.
func TestLostSetWatchesReplaysPass(t *testing.T) {
	f := lostReplayWorkload()
	requireOK(t, &f.h)
	require.Len(t, f.h.Events, 2, "one replay before the lost reply, one at the next setWatches: %v", f.h.Events)
	lost := f.h.Ops[slices.IndexFunc(f.h.Ops, func(o Op) bool { return o.Err == wire.ErrConnectionLoss })]
	require.Equal(t, wire.OpSetWatches2, lost.Type)
	require.True(t, f.h.Events[0].Time >= lost.Call && f.h.Events[0].Time <= lost.Return,
		"the first replay arrives while the lost setWatches is outstanding: %v, %v", f.h.Events[0], lost)
}

func TestLostSetWatchesMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		break_ func(h *History)
	}{
		{"a lost setWatches replays twice", CheckWatchOneShot, func(h *History) {
			h.Events = slices.Insert(h.Events, 1, h.Events[0])
		}},
		{"a lost setWatches replays a path nobody watches", CheckWatchOneShot, func(h *History) {
			e := h.Events[0]
			e.Type, e.Path = wire.EventNodeCreated, "/nobody"
			h.Events = slices.Insert(h.Events, 1, e)
		}},
		{"a lost setWatches replays the wrong type", CheckWatchOneShot, func(h *History) {
			h.Events[0].Type = wire.EventNodeDeleted
		}},
		{"the next setWatches misses the rest", CheckWatchDelivered, func(h *History) {
			h.Events = h.Events[:1]
		}},
		{"the next setWatches replays the consumed watch again", CheckWatchOneShot, func(h *History) {
			e := h.Events[1]
			e.Path = "/a"
			h.Events = append(h.Events, e)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := lostReplayWorkload().h.clone()
			tc.break_(h)
			requireViolation(t, h, tc.check)
		})
	}
}

// endWorkload: w's last reply arms watches; the triggers come afterwards, and w never
// replies again. Only the end of the run can tell whether w got its events.
func endWorkload() (f *fakeZK, m, w int64) {
	f = newFakeZK()
	m, w = f.connect(0), f.connect(1)
	f.do(m, create("/x", "x0"))
	f.do(w, addWatch("/p", wire.AddWatchPersistent))
	f.do(w, getData("/x", true))
	f.do(m, create("/p", ""))        // fires w's persistent watch
	f.do(m, setData("/x", "x1", -1)) // fires w's data watch
	f.do(m, setData("/x", "x2", -1)) // one-shot: fires nothing
	return f, m, w
}

// An event owed after the session's last reply is never lost while the session lives: the
// record that the session was still connected and drained at the end reveals it (audit of
// issue 5: before, such a loss passed).
func TestWatchEventLostAfterLastReplyFails(t *testing.T) {
	dropped := func(h *History, w int64, typ wire.EventType) *History {
		h = h.clone()
		h.Events = slices.DeleteFunc(h.Events, func(e WatchEvent) bool { return e.Session == w && e.Type == typ })
		return h
	}
	t.Run("correct history passes", func(t *testing.T) {
		f, _, w := endWorkload()
		f.finish()
		requireOK(t, &f.h)
		require.Len(t, f.h.Events, 2, "w's data and persistent events: %v", f.h.Events)
		require.Len(t, f.h.Connected, 2, "both sessions are connected at the end: %v", f.h.Connected)
		require.True(t, slices.ContainsFunc(f.h.Connected, func(c ConnectedSession) bool { return c.Session == w }))
	})
	for _, tc := range []struct {
		name string
		typs []wire.EventType
	}{
		{"standard event lost", []wire.EventType{wire.EventNodeDataChanged}},
		{"persistent and standard events lost", []wire.EventType{wire.EventNodeCreated, wire.EventNodeDataChanged}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, w := endWorkload()
			f.finish()
			h := &f.h
			for _, typ := range tc.typs {
				h = dropped(h, w, typ)
			}
			r := requireViolation(t, h, CheckWatchDelivered)
			require.Contains(t, r.String(), "by the end of the run", "the violation names the end of the run")
		})
	}
	t.Run("replies after the sample pass", func(t *testing.T) {
		f, m, w := endWorkload()
		f.finish()
		f.do(m, setData("/x", "x3", -1)) // w's data watch was consumed: no event
		f.do(w, exists("/x", false))     // both sessions now past the sampled zxid
		requireOK(t, &f.h)
	})
	t.Run("an event revealed lost by a later one is reported once", func(t *testing.T) {
		f, _, w := endWorkload()
		f.finish()
		r := requireViolation(t, dropped(&f.h, w, wire.EventNodeCreated), CheckWatchDelivered)
		require.Len(t, r.Violations, 1, "the later NodeDataChanged reports the lost NodeCreated; the end does not again:\n%s", r.String())
	})
	// Where the history cannot tell a lost event from one in flight, the check stays
	// silent rather than guess.
	for _, tc := range []struct {
		name string
		end  func(f *fakeZK, m, w int64)
	}{
		{"no end record", func(f *fakeZK, m, w int64) {}},
		{"w disconnected at the end", func(f *fakeZK, m, w int64) { f.finish(w) }},
		{"w's server had not applied the triggers", func(f *fakeZK, m, w int64) {
			f.finish()
			for i := range f.h.Connected {
				if f.h.Connected[i].Session == w {
					f.h.Connected[i].AppliedZxid = f.h.Ops[2].Zxid // w's getData reply
				}
			}
		}},
		{"w expired", func(f *fakeZK, m, w int64) {
			f.expire(w)
			f.finish()
			// Even if a recorder kept w as connected, its watches died with it.
			f.h.Connected = append(f.h.Connected, ConnectedSession{Client: 1, Session: w, Server: "fake",
				AppliedZxid: f.t.LastZxid(), Time: f.now})
		}},
		{"w's last setWatches lost", func(f *fakeZK, m, w int64) {
			f.reconnectLost(w, 0)
			f.finish()
		}},
	} {
		t.Run(tc.name+" passes", func(t *testing.T) {
			f, m, w := endWorkload()
			tc.end(f, m, w)
			h := dropped(dropped(&f.h, w, wire.EventNodeDataChanged), w, wire.EventNodeCreated)
			require.Empty(t, slices.DeleteFunc(h.Events, func(e WatchEvent) bool { return e.Session != w }),
				"every event of w is dropped")
			requireOK(t, h)
		})
	}
	for _, tc := range []struct {
		name   string
		break_ func(h *History)
	}{
		{"a session connected twice at the end", func(h *History) {
			h.Connected = append(h.Connected, h.Connected[len(h.Connected)-1])
		}},
		{"a server behind the session's own zxid", func(h *History) {
			for i := range h.Connected {
				h.Connected[i].AppliedZxid = h.Ops[0].Zxid - 1
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, _ := endWorkload()
			f.finish()
			h := f.h.clone()
			tc.break_(h)
			requireViolation(t, h, CheckMalformed)
		})
	}
}

// The audit's sketch: create /x, a data watch from w, setData twice, w's NodeDataChanged
// deleted: Check must fail once the history says w was still connected at the end.
func TestAuditLostWatchAtEnd(t *testing.T) {
	f := newFakeZK()
	m, w := f.connect(0), f.connect(1)
	f.do(m, create("/x", "x0"))
	f.do(w, getData("/x", true))
	f.do(m, setData("/x", "x1", -1)) // fires w's data watch
	f.do(m, setData("/x", "x2", -1))
	f.finish()
	n := len(f.h.Events)
	f.h.Events = slices.DeleteFunc(f.h.Events, func(e WatchEvent) bool {
		return e.Session == w && e.Type == wire.EventNodeDataChanged
	})
	require.Equal(t, n-1, len(f.h.Events), "exactly w's NodeDataChanged is deleted")
	requireViolation(t, &f.h, CheckWatchDelivered)
}

// removeWorkload: w removes one type of its watches on paths watched in several ways; the
// server drops only that table's entries, so what remains still fires.
func removeWorkload() *fakeZK {
	f := newFakeZK()
	m, w := f.connect(0), f.connect(1)
	f.do(m, create("/x", ""))
	f.do(m, create("/p", ""))
	f.do(m, create("/r", ""))
	f.do(w, getData("/x", true))
	f.do(w, children("/x", true))
	f.do(w, removeWatches("/x", wire.WatcherData))
	f.do(m, setData("/x", "x1", -1)) // the data watch is gone: nothing
	f.do(m, create("/x/c", ""))      // the child watch fires
	f.do(w, addWatch("/p", wire.AddWatchPersistent))
	f.do(w, removeWatches("/p", wire.WatcherData))
	f.do(m, setData("/p", "p1", -1)) // the data half is gone: nothing
	f.do(m, create("/p/q", ""))      // the child half fires NodeChildrenChanged(/p)
	f.do(w, addWatch("/r", wire.AddWatchPersistentRecursive))
	f.do(w, removeWatches("/r", wire.WatcherData))
	f.do(m, create("/r/s", "")) // the child half of a recursive watch: no NodeCreated
	f.do(m, del("/r/s", -1))    // but NodeDeleted(/r/s)
	f.do(w, removeWatches("/p", wire.WatcherAny))
	f.do(m, del("/p/q", -1)) // nothing left on /p
	f.do(w, exists("/", false))
	return f
}

func TestRemoveWatchesPasses(t *testing.T) {
	f := removeWorkload()
	requireOK(t, &f.h)
	var got []string
	for _, e := range f.h.Events {
		got = append(got, eventName(e.Type)+" "+e.Path)
	}
	require.Equal(t, []string{"NodeChildrenChanged /x", "NodeChildrenChanged /p", "NodeDeleted /r/s"}, got,
		"the server fires what removeWatches left")
}

func TestRemoveWatchesMutationsFail(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		break_ func(h *History)
	}{
		{"event of a removed standard watch", CheckWatchOneShot, func(h *History) {
			e := h.Events[0]
			e.Type = wire.EventNodeDataChanged
			h.Events = slices.Insert(h.Events, 0, e)
		}},
		{"event of a persistent watch's removed half", CheckWatchOneShot, func(h *History) {
			e := h.Events[1]
			e.Type = wire.EventNodeDataChanged
			h.Events = slices.Insert(h.Events, 1, e)
		}},
		{"the remaining half of a persistent watch lost", CheckWatchDelivered, func(h *History) {
			h.Events = slices.Delete(h.Events, 1, 2)
		}},
		{"the remaining half of a recursive watch lost", CheckWatchDelivered, func(h *History) {
			h.Events = slices.Delete(h.Events, 2, 3)
		}},
		{"event of a persistent watch removed whole", CheckWatchOneShot, func(h *History) {
			e := h.Events[1]
			h.Events = append(h.Events, e) // NodeChildrenChanged(/p) for the delete of /p/q
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := removeWorkload().h.clone()
			tc.break_(h)
			requireViolation(t, h, tc.check)
		})
	}
}

// A recursive watch on the root sees every create, delete and data change in the tree,
// and never NodeChildrenChanged.
func TestRecursiveWatchOnRoot(t *testing.T) {
	run := func() *fakeZK {
		f := newFakeZK()
		m, w := f.connect(0), f.connect(1)
		f.do(w, addWatch("/", wire.AddWatchPersistentRecursive))
		f.do(m, create("/a", ""))
		f.do(m, setData("/a", "a1", -1))
		f.do(m, create("/a/b", ""))
		f.do(m, del("/a/b", -1))
		f.do(w, exists("/", false))
		return f
	}
	f := run()
	requireOK(t, &f.h)
	require.Len(t, f.h.Events, 4, "created, changed, created, deleted: %v", f.h.Events)
	h := f.h.clone()
	h.Events = slices.Delete(h.Events, 2, 3)
	requireViolation(t, h, CheckWatchDelivered)
	h = f.h.clone()
	e := h.Events[0]
	e.Type, e.Path = wire.EventNodeChildrenChanged, "/"
	h.Events = slices.Insert(h.Events, 1, e)
	requireViolation(t, h, CheckWatchOneShot)
}

// A NodeDeleted replayed by a setWatches whose reply is lost consumes both of the path's
// watches: the next setWatches owes nothing for it.
func TestLostSetWatchesReplayedDelete(t *testing.T) {
	run := func() (*fakeZK, int64) {
		f := newFakeZK()
		m, w := f.connect(0), f.connect(1)
		f.do(m, create("/d", ""))
		f.do(w, getData("/d", true))
		f.do(w, children("/d", true))
		f.w.RemoveSession(w) // disconnected
		f.do(m, del("/d", -1))
		f.reconnectLost(w, 1) // NodeDeleted(/d) arrives, the reply is lost
		f.reconnect(w)        // nothing left to replay
		f.do(w, exists("/", false))
		return f, w
	}
	f, w := run()
	requireOK(t, &f.h)
	require.Len(t, f.h.Events, 1, "one NodeDeleted, replayed once: %v", f.h.Events)
	h := f.h.clone()
	e := h.Events[0]
	// The second setWatches replays it again: the watches it would answer were consumed.
	for _, o := range h.Ops {
		if o.Session == w && o.Type == wire.OpSetWatches2 && o.Err == wire.ErrOK {
			e.Time = o.Call
		}
	}
	h.Events = append(h.Events, e)
	requireViolation(t, h, CheckWatchOneShot)
}
