package checker

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
)

// randomRun drives the fake server with a seeded random mix of every op the checks know,
// over a few paths so that ops collide: creates of every mode, version-checked sets and
// deletes, multis, reads with and without watches, syncs, persistent watches, watch
// removals, dropped
// connections (changes go on meanwhile), reconnects with setWatches (some losing the reply
// after a few replays), and session expiries with fresh sessions taking over.
func randomRun(seed uint64, steps int) *fakeZK {
	rng := &splitmix{s: seed}
	f := newFakeZK()
	paths := []string{"/a", "/b", "/a/x", "/a/y", "/b/z"}
	var sessions []int64
	for c := range 4 {
		sessions = append(sessions, f.connect(c))
	}
	pick := func(s []string) string { return s[rng.intn(len(s))] }
	away := map[int64]bool{} // sessions whose connection dropped: their watches are gone
	value := 0
	val := func() string { value++; return fmt.Sprintf("v%d", value) }
	version := func() int32 { return int32(rng.intn(4)) - 1 }
	for range steps {
		c := rng.intn(len(sessions))
		s := sessions[c]
		p := pick(paths)
		if away[s] && rng.intn(3) > 0 {
			continue // still disconnected; the others carry on
		}
		if away[s] && rng.intn(3) == 0 {
			f.reconnectLost(s, rng.intn(3)) // some replays arrive, the reply does not
			continue
		}
		if away[s] {
			delete(away, s)
			f.reconnect(s)
		}
		switch rng.intn(17) {
		case 0, 1:
			mode := []wire.CreateMode{wire.ModePersistent, wire.ModeEphemeral, wire.ModePersistentSequential,
				wire.ModeEphemeralSequential}[rng.intn(4)]
			f.do(s, createMode(p, val(), mode))
		case 2, 3:
			f.do(s, setData(p, val(), version()))
		case 4:
			f.do(s, del(p, version()))
		case 5:
			f.do(s, multi(setData(p, val(), version()), createMode(pick(paths), val(), wire.ModePersistent),
				checkVersion(pick(paths), version())))
		case 6, 7:
			f.do(s, getData(p, rng.intn(2) == 0))
		case 8:
			f.do(s, exists(p, rng.intn(2) == 0))
		case 9:
			f.do(s, children(pick([]string{"/", "/a", "/b"}), rng.intn(2) == 0))
		case 10:
			f.do(s, syncOp("/"))
			f.do(s, getData(p, false))
		case 11:
			f.do(s, addWatch(p, wire.AddWatchMode(rng.intn(2))))
		case 12:
			if rng.intn(2) == 0 {
				f.reconnect(s)
			} else {
				f.w.RemoveSession(s) // the connection drops; changes go unnoticed until it is back
				away[s] = true
			}
		case 13:
			if rng.intn(4) == 0 {
				f.expire(s)
				sessions[c] = f.connect(f.clients[s].client)
			}
		case 16:
			// Never on a path the session watches persistently: what a reconnect re-arms
			// of a persistent watch cut to one table depends on the client library.
			if fc := f.clients[s]; !fc.persistent[p] && !fc.persistentRecur[p] {
				f.do(s, removeWatches(p, wire.WatcherType(1+rng.intn(3))))
			}
		default:
			f.do(s, Request{Type: wire.OpGetChildren2, Path: pick([]string{"/", "/a"}), Watch: rng.intn(2) == 0})
		}
	}
	for _, s := range sortedSessions(away) {
		f.reconnect(s) // every connection is back at the end
	}
	return f
}

// The checks raise no false alarm on correct histories: random runs of the fake server
// (zab/tree with its real watch manager) must pass. ZABKIT_SEED=n runs only seed n.
func TestRandomCorrectHistoriesPass(t *testing.T) {
	seeds := []uint64{}
	for s := range uint64(40) {
		seeds = append(seeds, s+1)
	}
	if env := os.Getenv("ZABKIT_SEED"); env != "" {
		s, err := strconv.ParseUint(env, 10, 64)
		if err != nil {
			t.Fatalf("ZABKIT_SEED=%q is not a number", env)
		}
		seeds = []uint64{s}
	}
	lostReplays := 0
	for _, seed := range seeds {
		f := randomRun(seed, 300)
		f.finish()
		r := Check(&f.h, Config{VisualizationDir: t.TempDir()})
		if !r.OK() {
			t.Fatalf("seed %d: a correct history failed (replay: ZABKIT_SEED=%d go test ./checker -run TestRandomCorrectHistoriesPass):\n%s",
				seed, seed, r.String())
		}
		for _, e := range f.h.Events {
			if replayOfLostSetWatches(&f.h, e) {
				lostReplays++
			}
		}
	}
	if len(seeds) > 1 {
		require.Positive(t, lostReplays, "no random run replayed an event for a setWatches whose reply was then lost")
	}
}

// Single-field mutations of random correct histories are caught: a dropped watch event of
// a session that lives on (unless a reconnect follows it: a reconnect may lose it
// legitimately), a read's data, a write's reply zxid. A dropped event is revealed either by
// a later reply of its session (every live session reads once more at the end) or, with no
// such reply, by the record that the session was still connected at the end.
func TestRandomMutationsAreCaught(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		for _, revealedBy := range []string{"a last reply", "the end of the run"} {
			f := randomRun(seed, 200)
			live := map[int64]bool{}
			for id := range f.clients {
				live[id] = true
			}
			for _, e := range f.h.Sessions {
				if e.Kind == SessionExpired {
					delete(live, e.Session)
				}
			}
			if revealedBy == "a last reply" {
				for _, id := range sortedSessions(live) {
					f.do(id, exists("/", false)) // a reply past every trigger
				}
			} else {
				f.finish()
			}
			requireOK(t, &f.h)
			for i, e := range f.h.Events {
				if !live[e.Session] || nextIsSetWatches(&f.h, e) {
					// Lost with its connection, legitimately: a persistent watch's event pending
					// at a disconnect is never replayed, nor is a replay whose reply was lost.
					continue
				}
				h := f.h.clone()
				h.Events = slices.Delete(h.Events, i, i+1)
				r := Check(h, Config{VisualizationDir: t.TempDir()})
				require.Contains(t, r.Failed(), CheckWatchDelivered, "seed %d: dropping event %v went unnoticed (revealed by %s)",
					seed, e, revealedBy)
			}
		}
		f := randomRun(seed, 200)
		for i, o := range f.h.Ops {
			h := f.h.clone()
			switch {
			case o.Type == wire.OpGetData && o.Err == wire.ErrOK:
				h.Ops[i].Reply.Data = append(slices.Clone(o.Reply.Data), '!')
				requireViolation(t, h, CheckReadState)
			case isWrite(o.Type) && o.Type != wire.OpCloseSession:
				h.Ops[i].Zxid--
				requireViolation(t, h, CheckWriteReply)
			}
		}
	}
}

// replayOfLostSetWatches reports whether e arrived while a setWatches of its session was
// outstanding and then failed with ConnectionLoss.
func replayOfLostSetWatches(h *History, e WatchEvent) bool {
	return slices.ContainsFunc(h.Ops, func(o Op) bool {
		return isSetWatches(o.Type) && o.Err == wire.ErrConnectionLoss && o.Session == e.Session &&
			e.Time >= o.Call && e.Time <= o.Return
	})
}

// nextIsSetWatches reports whether the first request e's session sent after the reply e
// follows is a setWatches: the event came just before (or during) a reconnect.
func nextIsSetWatches(h *History, e WatchEvent) bool {
	var next *Op
	for i := range h.Ops {
		if o := &h.Ops[i]; o.Session == e.Session && o.Xid > e.AfterXid && (next == nil || o.Xid < next.Xid) {
			next = o
		}
	}
	return next != nil && isSetWatches(next.Type)
}

func sortedSessions(m map[int64]bool) []int64 {
	var ids []int64
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
