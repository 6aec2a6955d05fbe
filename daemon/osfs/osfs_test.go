package osfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/storage"
)

func open(t *testing.T, opts ...Option) *FS {
	t.Helper()
	fsys, err := Open(t.TempDir(), opts...)
	require.NoError(t, err)
	return fsys
}

func write(t *testing.T, fsys *FS, name string, data string) {
	t.Helper()
	f, err := fsys.Create(name)
	require.NoError(t, err)
	_, err = f.Write([]byte(data))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

func read(t *testing.T, fsys *FS, name string) string {
	t.Helper()
	b, err := fsys.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

func TestOpenCreatesMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	fsys, err := Open(dir)
	require.NoError(t, err)
	info, err := os.Stat(dir)
	require.NoError(t, err, "Open must create the directory %s", dir)
	assert.True(t, info.IsDir())
	assert.Equal(t, dir, fsys.Dir())
}

func TestOpenRefusesAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plain")
	require.NoError(t, os.WriteFile(p, nil, 0o644))
	_, err := Open(p)
	require.Error(t, err, "Open of a regular file must fail")
	assert.Contains(t, err.Error(), "not a directory")
}

func TestCreateWritesAndReplaces(t *testing.T) {
	fsys := open(t)
	write(t, fsys, "f", "old content")
	write(t, fsys, "f", "new")
	assert.Equal(t, "new", read(t, fsys, "f"), "Create must truncate an existing file")
}

func TestOpenAppendWritesAtTheEnd(t *testing.T) {
	fsys := open(t)
	write(t, fsys, "f", "abc")
	f, err := fsys.OpenAppend("f")
	require.NoError(t, err)
	_, err = f.Write([]byte("def"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	assert.Equal(t, "abcdef", read(t, fsys, "f"))
}

func TestTruncateThenAppendContinuesAtTheCut(t *testing.T) {
	fsys := open(t)
	f, err := fsys.Create("f")
	require.NoError(t, err)
	_, err = f.Write([]byte("0123456789"))
	require.NoError(t, err)
	require.NoError(t, f.Truncate(4))
	_, err = f.Write([]byte("xy"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	assert.Equal(t, "0123xy", read(t, fsys, "f"), "appends after Truncate must land at the new end (O_APPEND)")
}

func TestListIsSortedAndSkipsDirectories(t *testing.T) {
	fsys := open(t)
	for _, name := range []string{"log.0000000000000002", "b", "a", "log.0000000000000001"} {
		write(t, fsys, name, name)
	}
	require.NoError(t, os.Mkdir(filepath.Join(fsys.Dir(), "version-2"), 0o755))
	names, err := fsys.List()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "log.0000000000000001", "log.0000000000000002"}, names)
}

func TestRenameReplacesTarget(t *testing.T) {
	fsys := open(t)
	write(t, fsys, "x.tmp", "fresh")
	write(t, fsys, "x", "stale")
	require.NoError(t, fsys.Rename("x.tmp", "x"))
	require.NoError(t, fsys.SyncDir())
	assert.Equal(t, "fresh", read(t, fsys, "x"))
	names, err := fsys.List()
	require.NoError(t, err)
	assert.Equal(t, []string{"x"}, names)
}

func TestRemove(t *testing.T) {
	fsys := open(t)
	write(t, fsys, "f", "1")
	require.NoError(t, fsys.Remove("f"))
	require.NoError(t, fsys.SyncDir())
	names, err := fsys.List()
	require.NoError(t, err)
	assert.Empty(t, names)
}

func TestMissingFilesMatchStorageErrNotExist(t *testing.T) {
	fsys := open(t)
	_, err := fsys.OpenAppend("missing")
	assert.ErrorIs(t, err, storage.ErrNotExist, "OpenAppend")
	_, err = fsys.ReadFile("missing")
	assert.ErrorIs(t, err, storage.ErrNotExist, "ReadFile")
	assert.ErrorIs(t, fsys.Rename("missing", "other"), storage.ErrNotExist, "Rename")
	assert.ErrorIs(t, fsys.Remove("missing"), storage.ErrNotExist, "Remove")
	// The os error stays in the chain, with the path, for the log line.
	var pathErr *os.PathError
	assert.True(t, errors.As(fsys.Remove("missing"), &pathErr), "the *os.PathError must stay wrapped")
}

func TestBadNamesAreRefused(t *testing.T) {
	fsys := open(t)
	for _, name := range []string{"", ".", "..", "../escape", "a/b", `a\b`, "nul\x00"} {
		_, err := fsys.Create(name)
		assert.Error(t, err, "Create(%q) must be refused", name)
		_, err = fsys.ReadFile(name)
		assert.Error(t, err, "ReadFile(%q) must be refused", name)
	}
	_, err := os.Stat(filepath.Join(filepath.Dir(fsys.Dir()), "escape"))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing may be created outside the directory")
}

func TestPreallocationKeepsTheFileSize(t *testing.T) {
	fsys := open(t, WithPreallocation(1<<20))
	f, err := fsys.Create("log.0000000000000001")
	require.NoError(t, err)
	_, err = f.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	info, err := os.Stat(filepath.Join(fsys.Dir(), "log.0000000000000001"))
	require.NoError(t, err)
	assert.Equal(t, int64(5), info.Size(), "preallocation must not change the size storage reads up to")
}

// TestStorageRecoversOnOSFiles runs zab/storage end to end on real files: a store with
// small segments (so that segments roll and the directory is synced), epochs, a snapshot
// and a truncation, then a reopen that must find exactly what was made durable.
func TestStorageRecoversOnOSFiles(t *testing.T) {
	dir := t.TempDir()
	fsys, err := Open(dir, WithPreallocation(64<<10))
	require.NoError(t, err)
	cfg := storage.Config{Log: storage.LogConfig{SegmentBytesMax: 4 << 10}}
	store, rec, err := storage.Recover(fsys, fsys, cfg)
	require.NoError(t, err)
	require.Empty(t, rec.Entries, "a new directory holds no txns")

	const epoch = 1
	var want []storage.Entry
	for i := 1; i <= 300; i++ {
		e := storage.Entry{Zxid: uint64(epoch)<<32 | uint64(i), Data: payload(uint64(i))}
		require.NoError(t, store.Append([]storage.Entry{e}))
		want = append(want, e)
		if i%7 == 0 {
			_, err := store.Sync()
			require.NoError(t, err)
		}
	}
	durable, err := store.Sync()
	require.NoError(t, err)
	require.Equal(t, want[len(want)-1].Zxid, durable)
	require.Greater(t, len(store.Log().Segments()), 1, "segments must have rolled at 4 KiB")
	require.NoError(t, store.SetAcceptedEpoch(2))
	require.NoError(t, store.SetCurrentEpoch(2))
	require.NoError(t, store.TruncateAfter(want[249].Zxid))
	want = want[:250]
	require.NoError(t, store.Close())

	fsys2, err := Open(dir)
	require.NoError(t, err)
	store2, rec2, err := storage.Recover(fsys2, fsys2, cfg)
	require.NoError(t, err)
	defer store2.Close()
	assert.True(t, rec2.Report.Empty(), "a cleanly closed store needs no repair, got %s", rec2.Report)
	assert.Equal(t, uint32(2), rec2.AcceptedEpoch)
	assert.Equal(t, uint32(2), rec2.CurrentEpoch)
	assert.Equal(t, want, rec2.Entries, "recovered entries differ from the durable ones")
	assert.Equal(t, want[len(want)-1].Zxid, rec2.LastLoggedZxid)

	// A snapshot, then more txns, then a torn tail written behind storage's back: recovery
	// must load the snapshot, replay what follows and cut the garbage.
	_, err = store2.SaveSnapshot(want[len(want)-1].Zxid, []byte("tree state"))
	require.NoError(t, err)
	more := storage.Entry{Zxid: uint64(2)<<32 | 1, Data: payload(9)}
	require.NoError(t, store2.Append([]storage.Entry{more}))
	_, err = store2.Sync()
	require.NoError(t, err)
	segs := store2.Log().Segments()
	last := filepath.Join(dir, segs[len(segs)-1])
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0xde, 0xad, 0xbe})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	store3, rec3, err := storage.Recover(fsys2, fsys2, cfg)
	require.NoError(t, err)
	defer store3.Close()
	require.True(t, rec3.HasSnapshot)
	assert.Equal(t, []byte("tree state"), rec3.Snapshot.Data)
	assert.Equal(t, []storage.Entry{more}, rec3.Entries)
	assert.Equal(t, int64(3), rec3.Report.BytesCut(), "the 3 torn bytes must be cut and reported: %s", rec3.Report)
}

// payload is a txn body derived from its counter, so a reader can check it without a copy.
func payload(n uint64) []byte {
	b := make([]byte, 1+n%97)
	for i := range b {
		b[i] = byte(n) + byte(i)
	}
	return b
}

func TestSyncDirOfARemovedDirectoryFails(t *testing.T) {
	fsys := open(t)
	require.NoError(t, fsys.SyncDir())
	require.NoError(t, os.Remove(fsys.Dir()))
	err := fsys.SyncDir()
	require.Error(t, err, "SyncDir must report that the directory is gone")
	assert.ErrorIs(t, err, storage.ErrNotExist)
}
