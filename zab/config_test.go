package zab

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewPeerRejectsBadConfigAndState(t *testing.T) {
	good := func() Config {
		return Config{ID: 1, Voters: []PeerID{1, 2, 3}, TickMillis: 10, InitLimitTicks: 10, SyncLimitTicks: 5,
			Rand: splitRand{rand.New(rand.NewPCG(1, 1))}, StateMachine: &register{}}
	}
	tests := []struct {
		name string
		cfg  func(*Config)
		rec  Recovered
		want string
	}{
		{"no voters", func(c *Config) { c.Voters = nil }, Recovered{}, "no voters"},
		{"duplicate server", func(c *Config) { c.Observers = []PeerID{3} }, Recovered{}, "listed twice"},
		{"own id missing", func(c *Config) { c.ID = 9 }, Recovered{}, "neither a voter nor an observer"},
		{"zero tick", func(c *Config) { c.TickMillis = 0 }, Recovered{}, "must be positive"},
		{"no rand", func(c *Config) { c.Rand = nil }, Recovered{}, "needs Rand"},
		{"negative limit", func(c *Config) { c.DiffTxnsMax = -1 }, Recovered{}, "negative limit"},
		{"currentEpoch above acceptedEpoch", func(*Config) {}, Recovered{AcceptedEpoch: 1, CurrentEpoch: 2}, "currentEpoch 2 > acceptedEpoch 1"},
		{"log not increasing", func(*Config) {}, Recovered{Log: txns(zx(1, 2), zx(1, 1))}, "not increasing"},
		{"log at or below the snapshot", func(*Config) {}, Recovered{SnapshotZxid: zx(1, 2), Log: txns(zx(1, 2))}, "not increasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good()
			tt.cfg(&cfg)
			_, err := NewPeer(cfg, tt.rec)
			require.ErrorContains(t, err, tt.want)
		})
	}
	p, err := NewPeer(good(), Recovered{AcceptedEpoch: 2, CurrentEpoch: 1, SnapshotZxid: zx(1, 1), Log: txns(zx(1, 2))})
	require.NoError(t, err)
	require.Equal(t, zx(1, 2), p.LastLogged())
	require.Equal(t, zx(1, 1), p.Committed(), "a restarted peer has applied only its snapshot")
	require.Equal(t, Time(0), p.NextDeadline(), "a new peer wants its first tick at once")
}

func TestHandlePanicsWhenTimeGoesBackwards(t *testing.T) {
	p := newTestPeer(t, 1, Recovered{})
	p.Handle(10, Tick{})
	require.Panics(t, func() { p.Handle(9, Tick{}) }, "the host clock must be monotonic")
}
