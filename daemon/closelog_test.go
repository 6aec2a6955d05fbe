package daemon

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/wire"
)

// syncBuffer is a log sink several goroutines write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// linesWith returns the log lines containing every one of parts.
func linesWith(log string, parts ...string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// TestMalformedPacketCloseIsLoggedAtTheDefaultLevel: the issue asks that a malformed packet
// close that connection only, with a log line; at the default level (INFO) an operator must
// see it, with the reason and the client's address. Ordinary closes stay at DEBUG.
func TestMalformedPacketCloseIsLoggedAtTheDefaultLevel(t *testing.T) {
	var sink syncBuffer
	e, err := StartEnsemble(EnsembleOptions{Servers: 1, Dir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(&sink, nil)), Tune: fastTicks})
	require.NoError(t, err, "starting a standalone server")
	t.Cleanup(func() { e.Close() })
	waitServing(t, e)
	addr := e.Servers[0].ClientAddr().String()

	bad := dialRaw(t, addr, "malformed client", 4000)
	_, err = bad.nc.Write([]byte{0, 0, 0, 3, 1, 2, 3}) // a 3-byte request: no header
	require.NoError(t, err, "sending the malformed request")
	bad.nc.SetReadDeadline(time.Now().Add(waitMax))
	_, err = bad.fr.Next()
	require.Error(t, err, "the server must close the connection of a malformed request")

	good := dialRaw(t, addr, "well-behaved client", 4000)
	require.NoError(t, good.stillOpen(), "the other connection is unaffected")
	_, err = good.nc.Write(wire.AppendRequest(nil, wire.RequestHeader{Xid: 1, Type: wire.OpCloseSession}, nil))
	require.NoError(t, err, "closing the good session")
	_, err = good.fr.Next()
	require.NoError(t, err, "closeSession reply")

	local := bad.nc.LocalAddr().String()
	require.Eventually(t, func() bool {
		return len(linesWith(sink.String(), "level=WARN", `reason="undecodable request"`, local)) == 1
	}, waitMax, 10*time.Millisecond, "want one WARN line with the reason and the client's address %s; log:\n%s", local, sink.String())
	assert.Empty(t, linesWith(sink.String(), "session closed by the client"), "an ordinary close is logged below INFO")
}

func TestCloseLevels(t *testing.T) {
	for _, tc := range []struct {
		reason string
		want   slog.Level
	}{
		{"session closed by the client", slog.LevelDebug},
		{"session resumed on another connection", slog.LevelDebug},
		{"undecodable request", slog.LevelWarn},
		{"malformed ConnectRequest", slog.LevelWarn},
		{"frame too large", slog.LevelWarn},
		{"too many pending requests", slog.LevelWarn},
		{"leader refused request: session moved", slog.LevelWarn},
		{"auth failed: unknown scheme", slog.LevelWarn},
		{"handshake timed out", slog.LevelInfo},
		{"forwarded request timed out", slog.LevelInfo},
		{"session expired", slog.LevelInfo},
		{"server stopped serving: LOOKING", slog.LevelInfo},
	} {
		assert.Equal(t, tc.want, closeLevel(tc.reason), "level of a close for %q", tc.reason)
	}
}

// TestCloseLogIsRateLimited: a burst of closes logs closeLogBurst lines, then one line per
// refill that says how many were dropped.
func TestCloseLogIsRateLimited(t *testing.T) {
	var l logLimiter
	t0 := time.Unix(1000, 0)
	logged := 0
	for range 100 {
		if ok, _ := l.allow(t0); ok {
			logged++
		}
	}
	assert.Equal(t, closeLogBurst, logged, "a burst logs closeLogBurst lines")
	ok, dropped := l.allow(t0.Add(time.Second / closeLogPerSecond))
	assert.True(t, ok, "a line passes once a token is back")
	assert.Equal(t, 100-closeLogBurst, dropped, "and it reports the lines dropped")
}
