package logwriter

import (
	"strings"
	"sync/atomic"
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

// gateFS holds the first snapshot file created in it until released: a periodic snapshot
// caught in the middle of its write.
type gateFS struct {
	storage.FS
	held    atomic.Bool // the gate has caught its snapshot; later ones pass
	entered chan struct{}
	release chan struct{}
}

func (g *gateFS) Create(name string) (storage.File, error) {
	if strings.HasPrefix(name, "snapshot.") && g.held.CompareAndSwap(false, true) {
		close(g.entered)
		<-g.release
	}
	return g.FS.Create(name)
}

// TestSnapWaitsForThePeriodicSnapshotInFlight: a SNAP at the very zxid of a periodic
// snapshot still being written would write the same file beside it; the writer waits for
// the write, adopts it, and only then persists the SNAP, whose snapshot is the one left.
func TestSnapWaitsForThePeriodicSnapshotInFlight(t *testing.T) {
	dir := t.TempDir()
	osFS, err := osfs.Open(dir)
	require.NoError(t, err)
	fsys := &gateFS{FS: osFS, entered: make(chan struct{}), release: make(chan struct{})}
	store, _, err := storage.Recover(fsys, fsys, storage.Config{})
	require.NoError(t, err)
	w := New(store, Config{DataFS: fsys})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1), entry(2), entry(3), entry(4)}}))
	waitDurable(t, w, 1)
	require.True(t, w.SaveSnapshot(entry(3).Zxid, []byte("own state at 3")))
	<-fsys.entered
	assert.False(t, w.SaveSnapshot(entry(4).Zxid, []byte("own state at 4")), "one snapshot at a time")

	require.NoError(t, w.Submit(Batch{ID: 2, Snapshot: &storage.Snapshot{Zxid: entry(3).Zxid, Data: []byte("leader state at 3")}}))
	select {
	case id := <-w.Durable():
		t.Fatalf("the SNAP (batch %d) was carried out while the periodic snapshot at the same zxid was still being written", id)
	case <-time.After(50 * time.Millisecond):
	}
	close(fsys.release)
	waitDurable(t, w, 2)
	assert.Equal(t, uint64(1), w.Snapshots(), "the periodic snapshot was adopted")
	require.NoError(t, w.Close())
	assert.Equal(t, entry(3).Zxid, store.SnapshotZxid())
	require.NoError(t, store.Close())

	rec := recoverDir(t, dir)
	assert.Equal(t, entry(3).Zxid, rec.Snapshot.Zxid)
	assert.Equal(t, "leader state at 3", string(rec.Snapshot.Data), "the SNAP came after the periodic snapshot and replaced its file")
	assert.Equal(t, []storage.Entry{entry(4)}, rec.Entries)
}

// TestSavedSnapshotIsAdoptedByTheStore: after SaveSnapshot, the Store knows its newest
// snapshot (it used to keep the recovered one until the next restart), so a TRUNC below
// it is refused.
func TestSavedSnapshotIsAdoptedByTheStore(t *testing.T) {
	dir := t.TempDir()
	fsys, err := osfs.Open(dir)
	require.NoError(t, err)
	store, _, err := storage.Recover(fsys, fsys, storage.Config{})
	require.NoError(t, err)
	w := New(store, Config{DataFS: fsys})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1), entry(2), entry(3)}}))
	waitDurable(t, w, 1)
	require.True(t, w.SaveSnapshot(entry(2).Zxid, []byte("state at 2")))
	deadline := time.Now().Add(10 * time.Second)
	for w.Snapshots() < 1 {
		require.True(t, time.Now().Before(deadline), "the snapshot was never adopted")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, w.Submit(Batch{ID: 2, Truncate: true, TruncateAfter: entry(1).Zxid}))
	<-w.Failed()
	assert.ErrorIs(t, w.Err(), storage.ErrBeforeSnapshot, "a TRUNC below the adopted snapshot must be refused")
	assert.Error(t, w.Close())
	assert.Equal(t, entry(2).Zxid, store.SnapshotZxid())
	require.NoError(t, store.Close())
}

// TestCloseAdoptsTheSnapshotInFlight: a snapshot still being written when the writer is
// closed is adopted before Close returns, so the owner's Store knows it.
func TestCloseAdoptsTheSnapshotInFlight(t *testing.T) {
	dir := t.TempDir()
	fsys, err := osfs.Open(dir)
	require.NoError(t, err)
	store, _, err := storage.Recover(fsys, fsys, storage.Config{})
	require.NoError(t, err)
	w := New(store, Config{DataFS: fsys})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1), entry(2)}}))
	waitDurable(t, w, 1)
	require.True(t, w.SaveSnapshot(entry(2).Zxid, make([]byte, 1<<20)))
	require.NoError(t, w.Close())
	assert.Equal(t, uint64(1), w.Snapshots(), "the snapshot in flight was adopted")
	assert.Equal(t, entry(2).Zxid, store.SnapshotZxid())
	assert.False(t, w.SaveSnapshot(entry(2).Zxid, nil), "a closed writer takes no snapshot")
	require.NoError(t, store.Close())
}

// TestSnapBelowTheAdoptedSnapshotKeepsTheNode: zab does not know of the node's own
// snapshots, so a leader whose state machine lags ours may SNAP us below the one the Store
// adopted; that history is already durable (storage.Store.PersistSnapshot), and the node
// goes on instead of stopping on ErrBeforeSnapshot, also when its next snapshot, taken
// from the state the SNAP restored, is older than the adopted one.
func TestSnapBelowTheAdoptedSnapshotKeepsTheNode(t *testing.T) {
	dir := t.TempDir()
	fsys, err := osfs.Open(dir)
	require.NoError(t, err)
	store, _, err := storage.Recover(fsys, fsys, storage.Config{})
	require.NoError(t, err)
	w := New(store, Config{DataFS: fsys})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1), entry(2), entry(3), entry(4), entry(5)}}))
	waitDurable(t, w, 1)
	require.True(t, w.SaveSnapshot(entry(4).Zxid, []byte("own state at 4")))
	require.NoError(t, w.Submit(Batch{ID: 2, Snapshot: &storage.Snapshot{Zxid: entry(2).Zxid, Data: []byte("leader state at 2")}}))
	waitDurable(t, w, 2)
	assert.Equal(t, uint64(1), w.Snapshots(), "the node's snapshot was adopted first")
	// Taken back to 2, the node takes its next snapshot at 3: superseded by the one at 4.
	require.True(t, w.SaveSnapshot(entry(3).Zxid, []byte("own state at 3")))
	require.NoError(t, w.Close())
	assert.Equal(t, uint64(2), w.Snapshots())
	assert.NoError(t, w.Err(), "a snapshot below the newest must not stop the node")
	assert.Equal(t, entry(4).Zxid, store.SnapshotZxid())
	require.NoError(t, store.Close())

	rec := recoverDir(t, dir)
	assert.Equal(t, entry(4).Zxid, rec.Snapshot.Zxid)
	assert.Equal(t, []storage.Entry{entry(5)}, rec.Entries)
}

// TestSnapshotIsSerializedOffTheCallersGoroutine: SaveSnapshotOf returns before serialize
// runs to its end (the daemon's node goroutine must not wait for a large tree's bytes), the
// group commit goes on meanwhile, and the bytes serialize returns are what is written; a
// second snapshot while the slot is taken is refused without being serialized.
func TestSnapshotIsSerializedOffTheCallersGoroutine(t *testing.T) {
	dir := t.TempDir()
	fsys, err := osfs.Open(dir)
	require.NoError(t, err)
	store, _, err := storage.Recover(fsys, fsys, storage.Config{})
	require.NoError(t, err)
	w := New(store, Config{DataFS: fsys})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1), entry(2)}}))
	waitDurable(t, w, 1)

	started, release := make(chan struct{}), make(chan struct{})
	returned := make(chan bool, 1)
	go func() {
		returned <- w.SaveSnapshotOf(entry(2).Zxid, func() []byte {
			close(started)
			<-release
			return []byte("state at 2, serialized late")
		})
	}()
	select {
	case ok := <-returned:
		require.True(t, ok, "the snapshot slot was free")
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("SaveSnapshotOf waited for serialize: it must run on the snapshot goroutine, not the caller's")
	}
	<-started
	assert.False(t, w.SaveSnapshotOf(entry(2).Zxid, func() []byte {
		t.Error("a snapshot refused for a taken slot was serialized")
		return nil
	}), "one snapshot at a time")
	require.NoError(t, w.Submit(Batch{ID: 2, Entries: []storage.Entry{entry(3)}}))
	waitDurable(t, w, 2) // the group commit does not wait for the serialization
	assert.Equal(t, uint64(0), w.Snapshots(), "nothing is adopted before serialize returns")
	close(release)
	require.NoError(t, w.Close())
	assert.Equal(t, uint64(1), w.Snapshots(), "the snapshot was written and adopted")
	require.NoError(t, store.Close())
	rec := recoverDir(t, dir)
	assert.Equal(t, entry(2).Zxid, rec.Snapshot.Zxid)
	assert.Equal(t, "state at 2, serialized late", string(rec.Snapshot.Data))
}
