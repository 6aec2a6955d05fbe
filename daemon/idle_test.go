package daemon

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdleConnectionClosesAfterTheSessionTimeout: a client that goes silent after its
// handshake (no requests, no pings) has its connection closed once its session timeout has
// passed — not before it — while a client that pings keeps its connection.
func TestIdleConnectionClosesAfterTheSessionTimeout(t *testing.T) {
	t.Parallel() // mostly waits on timers: overlaps with the other waiting tests
	e := startEnsemble(t, 1)
	addr := e.Servers[0].ClientAddr().String()
	const timeout = 1000 * time.Millisecond
	idle := dialRaw(t, addr, "idle client", int32(timeout/time.Millisecond))
	busy := dialRaw(t, addr, "pinging client", int32(timeout/time.Millisecond))
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		idle.nc.SetReadDeadline(time.Now().Add(waitMax))
		_, err := idle.fr.Next()
		if err == nil {
			closed <- -1 // a frame: not what an idle client gets
			return
		}
		closed <- time.Since(start)
	}()
	for range 4 { // pings at a third of the timeout, for 1.3 timeouts
		time.Sleep(timeout / 3)
		require.NoError(t, busy.stillOpen(), "a client that pings keeps its connection")
	}
	select {
	case after := <-closed:
		require.NotEqual(t, time.Duration(-1), after, "the idle client got a frame instead of a close")
		assert.GreaterOrEqual(t, after, timeout/2, "closed too early")
		assert.LessOrEqual(t, after, 3*timeout, "closed too late")
		t.Logf("idle connection closed after %v (session timeout %v)", after, timeout)
	case <-time.After(waitMax):
		t.Fatalf("the idle connection was still open %v after its session timeout of %v", waitMax, timeout)
	}
}
