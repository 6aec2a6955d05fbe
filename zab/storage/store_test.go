package storage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func recoverStore(t *testing.T, data, log FS, cfg Config) (*Store, Recovered) {
	t.Helper()
	s, r, err := Recover(data, log, cfg)
	require.NoError(t, err, "Recover (report: %v)", r.Report)
	return s, r
}

func TestRecoverAnEmptyNode(t *testing.T) {
	s, r := recoverStore(t, newMemFS(), newMemFS(), Config{})
	assert.Equal(t, Recovered{}, r, "a fresh node has epoch 0, no snapshot, no txns, a clean report")
	assert.Equal(t, uint64(0), s.LastZxid())
}

func TestRecoverReturnsEverythingANodeNeeds(t *testing.T) {
	data, logFS := newMemFS(), newMemFS()
	s, _ := recoverStore(t, data, logFS, Config{})
	require.NoError(t, s.SetAcceptedEpoch(2))
	require.NoError(t, s.Append(txns(1, 1, 6)))
	_, err := s.Sync()
	require.NoError(t, err)
	_, err = s.SaveSnapshot(zx(1, 4), []byte("tree at 1/4"))
	require.NoError(t, err)
	require.NoError(t, s.SetCurrentEpoch(2))
	require.NoError(t, s.Append(txns(2, 1, 1)))
	// (2,1) is never synced.
	data.crash(nil)
	logFS.crash(nil)

	s2, r := recoverStore(t, data, logFS, Config{})
	assert.Equal(t, uint32(2), r.AcceptedEpoch)
	assert.Equal(t, uint32(2), r.CurrentEpoch)
	require.True(t, r.HasSnapshot)
	assert.Equal(t, zx(1, 4), r.Snapshot.Zxid)
	assert.Equal(t, []byte("tree at 1/4"), r.Snapshot.Data)
	assert.Equal(t, txns(1, 5, 6), r.Entries, "the txns after the snapshot")
	assert.Equal(t, zx(1, 6), r.LastLoggedZxid)
	assert.True(t, r.Report.Empty(), "report: %v", r.Report)
	assert.Equal(t, zx(1, 6), s2.DurableZxid())
}

func TestStoreTruncateBelowTheSnapshotIsRefused(t *testing.T) {
	// Snapshots hold committed txns only, so a TRUNC below one is a protocol bug; obeying it
	// would bring the txns back from the snapshot at the next start (ZOOKEEPER-4837).
	data, logFS := newMemFS(), newMemFS()
	s, _ := recoverStore(t, data, logFS, Config{})
	require.NoError(t, s.Append(txns(1, 1, 6)))
	_, err := s.Sync()
	require.NoError(t, err)
	_, err = s.SaveSnapshot(zx(1, 4), []byte("tree at 1/4"))
	require.NoError(t, err)
	assert.ErrorIs(t, s.TruncateAfter(zx(1, 3)), ErrBeforeSnapshot)
	require.NoError(t, s.TruncateAfter(zx(1, 4)))
	assert.Equal(t, zx(1, 4), s.LastZxid())
	_, err = s.EntriesAfter(zx(1, 2))
	assert.ErrorIs(t, err, ErrBeforeSnapshot)
}

func TestStoreInstallSnapshotReplacesTheHistory(t *testing.T) {
	// SNAP: the follower's log holds (1,1)..(1,3) and an uncommitted (2,1) the leader never
	// had; the leader sends its snapshot at (1,7). After it, the node's history is exactly
	// the snapshot, and (2,1) is never replayed on top of it (ZOOKEEPER-2832).
	for _, crashAt := range []string{"none", "after truncate", "after snapshot"} {
		t.Run(crashAt, func(t *testing.T) {
			data, logFS := newMemFS(), newMemFS()
			s, _ := recoverStore(t, data, logFS, Config{})
			require.NoError(t, s.Append(txns(1, 1, 3)))
			require.NoError(t, s.Append(txns(2, 1, 1)))
			_, err := s.Sync()
			require.NoError(t, err)

			switch crashAt {
			case "none":
				require.NoError(t, s.InstallSnapshot(zx(1, 7), []byte("leader tree at 1/7")))
			case "after truncate":
				require.NoError(t, s.log.TruncateAfter(zx(1, 7)))
			case "after snapshot":
				require.NoError(t, s.log.TruncateAfter(zx(1, 7)))
				require.NoError(t, WriteSnapshot(data, zx(1, 7), []byte("leader tree at 1/7")))
			}
			data.crash(nil)
			logFS.crash(nil)
			s2, r := recoverStore(t, data, logFS, Config{})
			if crashAt == "after truncate" {
				assert.False(t, r.HasSnapshot)
				assert.Equal(t, txns(1, 1, 3), r.Entries, "the old committed prefix is intact")
				return
			}
			require.True(t, r.HasSnapshot)
			assert.Equal(t, zx(1, 7), r.Snapshot.Zxid)
			assert.Empty(t, r.Entries, "nothing replays on top of the leader's snapshot")
			if crashAt == "after snapshot" {
				// The old log lacks (1,7): recovery finishes the install and says so.
				require.Len(t, r.Report.Cuts, 1, "report: %v", r.Report)
				assert.Contains(t, r.Report.Cuts[0].Reason, "interrupted SNAP install")
				assert.Equal(t, zx(1, 7), s2.Log().StartZxid(), "the log now continues the snapshot")
			} else {
				assert.True(t, r.Report.Empty(), "report: %v", r.Report)
			}
			assert.Equal(t, zx(1, 7), r.LastLoggedZxid)
			assert.ErrorIs(t, s2.Append(txns(1, 7, 7)), ErrZxidOrder, "appends continue above the snapshot")
			require.NoError(t, s2.Append(txns(1, 8, 8)))
		})
	}
}

func TestRecoverFailsWhenTheLogDoesNotContinueTheSnapshot(t *testing.T) {
	data, logFS := newMemFS(), newMemFS()
	require.NoError(t, WriteSnapshot(data, zx(1, 4), []byte("tree at 1/4")))
	l, _ := openLog(t, logFS, LogConfig{})
	require.NoError(t, l.Reset(zx(1, 6))) // the log continues a snapshot at (1,6) this node lost
	require.NoError(t, l.Append(txns(1, 7, 9)))
	_, err := l.Sync()
	require.NoError(t, err)
	_, _, err = Recover(data, logFS, Config{})
	assert.ErrorIs(t, err, ErrLogGap, "(1,5) and (1,6) are in neither the snapshot nor the log")
}

func TestRecoverFailsWhenAnUnreadableSnapshotHeldTxnsTheLogLacks(t *testing.T) {
	// SNAP installed (2,5) and the log restarted after it; with (2,5) unreadable, the old
	// snapshot at (1,3) plus the log would silently skip (1,4)..(2,5).
	data, logFS := newMemFS(), newMemFS()
	s, _ := recoverStore(t, data, logFS, Config{})
	require.NoError(t, s.Append(txns(1, 1, 3)))
	_, err := s.Sync()
	require.NoError(t, err)
	_, err = s.SaveSnapshot(zx(1, 3), []byte("tree at 1/3"))
	require.NoError(t, err)
	require.NoError(t, s.InstallSnapshot(zx(2, 5), []byte("leader tree at 2/5")))

	data.flip(snapshotName(zx(2, 5)), snapshotHeaderBytes+1, 0)
	_, _, err = Recover(data, logFS, Config{})
	assert.ErrorIs(t, err, ErrLogGap, "empty log after the install")

	require.NoError(t, WriteSnapshot(data, zx(2, 5), []byte("leader tree at 2/5")))
	s, _ = recoverStore(t, data, logFS, Config{})
	require.NoError(t, s.Append(txns(2, 6, 7)))
	_, err = s.Sync()
	require.NoError(t, err)
	data.flip(snapshotName(zx(2, 5)), snapshotHeaderBytes+1, 0)
	_, r, err := Recover(data, logFS, Config{})
	assert.ErrorIs(t, err, ErrLogGap, "the log continues (2,5), not (1,3); report %v", r.Report)
}

func TestRecoverFallsBackToAnOlderSnapshotAndReplaysTheLogFromIt(t *testing.T) {
	data, logFS := newMemFS(), newMemFS()
	s, _ := recoverStore(t, data, logFS, Config{SnapshotRetainCount: 2, Log: LogConfig{SegmentBytesMax: 1}})
	for c := uint32(1); c <= 9; c++ {
		require.NoError(t, s.Append(txns(1, c, c)))
		_, err := s.Sync()
		require.NoError(t, err)
		if c%3 == 0 {
			_, err := s.SaveSnapshot(zx(1, c), []byte{byte(c)})
			require.NoError(t, err)
		}
	}
	names, _ := data.List()
	assert.Equal(t, []string{snapshotName(zx(1, 6)), snapshotName(zx(1, 9))}, names, "two snapshots retained")
	assert.Equal(t, segmentName(zx(1, 7)), s.Log().Segments()[0], "log kept from the oldest retained snapshot on")

	data.flip(snapshotName(zx(1, 9)), snapshotHeaderBytes, 1)
	_, r := recoverStore(t, data, logFS, Config{})
	assert.Equal(t, zx(1, 6), r.Snapshot.Zxid)
	assert.Equal(t, txns(1, 7, 9), r.Entries)
	assert.Len(t, r.Report.SkippedSnapshots, 1)
}

func TestRecoverRemovesTempFilesAndRefusesCorruptEpochs(t *testing.T) {
	data := newMemFS()
	f, _ := data.Create(CurrentEpochFile + tempSuffix)
	_, _ = f.Write([]byte("half"))
	_, r := recoverStore(t, data, newMemFS(), Config{})
	assert.Equal(t, []string{CurrentEpochFile + tempSuffix}, r.Report.RemovedTempFiles)

	require.NoError(t, WriteEpoch(data, CurrentEpochFile, 3))
	data.flip(CurrentEpochFile, 8, 0)
	_, _, err := Recover(data, newMemFS(), Config{})
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestSetCurrentEpochMakesTheSyncedTxnsDurableFirst(t *testing.T) {
	// ZOOKEEPER-4643: the epoch file must never be on disk ahead of the initial history.
	data, logFS := newMemFS(), newMemFS()
	s, _ := recoverStore(t, data, logFS, Config{})
	require.NoError(t, s.SetAcceptedEpoch(2))
	require.NoError(t, s.Append(txns(1, 1, 4))) // DIFF txns, not synced by the caller
	require.NoError(t, s.SetCurrentEpoch(2))
	data.crash(nil)
	logFS.crash(nil)
	_, r := recoverStore(t, data, logFS, Config{})
	assert.Equal(t, uint32(2), r.CurrentEpoch)
	assert.Equal(t, txns(1, 1, 4), r.Entries, "currentEpoch=2 is durable, so the txns it vouches for are too")
}

func TestEpochsNeverGoBackAndCurrentNeverPassesAccepted(t *testing.T) {
	s, _ := recoverStore(t, newMemFS(), newMemFS(), Config{})
	require.NoError(t, s.SetAcceptedEpoch(3))
	assert.ErrorIs(t, s.SetCurrentEpoch(4), ErrEpochOrder, "current above accepted")
	require.NoError(t, s.SetCurrentEpoch(3))
	require.NoError(t, s.SetCurrentEpoch(3), "rewriting the same epoch is fine")
	assert.ErrorIs(t, s.SetCurrentEpoch(2), ErrEpochOrder, "current going back")
	assert.ErrorIs(t, s.SetAcceptedEpoch(2), ErrEpochOrder, "accepted going back")
	assert.Equal(t, uint32(3), s.AcceptedEpoch())
	assert.Equal(t, uint32(3), s.CurrentEpoch())
}
