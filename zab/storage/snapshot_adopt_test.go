package storage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdoptSnapshotChecksTheSnapshotBeforeRecordingIt(t *testing.T) {
	// The log: (1,1)..(1,4) and (2,1) synced, then (2,2) appended and not synced. Epoch 2
	// starts at counter 1, so (1,9) lies inside the durable log's range without being one
	// of its txns.
	cases := []struct {
		name       string
		write      uint64 // the snapshot WriteSnapshot wrote (0: none)
		damage     bool   // flip a bit of its body
		adopt      uint64
		wantErr    error  // nil: adopted
		wantMsg    string // part of the error when there is no sentinel
		wantNewest uint64 // the newest snapshot after an accepted adoption, when not adopt
	}{
		{name: "a durable txn of the log", write: zx(1, 3), adopt: zx(1, 3)},
		{name: "the last durable txn", write: zx(1, 4), adopt: zx(1, 4)},
		{name: "the first txn of a new epoch", write: zx(2, 1), adopt: zx(2, 1)},
		{name: "appended but not yet synced", write: zx(2, 2), adopt: zx(2, 2), wantErr: ErrNotLogged},
		{name: "inside the log's range, not a txn of it", write: zx(1, 9), adopt: zx(1, 9), wantErr: ErrNotLogged},
		{name: "below the newest snapshot (1,2): superseded", write: zx(1, 1), adopt: zx(1, 1), wantNewest: zx(1, 2)},
		{name: "the newest snapshot again", adopt: zx(1, 2)},
		{name: "never written", adopt: zx(1, 3), wantErr: ErrNotExist},
		{name: "damaged on disk", write: zx(1, 3), damage: true, adopt: zx(1, 3), wantMsg: "checksum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, logFS := newMemFS(), newMemFS()
			s, _ := recoverStore(t, data, logFS, Config{})
			require.NoError(t, s.Append(append(txns(1, 1, 4), txns(2, 1, 1)...)))
			_, err := s.Sync()
			require.NoError(t, err)
			_, err = s.SaveSnapshot(zx(1, 2), historyBody(zx(1, 1), zx(1, 2)))
			require.NoError(t, err)
			require.NoError(t, s.Append(txns(2, 2, 2)))
			if tc.write != 0 {
				require.NoError(t, WriteSnapshot(data, tc.write, []byte("state")))
			}
			if tc.damage {
				data.flip(snapshotName(tc.write), snapshotHeaderBytes+2, 3)
			}

			_, err = s.AdoptSnapshot(tc.adopt)
			switch {
			case tc.wantErr != nil:
				assert.ErrorIs(t, err, tc.wantErr, "adopting %#x", tc.adopt)
				assert.Equal(t, zx(1, 2), s.SnapshotZxid(), "a refused snapshot must not be recorded")
			case tc.wantMsg != "":
				assert.ErrorContains(t, err, tc.wantMsg, "adopting %#x", tc.adopt)
				assert.Equal(t, zx(1, 2), s.SnapshotZxid(), "a refused snapshot must not be recorded")
			case tc.wantNewest != 0:
				require.NoError(t, err, "adopting %#x", tc.adopt)
				assert.Equal(t, tc.wantNewest, s.SnapshotZxid(), "a superseded snapshot is not recorded")
			default:
				require.NoError(t, err, "adopting %#x", tc.adopt)
				assert.Equal(t, tc.adopt, s.SnapshotZxid(), "the adopted snapshot is the store's newest")
			}
		})
	}
}

func TestAnAdoptedSnapshotIsTheStoresNewest(t *testing.T) {
	// Before AdoptSnapshot the store goes on believing (1,2) is its newest snapshot; after
	// it, a TRUNC below (1,5) is refused (the next recovery would load (1,5) and replay the
	// log after it, ZOOKEEPER-4837), and the retention keeps the two newest snapshots and
	// the log from the older of them.
	data, logFS := newMemFS(), newMemFS()
	cfg := Config{SnapshotRetainCount: 2, Log: LogConfig{SegmentBytesMax: 1}}
	s, _ := recoverStore(t, data, logFS, cfg)
	for c := uint32(1); c <= 6; c++ {
		require.NoError(t, s.Append(txns(1, c, c)))
	}
	_, err := s.Sync()
	require.NoError(t, err)
	for _, c := range []uint32{1, 2} {
		_, err = s.SaveSnapshot(zx(1, c), []byte("state"))
		require.NoError(t, err)
	}
	require.NoError(t, WriteSnapshot(data, zx(1, 5), []byte("state at (1,5)")))
	assert.Equal(t, zx(1, 2), s.SnapshotZxid(), "before adoption the store knows nothing of (1,5)")

	removed, err := s.AdoptSnapshot(zx(1, 5))
	require.NoError(t, err)
	assert.Equal(t, zx(1, 5), s.SnapshotZxid())
	assert.Equal(t, []string{snapshotName(zx(1, 1)), segmentName(zx(1, 2))}, removed,
		"the retention keeps the snapshots at (1,2) and (1,5) and the log segments after (1,2)")
	assert.ErrorIs(t, s.TruncateAfter(zx(1, 4)), ErrBeforeSnapshot, "a TRUNC below the adopted snapshot")
	_, err = s.EntriesAfter(zx(1, 3))
	assert.ErrorIs(t, err, ErrBeforeSnapshot, "entries below the adopted snapshot")

	data.crash(nil)
	logFS.crash(nil)
	_, r := recoverStore(t, data, logFS, cfg)
	assert.True(t, r.Report.Empty(), "nothing to repair; report %v", r.Report)
	assert.Equal(t, zx(1, 5), r.Snapshot.Zxid)
	assert.Equal(t, txns(1, 6, 6), r.Entries)
}

// historyBody is the snapshot body these tests write: the zxids of the history it holds.
func historyBody(zxids ...uint64) []byte {
	parts := make([]string, len(zxids))
	for i, z := range zxids {
		parts[i] = strconv.FormatUint(z, 16)
	}
	return []byte(strings.Join(parts, ","))
}

// recoveredZxids is the history a recovery returns: its snapshot's zxids, then the entries.
func recoveredZxids(t *testing.T, r Recovered) []uint64 {
	t.Helper()
	var zs []uint64
	if r.HasSnapshot && len(r.Snapshot.Data) > 0 {
		for _, p := range strings.Split(string(r.Snapshot.Data), ",") {
			z, err := strconv.ParseUint(p, 16, 64)
			require.NoError(t, err, "snapshot body %q", r.Snapshot.Data)
			zs = append(zs, z)
		}
		require.Equal(t, r.Snapshot.Zxid, zs[len(zs)-1], "snapshot %s holds another history", r.Snapshot.File)
	}
	for _, e := range r.Entries {
		zs = append(zs, e.Zxid)
	}
	return zs
}

// writeFunc writes a snapshot file, as WriteSnapshot does on the daemon's snapshot goroutine.
type writeFunc func(fs FS, zxid uint64, data []byte) error

// writeUnsynced is WriteSnapshot with the classic bug: the file is renamed into place
// without an fsync of its bytes, so a crash can leave the name with no content (ext4's
// delayed allocation did exactly that).
func writeUnsynced(fs FS, zxid uint64, data []byte) error {
	f, err := fs.Create(snapshotName(zxid) + tempSuffix)
	if err != nil {
		return err
	}
	if _, err := f.Write(encodeSnapshot(zxid, data)); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fs.Rename(snapshotName(zxid)+tempSuffix, snapshotName(zxid)); err != nil {
		return err
	}
	return fs.SyncDir()
}

// tortureWriteThenAdopt runs the daemon's split with the power cut after each possible
// number of file system calls: write (the snapshot goroutine) a snapshot at (1,6) while the
// owner appends and syncs (2,1),(2,2), then AdoptSnapshot and its retention, then more
// appends. The crash keeps none, or all, of the unsynced bytes. Recovery must return every
// txn that was durable, and nothing but the history. It returns the first violation found
// ("" when none) and how many runs got past the adoption.
func tortureWriteThenAdopt(t *testing.T, write writeFunc, retainCount int) (string, int) {
	hist := append(txns(1, 1, 6), txns(2, 1, 4)...)
	zxids := make([]uint64, len(hist))
	for i, e := range hist {
		zxids[i] = e.Zxid
	}
	cfg := Config{SnapshotRetainCount: retainCount, Log: LogConfig{SegmentBytesMax: 1}} // a segment per append
	adopted := 0
	for calls := 0; ; calls++ {
		require.Less(t, calls, 200, "the sequence never completed")
		completed := false
		for _, keepUnsynced := range []bool{false, true} {
			disk := &cutFS{memFS: newMemFS(), callsLeft: -1} // data and log share it, as in the daemon's default
			s, _ := recoverStore(t, disk, disk, cfg)
			// (1,1)..(1,6) durable, two appends per segment, snapshots at (1,2) and (1,4).
			for i := 0; i < 6; i += 2 {
				require.NoError(t, s.Append(hist[i:i+2]))
				_, err := s.Sync()
				require.NoError(t, err)
				if i < 4 {
					_, err = s.SaveSnapshot(hist[i+1].Zxid, historyBody(zxids[:i+2]...))
					require.NoError(t, err)
				}
			}
			require.GreaterOrEqual(t, len(s.Log().Segments()), 2, "the test needs a segment for the adoption's retention to remove")

			durable := 6
			disk.callsLeft = calls
			err := write(disk, zx(1, 6), historyBody(zxids[:6]...))
			if err == nil {
				err = s.Append(hist[6:8]) // the owner goes on while the snapshot is written
			}
			if err == nil {
				if _, err = s.Sync(); err == nil {
					durable = 8
				}
			}
			if err == nil {
				if _, err = s.AdoptSnapshot(zx(1, 6)); err == nil {
					adopted++
					err = s.Append(hist[8:10])
				}
			}
			if err == nil {
				if _, err = s.Sync(); err == nil {
					durable = 10
				}
			}
			completed = err == nil
			if !completed {
				require.ErrorIs(t, err, errPowerCut, "after %d calls", calls)
			}
			disk.callsLeft = -1
			disk.crash(func(_ string, n int) int {
				if keepUnsynced {
					return n
				}
				return 0
			})
			how := fmt.Sprintf("retain %d, power cut after %d calls, unsynced bytes kept %v", retainCount, calls, keepUnsynced)
			_, r, err := Recover(disk, disk, cfg)
			if err != nil {
				return fmt.Sprintf("%s: recovery failed: %v; report %v", how, err, r.Report), adopted
			}
			got := recoveredZxids(t, r)
			if len(got) < durable || !slices.Equal(got, zxids[:len(got)]) {
				return fmt.Sprintf("%s: recovered %x, want a prefix of %x holding the %d durable txns; report %v",
					how, got, zxids, durable, r.Report), adopted
			}
			if completed {
				names, err := disk.List()
				require.NoError(t, err)
				want := []string{snapshotName(zx(1, 4)), snapshotName(zx(1, 6))}[2-retainCount:]
				if got := filterPrefix(names, snapshotPrefix); !slices.Equal(got, want) || r.Snapshot.Zxid != zx(1, 6) {
					return fmt.Sprintf("%s: completed, recovered the snapshot at %#x from %v, want %v", how, r.Snapshot.Zxid, got, want), adopted
				}
			}
		}
		if completed {
			return "", adopted
		}
	}
}

func TestWriteThenAdoptSurvivesAPowerCutAtAnyCall(t *testing.T) {
	for _, retain := range []int{1, 2} {
		why, adopted := tortureWriteThenAdopt(t, WriteSnapshot, retain)
		assert.Empty(t, why, "WriteSnapshot then AdoptSnapshot")
		assert.Greater(t, adopted, 2, "retain %d: some cuts must come after the adoption", retain)
	}
}

func TestWriteThenAdoptTortureCatchesAnUnsyncedSnapshot(t *testing.T) {
	// Adopting keeps one snapshot and purges the log through it: if the snapshot's bytes
	// were never synced, a crash leaves an empty file where the only snapshot was.
	why, _ := tortureWriteThenAdopt(t, writeUnsynced, 1)
	assert.Contains(t, why, "recovery failed", "the torture must catch a snapshot renamed before its bytes are synced")
	t.Log(why)
}

func filterPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
