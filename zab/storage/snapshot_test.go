package storage

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshotRoundTrip(t *testing.T) {
	fs := newMemFS()
	require.NoError(t, WriteSnapshot(fs, zx(1, 5), []byte("tree at 1/5")))
	require.NoError(t, WriteSnapshot(fs, zx(2, 3), []byte("tree at 2/3")))
	fs.crash(nil)
	snap, ok, skipped, err := LoadSnapshot(fs)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Empty(t, skipped)
	assert.Equal(t, Snapshot{Zxid: zx(2, 3), Data: []byte("tree at 2/3"), File: "snapshot.0000000200000003"}, snap, "the newest snapshot wins")

	empty := newMemFS()
	_, ok, _, err = LoadSnapshot(empty)
	require.NoError(t, err)
	assert.False(t, ok, "no snapshot in an empty directory")
}

func TestSnapshotLoadFallsBackPastDamagedSnapshots(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(fs *memFS, name string)
		reason string
	}{
		{"bit flip in the body", func(fs *memFS, n string) { fs.flip(n, snapshotHeaderBytes+2, 4) }, "body checksum mismatch"},
		{"bit flip in the header", func(fs *memFS, n string) { fs.flip(n, 9, 0) }, "header checksum mismatch"},
		{"truncated body", func(fs *memFS, n string) { setContent(fs, n, fs.files[n].data[:40]) }, "body is 8 bytes, header says 11"},
		{"shorter than the header", func(fs *memFS, n string) { setContent(fs, n, fs.files[n].data[:10]) }, "10 bytes, shorter than the header"},
		{"empty file", func(fs *memFS, n string) { setContent(fs, n, nil) }, "0 bytes, shorter than the header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newMemFS()
			require.NoError(t, WriteSnapshot(fs, zx(1, 5), []byte("tree at 1/5")))
			require.NoError(t, WriteSnapshot(fs, zx(2, 3), []byte("tree at 2/3")))
			tc.damage(fs, snapshotName(zx(2, 3)))
			snap, ok, skipped, err := LoadSnapshot(fs)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, zx(1, 5), snap.Zxid, "falls back to the older snapshot")
			assert.Equal(t, []byte("tree at 1/5"), snap.Data)
			assert.Equal(t, []SkippedSnapshot{{File: snapshotName(zx(2, 3)), Reason: tc.reason}}, skipped)
		})
	}
}

func TestSnapshotRenamedUnderTheWrongNameIsSkipped(t *testing.T) {
	fs := newMemFS()
	require.NoError(t, WriteSnapshot(fs, zx(1, 5), []byte("tree at 1/5")))
	require.NoError(t, fs.Rename(snapshotName(zx(1, 5)), snapshotName(zx(1, 9))))
	_, ok, skipped, err := LoadSnapshot(fs)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, []SkippedSnapshot{{File: snapshotName(zx(1, 9)), Reason: "header zxid 0x100000005 does not match file name zxid 0x100000009"}}, skipped)
}

func TestSnapshotWriteIsAtomicUnderCrash(t *testing.T) {
	// A crash at any point of the atomic write leaves the old snapshot loadable and never a
	// half-written one under the real name.
	for keep := 0; keep <= 60; keep += 7 {
		t.Run(fmt.Sprint("keep ", keep, " unsynced bytes"), func(t *testing.T) {
			fs := newMemFS()
			require.NoError(t, WriteSnapshot(fs, zx(1, 5), []byte("tree at 1/5")))
			f, err := fs.Create(snapshotName(zx(2, 3)) + tempSuffix)
			require.NoError(t, err)
			_, err = f.Write(encodeSnapshot(zx(2, 3), []byte("tree at 2/3")))
			require.NoError(t, err)
			require.NoError(t, fs.SyncDir()) // the temp name is durable, its bytes are not
			fs.crash(func(_ string, n int) int { return min(keep, n) })
			snap, ok, _, err := LoadSnapshot(fs)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, zx(1, 5), snap.Zxid)
			removed, err := removeTempFiles(fs)
			require.NoError(t, err)
			assert.Equal(t, []string{snapshotName(zx(2, 3)) + tempSuffix}, removed)
		})
	}
}

func TestPurgeSnapshotsKeepsTheNewestVerifiedOnes(t *testing.T) {
	fs := newMemFS()
	for c := uint32(1); c <= 5; c++ {
		require.NoError(t, WriteSnapshot(fs, zx(1, c*10), fmt.Appendf(nil, "tree %d", c)))
	}
	fs.flip(snapshotName(zx(1, 50)), snapshotHeaderBytes, 0) // newest is damaged

	removed, oldest, kept, err := PurgeSnapshots(fs, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, kept)
	assert.Equal(t, zx(1, 30), oldest, "the two newest verified are 1/40 and 1/30")
	assert.Equal(t, []string{snapshotName(zx(1, 20)), snapshotName(zx(1, 10))}, removed)
	names, _ := fs.List()
	assert.Equal(t, []string{snapshotName(zx(1, 30)), snapshotName(zx(1, 40)), snapshotName(zx(1, 50))}, names,
		"the damaged newer snapshot stays for an operator to inspect")

	removed, _, kept, err = PurgeSnapshots(fs, 5)
	require.NoError(t, err)
	assert.Equal(t, 2, kept)
	assert.Empty(t, removed, "with fewer verified snapshots than asked for, nothing is removed")

	_, _, _, err = PurgeSnapshots(fs, 0)
	assert.Error(t, err, "a retain count below 1 would remove every snapshot")
}

func TestEpochFiles(t *testing.T) {
	fs := newMemFS()
	e, err := ReadEpoch(fs, AcceptedEpochFile)
	require.NoError(t, err)
	assert.Equal(t, uint32(0), e, "a missing epoch file reads as epoch 0")

	require.NoError(t, WriteEpoch(fs, AcceptedEpochFile, 7))
	require.NoError(t, WriteEpoch(fs, AcceptedEpochFile, 8))
	fs.crash(nil)
	e, err = ReadEpoch(fs, AcceptedEpochFile)
	require.NoError(t, err)
	assert.Equal(t, uint32(8), e)

	for bit := range uint(epochFileBytes * 8) {
		fs.flip(AcceptedEpochFile, int(bit/8), bit%8)
		_, err := ReadEpoch(fs, AcceptedEpochFile)
		assert.ErrorIs(t, err, ErrCorrupt, "flipping bit %d of an epoch file must be detected", bit)
		fs.flip(AcceptedEpochFile, int(bit/8), bit%8)
	}
	setContent(fs, CurrentEpochFile, []byte("8\n"))
	_, err = ReadEpoch(fs, CurrentEpochFile)
	assert.ErrorIs(t, err, ErrCorrupt, "ZooKeeper's text format is not ours")
}
