package logwriter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/osfs"
	"github.com/zabkit/zabkit/zab/storage"
)

// TestSnapInstallKeepsLoggedTxnsAboveIt: a SNAP at zxid replaces the history up to it, but
// the txns logged above it stay (zab's sync stream confirms or cuts them), as in sim/zk.
func TestSnapInstallKeepsLoggedTxnsAboveIt(t *testing.T) {
	dir := t.TempDir()
	store := newStore(t, dir, nil)
	w := New(store, Config{})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1), entry(2), entry(3)}}))
	require.NoError(t, w.Submit(Batch{ID: 2, Snapshot: &storage.Snapshot{Zxid: entry(2).Zxid, Data: []byte("state at 2")}}))
	waitDurable(t, w, 2)
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
	rec := recoverDir(t, dir)
	require.True(t, rec.HasSnapshot, "the installed snapshot must be recovered")
	assert.Equal(t, entry(2).Zxid, rec.Snapshot.Zxid)
	assert.Equal(t, []storage.Entry{entry(3)}, rec.Entries, "the txn logged above the SNAP must survive it")
}

// TestSavedSnapshotsArePurgedToTheRetainCount: SaveSnapshot writes in the background, and
// Purge keeps the newest snapshots and the log they need.
func TestSavedSnapshotsArePurgedToTheRetainCount(t *testing.T) {
	dir := t.TempDir()
	fsys, err := osfs.Open(dir)
	require.NoError(t, err)
	store, _, err := storage.Recover(fsys, fsys, storage.Config{Log: storage.LogConfig{SegmentBytesMax: 64}})
	require.NoError(t, err)
	w := New(store, Config{DataFS: fsys})
	for i := 1; i <= 8; i++ {
		require.NoError(t, w.Submit(Batch{ID: uint64(i), Entries: []storage.Entry{entry(i)}}))
		waitDurable(t, w, uint64(i))
		deadline := time.Now().Add(10 * time.Second)
		for !w.SaveSnapshot(entry(i).Zxid, []byte{byte(i)}) {
			require.True(t, time.Now().Before(deadline), "snapshot %d never started: the previous one never finished", i)
			time.Sleep(time.Millisecond)
		}
	}
	for w.Snapshots() < 8 {
		time.Sleep(time.Millisecond)
	}
	w.Purge(3)
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
	names, err := fsys.List()
	require.NoError(t, err)
	snaps := 0
	for _, n := range names {
		if len(n) > 9 && n[:9] == "snapshot." {
			snaps++
		}
	}
	rec := recoverDir(t, dir)
	assert.Equal(t, entry(8).Zxid, rec.Snapshot.Zxid, "the newest snapshot must be recovered")
	assert.Equal(t, 3, snaps, "purge must keep exactly the 3 newest snapshots; files: %v", names)
}
