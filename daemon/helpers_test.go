package daemon

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/config"
)

// waitMax bounds every wait in these tests.
const waitMax = 20 * time.Second

// testLogger is quiet unless ZABD_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("ZABD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fastTicks makes elections, session expiry and timeouts quick: 100 ms ticks, sessions of
// 0.2 to 4 s, a follower gives up on a silent leader after 1 s (syncLimit): shorter limits
// make a loaded 2-core machine (or -race) see spurious leader changes.
func fastTicks(c *config.Config) {
	c.TickMillis = 100
	c.InitLimitTicks, c.SyncLimitTicks = 10, 10
	c.MinSessionTimeoutMillis = 200
	c.MaxSessionTimeoutMillis = 4000
	c.MaxClientCnxns = 0
}

// startEnsemble starts n members with fast ticks and waits until every one serves.
func startEnsemble(t *testing.T, n int, tune ...func(*config.Config)) *Ensemble {
	t.Helper()
	return startEnsembleWith(t, EnsembleOptions{Servers: n}, tune...)
}

func startEnsembleWith(t *testing.T, o EnsembleOptions, tune ...func(*config.Config)) *Ensemble {
	t.Helper()
	n := o.Servers
	o.Dir, o.Logger = t.TempDir(), testLogger()
	o.Tune = func(c *config.Config) {
		fastTicks(c)
		for _, f := range tune {
			f(c)
		}
	}
	e, err := StartEnsemble(o)
	require.NoError(t, err, "starting a %d-server ensemble", n)
	t.Cleanup(func() { e.Close() })
	waitServing(t, e)
	return e
}

// waitServing waits until every running member serves and one leads.
func waitServing(t *testing.T, e *Ensemble) {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for {
		all := true
		for _, s := range e.Servers {
			if s != nil && !s.Status().Serving {
				all = false
			}
		}
		if all && (len(e.Servers) == 1 || e.Leader() >= 0) {
			return
		}
		if time.Now().After(deadline) {
			var modes []string
			for _, s := range e.Servers {
				if s != nil {
					modes = append(modes, s.Status().Mode)
				}
			}
			t.Fatalf("ensemble not serving after %v: modes %v", waitMax, modes)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// connect opens a go-zookeeper session to addrs and waits until it has a session.
func connect(t *testing.T, addrs []string, timeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, ev, err := zk.Connect(addrs, timeout, zk.WithLogger(quietZK{}))
	require.NoError(t, err, `zk.Connect(addrs, timeout, zk.WithLogger(quietZK{}))`)
	t.Cleanup(c.Close)
	deadline := time.After(waitMax)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c, ev
			}
		case <-deadline:
			t.Fatalf("no session with %v after %v (state %v)", addrs, waitMax, c.State())
		}
	}
}

type quietZK struct{}

func (quietZK) Printf(string, ...any) {}
