package daemon

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/config"
)

// TestAutopurgeRemovesOldSnapshots: with autopurge.purgeInterval set, the server purges on
// its own, down to autopurge.snapRetainCount snapshots and the log they need, even when it
// takes no snapshot itself (the store's own retention only runs when it takes one). A first
// run keeps ten snapshots; restarted with snapRetainCount=3 and no writes, the purge loop
// alone brings them down to three.
func TestAutopurgeRemovesOldSnapshots(t *testing.T) {
	t.Parallel() // mostly waits on timers: overlaps with the other waiting tests
	dir := t.TempDir()
	cfg := config.Default()
	fastTicks(&cfg)
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.DataLogDir = cfg.DataDir
	cfg.ClientAddr = "127.0.0.1:0"
	cfg.SnapCount = 20
	cfg.SnapRetainCount = 10
	s, err := Start(Options{Config: cfg, Logger: testLogger()})
	require.NoError(t, err, "first run")
	c, _ := connect(t, []string{s.ClientAddr().String()}, 2*time.Second)
	snapshots := func() []string {
		names, err := filepath.Glob(filepath.Join(cfg.DataDir, "snapshot.*"))
		require.NoError(t, err, "listing snapshots")
		return names
	}
	deadline := time.Now().Add(waitMax)
	for i := 0; len(snapshots()) < 8; i++ {
		require.True(t, time.Now().Before(deadline), "only %d snapshots after %d writes", len(snapshots()), i)
		_, err := c.Create("/p"+strconv.Itoa(i), nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err, "create /p%d", i)
	}
	c.Close()
	require.NoError(t, s.Close(), "first run's graceful stop")
	before := len(snapshots())

	cfg.SnapRetainCount = 3
	cfg.PurgeIntervalHours = 1
	s, err = Start(Options{Config: cfg, Logger: testLogger(), purgeEvery: 50 * time.Millisecond})
	require.NoError(t, err, "second run")
	defer s.Close()
	deadline = time.Now().Add(waitMax)
	for len(snapshots()) > 3 {
		require.True(t, time.Now().Before(deadline), "%d snapshots %v after a restart with snapRetainCount=3 and autopurge on (%d before)",
			len(snapshots()), waitMax, before)
		time.Sleep(20 * time.Millisecond)
	}
	require.Len(t, snapshots(), 3, "autopurge keeps snapRetainCount snapshots")
	require.True(t, s.Status().Serving, "the server serves after the purge")
}
