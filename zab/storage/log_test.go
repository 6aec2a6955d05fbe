package storage

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zx(epoch, counter uint32) uint64 { return uint64(epoch)<<32 | uint64(counter) }

// txns returns entries (epoch, from) .. (epoch, to) with data naming the zxid.
func txns(epoch, from, to uint32) []Entry {
	var out []Entry
	for c := from; c <= to; c++ {
		out = append(out, Entry{Zxid: zx(epoch, c), Data: fmt.Appendf(nil, "txn %d/%d", epoch, c)})
	}
	return out
}

func openLog(t *testing.T, fs FS, cfg LogConfig) (*Log, []Cut) {
	t.Helper()
	l, cuts, err := OpenLog(fs, cfg)
	require.NoError(t, err, "OpenLog")
	return l, cuts
}

func allEntries(t *testing.T, l *Log) []Entry {
	t.Helper()
	es, err := l.EntriesAfter(0)
	require.NoError(t, err, "EntriesAfter(0)")
	return es
}

func TestLogAppendSyncReopenReturnsTheSameEntries(t *testing.T) {
	fs := newMemFS()
	l, _ := openLog(t, fs, LogConfig{})
	require.NoError(t, l.Append(txns(1, 1, 3)))
	require.NoError(t, l.Append(txns(1, 4, 5)))
	durable, err := l.Sync()
	require.NoError(t, err)
	assert.Equal(t, zx(1, 5), durable, "Sync returns the last appended zxid")
	require.NoError(t, l.Append(txns(2, 1, 1)))
	assert.Equal(t, zx(2, 1), l.LastZxid())
	assert.Equal(t, zx(1, 5), l.DurableZxid(), "an unsynced append is not durable")
	_, err = l.Sync()
	require.NoError(t, err)

	fs.crash(nil)
	l2, cuts := openLog(t, fs, LogConfig{})
	assert.Empty(t, cuts, "a synced log recovers without cuts")
	assert.Equal(t, append(txns(1, 1, 5), txns(2, 1, 1)...), allEntries(t, l2))
	assert.Equal(t, zx(2, 1), l2.LastZxid())
	assert.Equal(t, zx(2, 1), l2.DurableZxid())
	assert.Equal(t, []string{"log.0000000100000001"}, l2.Segments(), "segment named after its first zxid")

	after, err := l2.EntriesAfter(zx(1, 4))
	require.NoError(t, err)
	assert.Equal(t, append(txns(1, 5, 5), txns(2, 1, 1)...), after, "EntriesAfter starts strictly after the zxid")
}

func TestLogCrashLosesOnlyUnsyncedEntries(t *testing.T) {
	fs := newMemFS()
	l, _ := openLog(t, fs, LogConfig{})
	require.NoError(t, l.Append(txns(1, 1, 3)))
	_, err := l.Sync()
	require.NoError(t, err)
	require.NoError(t, l.Append(txns(1, 4, 6)))

	fs.crash(nil)
	l2, cuts := openLog(t, fs, LogConfig{})
	assert.Empty(t, cuts, "unsynced bytes dropped whole leave nothing to cut")
	assert.Equal(t, txns(1, 1, 3), allEntries(t, l2))
	require.NoError(t, l2.Append(txns(1, 4, 4)), "the log appends after recovery")
}

func TestLogAppendRejectsBadEntries(t *testing.T) {
	l, _ := openLog(t, newMemFS(), LogConfig{RecordBytesMax: 8})
	require.NoError(t, l.Append(txns(1, 5, 5)))
	for _, tc := range []struct {
		name    string
		entries []Entry
		want    error
	}{
		{"zxid equal to last", []Entry{{Zxid: zx(1, 5)}}, ErrZxidOrder},
		{"zxid below last", []Entry{{Zxid: zx(1, 4)}}, ErrZxidOrder},
		{"zxids not increasing in the batch", []Entry{{Zxid: zx(1, 7)}, {Zxid: zx(1, 6)}}, ErrZxidOrder},
		{"zero zxid", []Entry{{Zxid: 0}}, ErrZxidOrder},
		{"record too large", []Entry{{Zxid: zx(1, 9), Data: make([]byte, 9)}}, ErrRecordTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, l.Append(tc.entries), tc.want)
			assert.Equal(t, zx(1, 5), l.LastZxid(), "a rejected batch writes nothing")
		})
	}
	require.NoError(t, l.Append(txns(1, 6, 6)), "a rejected batch does not fail the log")
}

func TestLogRollsToANewSegmentAtTheSizeLimit(t *testing.T) {
	fs := newMemFS()
	cfg := LogConfig{SegmentBytesMax: 100}
	l, _ := openLog(t, fs, cfg)
	for c := uint32(1); c <= 12; c++ {
		require.NoError(t, l.Append(txns(1, c, c)))
	}
	assert.Greater(t, len(l.Segments()), 2, "12 records of ~30 bytes with a 100-byte limit need several segments")
	for _, name := range l.Segments()[:len(l.Segments())-1] {
		content, err := fs.ReadFile(name)
		require.NoError(t, err)
		assert.Equal(t, content, fs.files[name].synced, "segment %s behind the last was synced when the log rolled past it", name)
	}
	_, err := l.Sync()
	require.NoError(t, err)
	fs.crash(nil)
	l2, cuts := openLog(t, fs, cfg)
	assert.Empty(t, cuts)
	assert.Equal(t, txns(1, 1, 12), allEntries(t, l2))
	assert.Equal(t, l.Segments(), l2.Segments())
}

func TestLogTruncateAfter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after uint64
		want  []Entry
	}{
		{"inside the last segment", zx(1, 11), txns(1, 1, 11)},
		{"inside an earlier segment", zx(1, 4), txns(1, 1, 4)},
		{"at a segment boundary", 0, nil},
		{"before everything", zx(0, 5), nil},
		{"at the last entry: nothing to cut", zx(1, 12), txns(1, 1, 12)},
		{"above the last entry: nothing to cut", zx(2, 1), txns(1, 1, 12)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newMemFS()
			cfg := LogConfig{SegmentBytesMax: 100}
			l, _ := openLog(t, fs, cfg)
			for c := uint32(1); c <= 12; c++ {
				require.NoError(t, l.Append(txns(1, c, c)))
			}
			require.NoError(t, l.TruncateAfter(tc.after))
			assert.Equal(t, tc.want, allEntries(t, l), "entries after TruncateAfter(%#x)", tc.after)
			wantLast := uint64(0)
			if len(tc.want) > 0 {
				wantLast = tc.want[len(tc.want)-1].Zxid
			}
			assert.Equal(t, wantLast, l.LastZxid())

			// The cut is durable, and the log goes on in a new epoch.
			if tc.after < zx(1, 12) {
				assert.Equal(t, wantLast, l.DurableZxid(), "TruncateAfter leaves everything kept durable")
				fs.crash(nil)
				l, _ = openLog(t, fs, cfg)
				assert.Equal(t, tc.want, allEntries(t, l), "after a crash")
			}
			require.NoError(t, l.Append(txns(2, 1, 2)))
			_, err := l.Sync()
			require.NoError(t, err)
			fs.crash(nil)
			l, cuts := openLog(t, fs, cfg)
			assert.Empty(t, cuts)
			assert.Equal(t, append(append([]Entry(nil), tc.want...), txns(2, 1, 2)...), allEntries(t, l))
		})
	}
}

func TestLogTruncateAfterLeavesNoHoleWhenInterrupted(t *testing.T) {
	// A crash at any FS call inside TruncateAfter must leave either the old log or a prefix
	// of it that still holds every entry up to the truncation point: never a log missing
	// entries in the middle.
	for failAt := 1; failAt <= 8; failAt++ {
		t.Run(fmt.Sprint("crash at call ", failAt), func(t *testing.T) {
			inner := newMemFS()
			cfg := LogConfig{SegmentBytesMax: 100}
			l, _ := openLog(t, inner, cfg)
			for c := uint32(1); c <= 12; c++ {
				require.NoError(t, l.Append(txns(1, c, c)))
			}
			_, err := l.Sync()
			require.NoError(t, err)
			fs := &countingFS{FS: inner, failAt: failAt}
			l.fs = fs
			_ = l.TruncateAfter(zx(1, 4))
			inner.crash(nil)
			l2, _ := openLog(t, inner, cfg)
			got := allEntries(t, l2)
			require.GreaterOrEqual(t, len(got), 4, "entries up to the truncation point survive")
			assert.Equal(t, txns(1, 1, uint32(len(got))), got, "what survives is a prefix of the log")
		})
	}
}

// countingFS fails every mutating call from the failAt-th on, like a node that stops there.
type countingFS struct {
	FS
	calls, failAt int
}

var errStopped = errors.New("stopped")

func (c *countingFS) step() error {
	c.calls++
	if c.calls >= c.failAt {
		return errStopped
	}
	return nil
}

func (c *countingFS) Remove(name string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.FS.Remove(name)
}

func (c *countingFS) SyncDir() error {
	if err := c.step(); err != nil {
		return err
	}
	return c.FS.SyncDir()
}

func (c *countingFS) OpenAppend(name string) (File, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	f, err := c.FS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, fs: c}, nil
}

type countingFile struct {
	File
	fs *countingFS
}

func (f *countingFile) Truncate(n int64) error {
	if err := f.fs.step(); err != nil {
		return err
	}
	return f.File.Truncate(n)
}

func (f *countingFile) Sync() error {
	if err := f.fs.step(); err != nil {
		return err
	}
	return f.File.Sync()
}

func TestLogPurgeThroughRemovesOnlyCoveredSegments(t *testing.T) {
	fs := newMemFS()
	cfg := LogConfig{SegmentBytesMax: 100}
	l, _ := openLog(t, fs, cfg)
	for c := uint32(1); c <= 12; c++ {
		require.NoError(t, l.Append(txns(1, c, c)))
	}
	segs := l.Segments()
	require.Greater(t, len(segs), 2)
	firstOfSecond, ok := parseZxidName(segs[1], segmentPrefix)
	require.True(t, ok)

	removed, err := l.PurgeThrough(firstOfSecond - 1)
	require.NoError(t, err)
	assert.Equal(t, segs[:1], removed, "only the first segment lies wholly at or below the purge point")
	assert.Equal(t, txns(1, uint32(firstOfSecond), 12), allEntries(t, l))

	removed, err = l.PurgeThrough(zx(9, 9))
	require.NoError(t, err)
	assert.Equal(t, segs[1:len(segs)-1], removed, "the last segment is never purged")
	assert.Equal(t, []string{segs[len(segs)-1]}, l.Segments())
}

func TestLogFailsForGoodAfterAnIOError(t *testing.T) {
	// PostgreSQL's fsyncgate: after a failed fsync the data's fate is unknown and a retry
	// may lie, so the log refuses everything until the node restarts and recovers.
	fs := newMemFS()
	l, _ := openLog(t, fs, LogConfig{})
	require.NoError(t, l.Append(txns(1, 1, 2)))
	fs.failSync = errors.New("EIO")
	_, err := l.Sync()
	require.ErrorIs(t, err, ErrLogFailed)
	fs.failSync = nil
	_, err = l.Sync()
	assert.ErrorIs(t, err, ErrLogFailed, "a retried Sync must not report success")
	assert.ErrorIs(t, l.Append(txns(1, 3, 3)), ErrLogFailed)
	assert.ErrorIs(t, l.TruncateAfter(zx(1, 1)), ErrLogFailed)
	assert.Equal(t, uint64(0), l.DurableZxid(), "nothing became durable")

	fs2 := newMemFS()
	l2, _ := openLog(t, fs2, LogConfig{})
	fs2.failWrite = errors.New("ENOSPC")
	require.ErrorIs(t, l2.Append(txns(1, 1, 1)), ErrLogFailed)
	fs2.failWrite = nil
	assert.ErrorIs(t, l2.Append(txns(1, 2, 2)), ErrLogFailed, "a failed write also fails the log")
}
