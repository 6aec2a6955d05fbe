package storage

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leaderTree is the snapshot body the tests install: any bytes do, storage does not read them.
func leaderTree(z uint64) []byte { return []byte(fmt.Sprintf("leader tree at %#x", z)) }

func TestPersistSnapshotKeepsTheLoggedTxnsAboveIt(t *testing.T) {
	// zab's Persist.Snapshot: the snapshot replaces the history up to its zxid, the logged
	// txns above it stay (zab/doc.go). Each case runs with one segment per append (the
	// retired history is whole segments) and with one big segment (a segment straddles the
	// snapshot and must be rewritten).
	cases := []struct {
		name        string
		log         [][]Entry // appended batch by batch, all synced
		unsynced    []Entry   // appended last, not synced by the caller
		snapshot    uint64
		wantEntries []Entry
		wantStart   uint64 // the log's start after it: 0 when the old log is kept
	}{
		{
			name: "SNAP beside our history (ZOOKEEPER-2832's shape): (2,x) stays, (1,1..3) goes",
			log:  [][]Entry{txns(1, 1, 3), txns(2, 1, 2)}, snapshot: zx(1, 7),
			wantEntries: txns(2, 1, 2), wantStart: zx(1, 7),
		},
		{
			name: "SNAP past our whole log",
			log:  [][]Entry{txns(1, 1, 3)}, snapshot: zx(2, 5),
			wantEntries: nil, wantStart: 0, // no segment is left to record a start; the next append continues the snapshot
		},
		{
			name: "periodic snapshot: the log holds its zxid and is kept for a fallback",
			log:  [][]Entry{txns(1, 1, 4), txns(1, 5, 6)}, snapshot: zx(1, 4),
			wantEntries: txns(1, 5, 6), wantStart: 0,
		},
		{
			name: "txns appended but not yet synced are made durable first",
			log:  [][]Entry{txns(1, 1, 3)}, unsynced: txns(2, 1, 1), snapshot: zx(1, 7),
			wantEntries: txns(2, 1, 1), wantStart: zx(1, 7),
		},
	}
	for _, tc := range cases {
		for _, segBytes := range []int64{1, 1 << 20} {
			t.Run(fmt.Sprintf("%s/segment bytes %d", tc.name, segBytes), func(t *testing.T) {
				cfg := Config{Log: LogConfig{SegmentBytesMax: segBytes}}
				data, logFS := newMemFS(), newMemFS()
				s, _ := recoverStore(t, data, logFS, cfg)
				for _, batch := range tc.log {
					require.NoError(t, s.Append(batch))
					_, err := s.Sync()
					require.NoError(t, err)
				}
				if tc.unsynced != nil {
					require.NoError(t, s.Append(tc.unsynced))
				}
				_, err := s.PersistSnapshot(tc.snapshot, leaderTree(tc.snapshot))
				require.NoError(t, err)
				assert.Equal(t, tc.snapshot, s.SnapshotZxid())
				last := tc.snapshot
				if len(tc.wantEntries) > 0 {
					last = tc.wantEntries[len(tc.wantEntries)-1].Zxid
				}
				assert.Equal(t, last, s.DurableZxid(), "everything kept is durable when PersistSnapshot returns")

				data.crash(nil)
				logFS.crash(nil)
				s2, r := recoverStore(t, data, logFS, cfg)
				assert.True(t, r.Report.Empty(), "a completed PersistSnapshot leaves nothing to repair; report: %v", r.Report)
				require.True(t, r.HasSnapshot)
				assert.Equal(t, tc.snapshot, r.Snapshot.Zxid)
				assert.Equal(t, tc.wantEntries, r.Entries, "the txns above the snapshot, and only they, replay onto it")
				assert.Equal(t, last, r.LastLoggedZxid)
				assert.Equal(t, tc.wantStart, s2.Log().StartZxid(), "where the log's history starts")

				// The log goes on: TRUNC to the snapshot cuts what was kept (the rewritten
				// segment's name is below its first record), and appends continue the snapshot.
				require.NoError(t, s2.TruncateAfter(tc.snapshot))
				assert.Equal(t, tc.snapshot, s2.LastZxid())
				next := Entry{Zxid: tc.snapshot + 1, Data: []byte("next")}
				require.NoError(t, s2.Append([]Entry{next}))
				_, err = s2.Sync()
				require.NoError(t, err)
				_, r = recoverStore(t, data, logFS, cfg)
				assert.Equal(t, []Entry{next}, r.Entries)
			})
		}
	}
}

func TestPersistSnapshotBelowTheNewestIsAlreadyDurable(t *testing.T) {
	// A SNAP at (1,3) from a leader whose state machine lags, on a node that has taken its
	// own snapshot at (1,5) (zab/node's, which zab does not know of): the snapshot at (1,5)
	// holds the leader's history up to (1,3) and our txns above it (committed, so the
	// leader's too), the log the rest. Nothing is written, and the txn appended before is
	// made durable, as every Persist makes it.
	data, logFS := newMemFS(), newMemFS()
	s, _ := recoverStore(t, data, logFS, Config{})
	require.NoError(t, s.Append(txns(1, 1, 6)))
	_, err := s.Sync()
	require.NoError(t, err)
	_, err = s.SaveSnapshot(zx(1, 5), leaderTree(zx(1, 5)))
	require.NoError(t, err)
	require.NoError(t, s.Append(txns(1, 7, 7)))

	removed, err := s.PersistSnapshot(zx(1, 3), leaderTree(zx(1, 3)))
	require.NoError(t, err, "a SNAP below the newest snapshot must not stop the node")
	assert.Empty(t, removed)
	assert.Equal(t, zx(1, 5), s.SnapshotZxid(), "the newest snapshot stays the newest")
	assert.Equal(t, zx(1, 7), s.DurableZxid(), "the txn appended before the Persist is durable")
	// The node, taken back to (1,3), takes its next snapshot at (1,4): superseded too.
	removed, err = s.SaveSnapshot(zx(1, 4), leaderTree(zx(1, 4)))
	require.NoError(t, err, "a snapshot below the newest must not stop the node")
	assert.Empty(t, removed)
	names, err := data.List()
	require.NoError(t, err)
	assert.NotContains(t, names, snapshotName(zx(1, 3)), "nothing is written")
	assert.NotContains(t, names, snapshotName(zx(1, 4)), "nothing is written")

	data.crash(nil)
	logFS.crash(nil)
	_, r := recoverStore(t, data, logFS, Config{})
	assert.True(t, r.Report.Empty(), "report %v", r.Report)
	assert.Equal(t, zx(1, 5), r.Snapshot.Zxid)
	assert.Equal(t, txns(1, 6, 7), r.Entries)
}

// cutFS lets a fixed number of calls through and then fails every call, as a machine that
// loses power does; the test then crashes the memFS under it.
type cutFS struct {
	*memFS
	callsLeft int
}

var errPowerCut = errors.New("power cut")

func (c *cutFS) step() error {
	if c.callsLeft == 0 {
		return errPowerCut
	}
	c.callsLeft--
	return nil
}

func (c *cutFS) Create(name string) (File, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	f, err := c.memFS.Create(name)
	return &cutFile{f, c}, err
}

func (c *cutFS) OpenAppend(name string) (File, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	f, err := c.memFS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return &cutFile{f, c}, nil
}

func (c *cutFS) ReadFile(name string) ([]byte, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	return c.memFS.ReadFile(name)
}

func (c *cutFS) Rename(o, n string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.memFS.Rename(o, n)
}

func (c *cutFS) Remove(name string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.memFS.Remove(name)
}

func (c *cutFS) SyncDir() error {
	if err := c.step(); err != nil {
		return err
	}
	return c.memFS.SyncDir()
}

type cutFile struct {
	File
	c *cutFS
}

func (f *cutFile) Write(p []byte) (int, error) {
	if err := f.c.step(); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *cutFile) Sync() error {
	if err := f.c.step(); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *cutFile) Truncate(n int64) error {
	if err := f.c.step(); err != nil {
		return err
	}
	return f.File.Truncate(n)
}

func TestRecoverFinishesAPersistSnapshotCutAtAnyCall(t *testing.T) {
	// The power goes out after each possible number of file system calls inside
	// PersistSnapshot. Recovery must return the old history (nothing durable lost) or the
	// new one (the snapshot and every txn above it), and leave a log that continues the
	// snapshot. The log: (1,1)..(1,3) synced in one segment, then (1,4)..(2,2) in a segment
	// that straddles the SNAP's zxid (1,5), then (2,3) unsynced.
	old := append(txns(1, 1, 4), txns(2, 1, 3)...)
	z := zx(1, 5)
	newHistory := append([]string{"snapshot 0x100000005"}, "0x200000001", "0x200000002", "0x200000003")
	describe := func(r Recovered) []string {
		var got []string
		if r.HasSnapshot {
			got = append(got, fmt.Sprintf("snapshot %#x", r.Snapshot.Zxid))
		}
		for _, e := range r.Entries {
			got = append(got, fmt.Sprintf("%#x", e.Zxid))
		}
		return got
	}
	oldHistory := describe(Recovered{Entries: old})
	completed := false
	states := map[string]bool{}
	for calls := 0; !completed; calls++ {
		require.Less(t, calls, 100, "PersistSnapshot never completed")
		disk := &cutFS{memFS: newMemFS(), callsLeft: -1} // data and log share it, as in the simulator
		cfg := Config{Log: LogConfig{SegmentBytesMax: 100}}
		s, _ := recoverStore(t, disk, disk, cfg)
		require.NoError(t, s.Append(txns(1, 1, 3)))
		_, err := s.Sync()
		require.NoError(t, err)
		require.NoError(t, s.Append(txns(1, 4, 4)))
		require.NoError(t, s.Append(txns(2, 1, 2)))
		_, err = s.Sync()
		require.NoError(t, err)
		require.NoError(t, s.Append(txns(2, 3, 3)))
		require.Len(t, s.Log().Segments(), 2, "the test needs a segment straddling the snapshot")

		disk.callsLeft = calls
		_, err = s.PersistSnapshot(z, leaderTree(z))
		completed = err == nil
		if !completed {
			require.ErrorIs(t, err, errPowerCut, "after %d calls", calls)
		}
		disk.callsLeft = -1
		disk.crash(nil)
		s2, r := recoverStore(t, disk, disk, cfg)
		got := describe(r)
		if completed {
			assert.Equal(t, newHistory, got, "PersistSnapshot returned: the new history is durable")
		} else if !assert.Contains(t, [][]string{oldHistory[:6], oldHistory, newHistory}, got,
			"power cut after %d calls: want the old history (the unsynced (2,3) may go) or the new one; report %v", calls, r.Report) {
			return
		}
		if r.HasSnapshot && r.Snapshot.Zxid == z {
			assert.Equal(t, z, s2.Log().StartZxid(), "after %d calls: the log continues the snapshot once recovered", calls)
		}
		states[fmt.Sprint(got, r.Report.Empty())] = true
	}
	assert.GreaterOrEqual(t, len(states), 3, "the cuts reach the old state, an install recovery finishes and the clean new state: %v", states)
}

func TestAnUnreadableInstalledSnapshotIsAGapNotAHole(t *testing.T) {
	// After a SNAP at (1,7) kept (2,1), the log continues (1,7). If the snapshot at (1,7) is
	// later unreadable, falling back to the periodic snapshot at (1,3) and replaying (2,1)
	// would skip (1,4)..(1,7): recovery must refuse. Had the old history stayed in the log
	// (start 0), recovery would have done exactly that.
	data, logFS := newMemFS(), newMemFS()
	s, _ := recoverStore(t, data, logFS, Config{})
	require.NoError(t, s.Append(txns(1, 1, 3)))
	_, err := s.PersistSnapshot(zx(1, 3), leaderTree(zx(1, 3)))
	require.NoError(t, err)
	require.NoError(t, s.Append(txns(2, 1, 1)))
	_, err = s.PersistSnapshot(zx(1, 7), leaderTree(zx(1, 7)))
	require.NoError(t, err)

	data.flip(snapshotName(zx(1, 7)), snapshotHeaderBytes+1, 0)
	_, r, err := Recover(data, logFS, Config{})
	assert.ErrorIs(t, err, ErrLogGap, "report %v", r.Report)
}
