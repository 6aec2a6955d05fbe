package node

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// touchTimes returns, per session, the virtual times at which a member sent the leader a
// touch for it (the test world's send hook sees every member message).
func touchTimes(w *world) map[int64][]zab.Time {
	got := map[int64][]zab.Time{}
	w.drop = func(m Message) bool {
		if m.Kind == KindTouch {
			for _, t := range m.Touches {
				got[t.Session] = append(got[t.Session], w.now)
			}
		}
		return false
	}
	return got
}

// A learner batches touches to the next tick (ZooKeeper's learners answer the leader's
// PING with them), except for short sessions: ZooKeeper's learners report every half tick,
// so a whole tick's batching would halve a 2-tick session's slack. Those go at once.
func TestLearnerSendsShortSessionTouchesAtOnce(t *testing.T) {
	w, _, f := trio(t, 17)
	short := w.dial(f[0].id, 0, nil, 0, 200) // 2 ticks of 100 ms
	long := w.dial(f[0].id, 0, nil, 0, 2000) // 20 ticks
	w.runUntil("both handshakes", 5_000, func() bool { return short.connect != nil && long.connect != nil })
	require.LessOrEqual(t, short.connect.TimeoutMs, int32(shortSessionTicks*100), "the short session negotiated a short timeout")
	require.Greater(t, long.connect.TimeoutMs, int32(shortSessionTicks*100), "the long session negotiated a long timeout")
	got := touchTimes(w)
	for range 8 {
		w.runFor(37)
		// A ping is handled within the current step: what the member sends then is sent at
		// once, a batched touch only at a later tick.
		longBefore, shortBefore := len(got[long.connect.SessionID]), len(got[short.connect.SessionID])
		long.send(wire.OpPing, nil)
		require.Len(t, got[long.connect.SessionID], longBefore,
			"a ping of a %d ms session alone is batched to the next tick, not sent at once at %d (seed 17)", long.connect.TimeoutMs, w.now)
		short.send(wire.OpPing, nil)
		require.Len(t, got[short.connect.SessionID], shortBefore+1,
			"a ping of a %d ms session at %d must be reported to the leader at once (seed 17)", short.connect.TimeoutMs, w.now)
		require.Len(t, got[long.connect.SessionID], longBefore+1, "the batched touch goes along with it")
	}
	w.runFor(200)
	require.NotEmpty(t, got[long.connect.SessionID], "the long session's touches reach the leader at a tick")
}

// A learner with more sessions touched in one tick than a touch message holds sends the
// full batch and starts another, rather than dropping the rest (a dropped touch expires a
// client that pinged on time).
func TestLearnerNeverDropsATouch(t *testing.T) {
	w, _, f := trio(t, 19)
	m := w.member(f[0].id)
	got := touchTimes(w)
	// Touch more sessions than one batch holds directly, as many connected clients would.
	n := touchesBatchMax + 10
	for i := range n {
		m.n.touchLocal(&conn{session: int64(i + 1), timeoutMs: 2000})
	}
	m.n.flushTouches()
	outs := m.n.out
	m.n.out = nil
	for _, o := range outs {
		w.execute(m, o)
	}
	require.Len(t, got, n, "every touched session reaches the leader (batch %d)", touchesBatchMax)
}
