package storage

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoSegmentLog writes a synced log of two segments: A holds (1,1)..(1,3), B (1,4)..(1,6).
// It returns the names and the offset of each record of B.
func twoSegmentLog(t *testing.T) (fs *memFS, a, b string, offsetsB []int) {
	t.Helper()
	fs = newMemFS()
	l, _ := openLog(t, fs, LogConfig{SegmentBytesMax: 1})
	require.NoError(t, l.Append(txns(1, 1, 3)))
	require.NoError(t, l.Append(txns(1, 4, 6)))
	_, err := l.Sync()
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.Equal(t, []string{segmentName(zx(1, 1)), segmentName(zx(1, 4))}, l.Segments())
	off := segmentHeaderBytes
	for _, e := range txns(1, 4, 6) {
		offsetsB = append(offsetsB, off)
		off += recordHeaderBytes + len(e.Data)
	}
	offsetsB = append(offsetsB, off) // end of file
	return fs, l.Segments()[0], l.Segments()[1], offsetsB
}

func setContent(fs *memFS, name string, content []byte) {
	if fs.files[name] == nil {
		fs.files[name] = &memFile{}
	}
	fs.files[name].data = content
	fs.files[name].synced = append([]byte(nil), content...)
}

func TestRecoveryCutsADamagedTailAndReportsIt(t *testing.T) {
	type damage func(fs *memFS, a, b string, off []int)
	for _, tc := range []struct {
		name       string
		damage     damage
		want       []Entry
		reason     string
		cutFile    int // 0 = A, 1 = B
		cutAtIndex int // index into offsetsB of the cut's offset; -1 when the file is removed
	}{
		{
			name:   "file ends inside the last record",
			damage: func(fs *memFS, a, b string, off []int) { setContent(fs, b, fs.files[b].data[:off[2]+20]) },
			want:   txns(1, 1, 5), reason: "partial record at end of file", cutFile: 1, cutAtIndex: 2,
		},
		{
			name:   "file ends inside the last record's header",
			damage: func(fs *memFS, a, b string, off []int) { setContent(fs, b, fs.files[b].data[:off[2]+5]) },
			want:   txns(1, 1, 5), reason: "partial record at end of file", cutFile: 1, cutAtIndex: 2,
		},
		{
			name:   "bit flip in the last record",
			damage: func(fs *memFS, a, b string, off []int) { fs.flip(b, off[2]+18, 3) },
			want:   txns(1, 1, 5), reason: "checksum mismatch", cutFile: 1, cutAtIndex: 2,
		},
		{
			name: "impossible length in the last record",
			damage: func(fs *memFS, a, b string, off []int) {
				binary.LittleEndian.PutUint32(fs.files[b].data[off[2]+4:], 0xffffffff)
			},
			want: txns(1, 1, 5), reason: "record length too large", cutFile: 1, cutAtIndex: 2,
		},
		{
			name: "zeros after the last record (a preallocated or half-flushed tail)",
			damage: func(fs *memFS, a, b string, off []int) {
				setContent(fs, b, append(fs.files[b].data, make([]byte, 100)...))
			},
			want: txns(1, 1, 6), reason: "checksum mismatch", cutFile: 1, cutAtIndex: 3,
		},
		{
			name: "valid record whose zxid does not increase",
			damage: func(fs *memFS, a, b string, off []int) {
				setContent(fs, b, appendRecord(fs.files[b].data, Entry{Zxid: zx(1, 2), Data: []byte("stale")}))
			},
			want: txns(1, 1, 6), reason: "zxid 0x100000002 not above previous 0x100000006", cutFile: 1, cutAtIndex: 3,
		},
		{
			name:   "last segment shorter than its header",
			damage: func(fs *memFS, a, b string, off []int) { setContent(fs, b, fs.files[b].data[:7]) },
			want:   txns(1, 1, 3), reason: "partial segment header", cutFile: 1, cutAtIndex: -1,
		},
		{
			name:   "last segment holds only its header",
			damage: func(fs *memFS, a, b string, off []int) { setContent(fs, b, fs.files[b].data[:off[0]]) },
			want:   txns(1, 1, 3), reason: "segment holds no record", cutFile: 1, cutAtIndex: -1,
		},
		{
			name:   "first record of the last segment torn",
			damage: func(fs *memFS, a, b string, off []int) { setContent(fs, b, fs.files[b].data[:off[0]+3]) },
			want:   txns(1, 1, 3), reason: "partial record at end of file", cutFile: 1, cutAtIndex: -1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, a, b, off := twoSegmentLog(t)
			tc.damage(fs, a, b, off)
			sizeBefore := int64(len(fs.files[b].data))

			l, cuts := openLog(t, fs, LogConfig{SegmentBytesMax: 1})
			assert.Equal(t, tc.want, allEntries(t, l), "recovered entries")
			require.Len(t, cuts, 1, "exactly one cut reported: %v", cuts)
			cut := cuts[0]
			assert.Equal(t, []string{a, b}[tc.cutFile], cut.File)
			assert.Equal(t, tc.reason, cut.Reason)
			assert.Equal(t, tc.want[len(tc.want)-1].Zxid, cut.LastGoodZxid)
			if tc.cutAtIndex < 0 {
				assert.True(t, cut.FileRemoved, "the segment with no valid record is removed")
				assert.Equal(t, sizeBefore, cut.BytesCut)
				assert.NotContains(t, l.Segments(), b)
			} else {
				assert.False(t, cut.FileRemoved)
				assert.Equal(t, int64(off[tc.cutAtIndex]), cut.OffsetBytes)
				assert.Equal(t, sizeBefore-int64(off[tc.cutAtIndex]), cut.BytesCut)
			}

			// The cut is durable: a crash right after recovery finds a clean log, and the
			// log appends where the valid prefix ends.
			fs.crash(nil)
			l2, cuts2 := openLog(t, fs, LogConfig{SegmentBytesMax: 1})
			assert.Empty(t, cuts2, "recovering twice cuts nothing more")
			assert.Equal(t, tc.want, allEntries(t, l2))
			next := uint32(tc.want[len(tc.want)-1].Zxid) + 1
			require.NoError(t, l2.Append(txns(1, next, next)))
			_, err := l2.Sync()
			require.NoError(t, err)
			fs.crash(nil)
			l3, cuts3 := openLog(t, fs, LogConfig{SegmentBytesMax: 1})
			assert.Empty(t, cuts3)
			assert.Equal(t, txns(1, 1, next), allEntries(t, l3))
		})
	}
}

func TestRecoveryRefusesCorruptionInTheMiddle(t *testing.T) {
	for _, tc := range []struct {
		name      string
		damage    func(fs *memFS, a, b string, off []int)
		file      int // 0 = A, 1 = B
		offset    func(fs *memFS, a string, off []int) int64
		nextValid int // 0 = A, 1 = B
	}{
		{
			name:      "bit flip in a record followed by valid ones",
			damage:    func(fs *memFS, a, b string, off []int) { fs.flip(b, off[1]+17, 0) },
			file:      1,
			offset:    func(fs *memFS, a string, off []int) int64 { return int64(off[1]) },
			nextValid: 1,
		},
		{
			name: "impossible length in a record followed by valid ones",
			damage: func(fs *memFS, a, b string, off []int) {
				binary.LittleEndian.PutUint32(fs.files[b].data[off[0]+4:], 1<<30)
			},
			file:      1,
			offset:    func(fs *memFS, a string, off []int) int64 { return int64(off[0]) },
			nextValid: 1,
		},
		{
			name: "length that points past the end of file (looks torn, is not)",
			damage: func(fs *memFS, a, b string, off []int) {
				binary.LittleEndian.PutUint32(fs.files[b].data[off[0]+4:], 4000)
			},
			file:      1,
			offset:    func(fs *memFS, a string, off []int) int64 { return int64(off[0]) },
			nextValid: 1,
		},
		{
			name:      "bit flip in the header of a segment holding records",
			damage:    func(fs *memFS, a, b string, off []int) { fs.flip(b, 9, 1) },
			file:      1,
			offset:    func(fs *memFS, a string, off []int) int64 { return 0 },
			nextValid: 1,
		},
		{
			name:      "bit flip in the last record of an earlier segment",
			damage:    func(fs *memFS, a, b string, off []int) { fs.flip(a, len(fs.files[a].data)-1, 7) },
			file:      0,
			offset:    func(fs *memFS, a string, off []int) int64 { return int64(len(fs.files[a].data) - 23) },
			nextValid: 1,
		},
		{
			name:      "earlier segment lost its last bytes",
			damage:    func(fs *memFS, a, b string, off []int) { setContent(fs, a, fs.files[a].data[:len(fs.files[a].data)-4]) },
			file:      0,
			offset:    func(fs *memFS, a string, off []int) int64 { return int64(len(fs.files[a].data) - 19) },
			nextValid: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, a, b, off := twoSegmentLog(t)
			tc.damage(fs, a, b, off)
			before := map[string]string{a: string(fs.files[a].data), b: string(fs.files[b].data)}

			_, cuts, err := OpenLog(fs, LogConfig{})
			require.ErrorIs(t, err, ErrCorrupt, "damage followed by a valid record must be an error, got cuts %v", cuts)
			var ce *CorruptionError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, []string{a, b}[tc.file], ce.File)
			assert.Equal(t, tc.offset(fs, a, off), ce.OffsetBytes)
			assert.Equal(t, []string{a, b}[tc.nextValid], ce.NextValidFile)
			assert.Empty(t, cuts)
			assert.Equal(t, before, map[string]string{a: string(fs.files[a].data), b: string(fs.files[b].data)},
				"recovery changes nothing when it refuses")
		})
	}
}

func TestRecoveryIgnoresOtherFiles(t *testing.T) {
	fs, _, _, _ := twoSegmentLog(t)
	for _, name := range []string{"snapshot.0000000100000002", "log.notazxid", "log.00000001000000", "acceptedEpoch"} {
		fs.files[name] = &memFile{data: []byte("x"), synced: []byte("x")}
	}
	l, cuts := openLog(t, fs, LogConfig{})
	assert.Empty(t, cuts)
	assert.Equal(t, txns(1, 1, 6), allEntries(t, l))
}

func TestRecoveryOfAnUnsyncedProcessCrashMakesWhatItReadDurable(t *testing.T) {
	// A process crash leaves unsynced bytes readable in the page cache; recovery must fsync
	// them before calling them durable, or a later machine crash takes back txns the node
	// already advertised.
	fs := newMemFS()
	l, _ := openLog(t, fs, LogConfig{})
	require.NoError(t, l.Append(txns(1, 1, 3)))
	require.NoError(t, fs.SyncDir())

	l2, _ := openLog(t, fs, LogConfig{}) // no crash: the process restarted
	assert.Equal(t, zx(1, 3), l2.DurableZxid())
	fs.crash(nil)
	l3, _ := openLog(t, fs, LogConfig{})
	assert.Equal(t, txns(1, 1, 3), allEntries(t, l3), "what recovery reported durable survives a machine crash")
}

func TestRecoveryRefusesALostMiddleSegment(t *testing.T) {
	fs := newMemFS()
	l, _ := openLog(t, fs, LogConfig{SegmentBytesMax: 1})
	for c := uint32(1); c <= 3; c++ {
		require.NoError(t, l.Append(txns(1, c*3-2, c*3)))
	}
	_, err := l.Sync()
	require.NoError(t, err)
	segs := l.Segments()
	require.Len(t, segs, 3)
	require.NoError(t, fs.Remove(segs[1]))

	_, _, err = OpenLog(fs, LogConfig{})
	var ce *CorruptionError
	require.ErrorAs(t, err, &ce, "records (1,4)..(1,6) are gone: the chain of prev zxids must show it")
	assert.Equal(t, segs[2], ce.File)
	assert.Equal(t, "segment chain broken: segment continues 0x100000006, the log before it ends at 0x100000003", ce.Reason)
}
