package zab

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClusterNoFaultsElectsAndCommits(t *testing.T) {
	for _, size := range []struct{ voters, observers int }{{1, 0}, {3, 0}, {5, 0}, {7, 0}, {3, 2}} {
		c := newCluster(t, 1, defaultOptions(size.voters, size.observers))
		ticks := c.awaitProgress(50)
		c.run(c.now + 2000)
		c.finish()
		require.NotNil(t, c.leader(), "voters=%d observers=%d: expected an established leader", size.voters, size.observers)
		require.Greater(t, c.stats.delivered, 100, "voters=%d observers=%d: expected many deliveries in 2s", size.voters, size.observers)
		t.Logf("voters=%d observers=%d: first commit everywhere after %d ticks, %d delivered", size.voters, size.observers, ticks, c.stats.delivered)
	}
}
