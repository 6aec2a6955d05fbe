package storage

import (
	"errors"
	"fmt"
)

// LogConfig sizes the transaction log.
type LogConfig struct {
	// SegmentBytesMax is the size at which the log starts a new segment file (checked before
	// each Append, so a segment may exceed it by one batch). Default 64 MiB, ZooKeeper's
	// preallocation size.
	SegmentBytesMax int64
	// RecordBytesMax bounds one record's data. Recovery treats a larger length field as
	// damage. Default 16 MiB (ZooKeeper's jute.maxbuffer is 1 MiB by default, with room for
	// operators who raise it).
	RecordBytesMax int
}

const (
	defaultSegmentBytesMax = 64 << 20
	defaultRecordBytesMax  = 16 << 20
)

func (c LogConfig) withDefaults() LogConfig {
	if c.SegmentBytesMax <= 0 {
		c.SegmentBytesMax = defaultSegmentBytesMax
	}
	if c.RecordBytesMax <= 0 {
		c.RecordBytesMax = defaultRecordBytesMax
	}
	return c
}

// ErrZxidOrder is returned by Append for an entry whose zxid is not above every zxid
// already in the log: the log is a history, and recovery would cut such a record.
var ErrZxidOrder = errors.New("storage: zxid not above the last logged zxid")

// ErrRecordTooLarge is returned by Append for an entry larger than RecordBytesMax.
var ErrRecordTooLarge = errors.New("storage: record larger than RecordBytesMax")

// ErrLogFailed wraps the first I/O error the log met. After it the log refuses every call:
// a failed write or fsync leaves the file in an unknown state (PostgreSQL's "fsyncgate":
// after a failed fsync Linux may drop the dirty pages and report the next fsync as a
// success), so the only safe reaction is to stop and recover from disk.
var ErrLogFailed = errors.New("storage: log failed; restart and recover")

// segment is what the log knows about one segment file.
type segment struct {
	name      string
	baseZxid  uint64
	prevZxid  uint64 // the zxid before its first record (see the segment header)
	firstZxid uint64 // its first record's zxid: baseZxid, except after retireThrough
	lastZxid  uint64 // 0 while the segment holds no record
	sizeBytes int64
}

// Log is the transaction log: segment files "log.<first zxid hex>" in one FS, each record
// checksummed. Appends are written at once and made durable by Sync, so a host can batch
// many appends into one fsync (group commit).
type Log struct {
	fs  FS
	cfg LogConfig

	segments []segment // in zxid order; the last one is open in file
	file     File      // nil when the log has no segment

	startZxid   uint64 // the log holds every txn after this one (see StartZxid)
	lastZxid    uint64 // highest zxid appended (0 for an empty log)
	durableZxid uint64 // highest zxid known durable
	fileDirty   bool   // bytes written to file since its last Sync
	dirDirty    bool   // segment created or removed since the last SyncDir

	err error // sticky: see ErrLogFailed
	buf []byte
}

// LastZxid is the highest zxid appended, durable or not. A node that returns to election
// without restarting must advertise this, its last logged zxid, and not its last applied one
// (ZOOKEEPER-2845).
func (l *Log) LastZxid() uint64 { return l.lastZxid }

// DurableZxid is the highest zxid that a crash cannot take away.
func (l *Log) DurableZxid() uint64 { return l.durableZxid }

// StartZxid is where the log's history starts: it holds every txn after StartZxid (the
// txns up to it are in a snapshot, or there are none when it is 0). It is recorded in each
// segment header as the segment's prev zxid, so it survives restarts while the log has a
// segment.
func (l *Log) StartZxid() uint64 { return l.startZxid }

// Segments returns the names of the log's segment files in zxid order.
func (l *Log) Segments() []string {
	names := make([]string, len(l.segments))
	for i, s := range l.segments {
		names[i] = s.name
	}
	return names
}

func (l *Log) fail(op string, err error) error {
	l.err = fmt.Errorf("%w: %s: %w", ErrLogFailed, op, err)
	return l.err
}

// Append writes entries at the end of the log in one write, without syncing. Their zxids
// must increase and be above LastZxid. When the current segment has reached SegmentBytesMax,
// Append first syncs and closes it and starts a new one: only the last segment may then hold
// unsynced bytes, which is what lets recovery call damage in any earlier segment corruption
// rather than a torn write.
func (l *Log) Append(entries []Entry) error {
	if l.err != nil {
		return l.err
	}
	prev := l.lastZxid
	for i, e := range entries {
		if e.Zxid <= prev || (i == 0 && len(l.segments) == 0 && e.Zxid <= l.startZxid) {
			return fmt.Errorf("%w: entry %d has zxid %#x, previous %#x", ErrZxidOrder, i, e.Zxid, prev)
		}
		if len(e.Data) > l.cfg.RecordBytesMax {
			return fmt.Errorf("%w: zxid %#x has %d bytes, limit %d", ErrRecordTooLarge, e.Zxid, len(e.Data), l.cfg.RecordBytesMax)
		}
		prev = e.Zxid
	}
	if len(entries) == 0 {
		return nil
	}
	if l.file != nil && l.segments[len(l.segments)-1].sizeBytes >= l.cfg.SegmentBytesMax {
		if err := l.roll(); err != nil {
			return err
		}
	}
	l.buf = l.buf[:0]
	if l.file == nil {
		seg := segment{name: segmentName(entries[0].Zxid), baseZxid: entries[0].Zxid, firstZxid: entries[0].Zxid, prevZxid: l.lastZxid}
		if len(l.segments) == 0 {
			seg.prevZxid = l.startZxid
		}
		f, err := l.fs.Create(seg.name)
		if err != nil {
			return l.fail("create "+seg.name, err)
		}
		l.file = f
		l.segments = append(l.segments, seg)
		l.dirDirty = true
		l.buf = appendSegmentHeader(l.buf, seg.baseZxid, seg.prevZxid)
	}
	for _, e := range entries {
		l.buf = appendRecord(l.buf, e)
	}
	seg := &l.segments[len(l.segments)-1]
	n, err := l.file.Write(l.buf)
	if err == nil && n != len(l.buf) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(l.buf))
	}
	if err != nil {
		return l.fail("write "+seg.name, err)
	}
	seg.sizeBytes += int64(len(l.buf))
	seg.lastZxid = prev
	l.lastZxid = prev
	l.fileDirty = true
	return nil
}

// roll makes the current segment durable and closes it; the next Append starts a new one.
func (l *Log) roll() error {
	if _, err := l.Sync(); err != nil {
		return err
	}
	if err := l.file.Close(); err != nil {
		return l.fail("close "+l.segments[len(l.segments)-1].name, err)
	}
	l.file = nil
	return nil
}

// Sync makes every appended entry durable with one fsync of the current segment (and of the
// directory when a segment was created or removed) and returns the highest durable zxid.
func (l *Log) Sync() (uint64, error) {
	if l.err != nil {
		return l.durableZxid, l.err
	}
	if l.file != nil && l.fileDirty {
		if err := l.file.Sync(); err != nil {
			return l.durableZxid, l.fail("sync "+l.segments[len(l.segments)-1].name, err)
		}
		l.fileDirty = false
	}
	if l.dirDirty {
		if err := l.fs.SyncDir(); err != nil {
			return l.durableZxid, l.fail("sync log directory", err)
		}
		l.dirDirty = false
	}
	l.durableZxid = l.lastZxid
	return l.durableZxid, nil
}

// TruncateAfter durably removes every entry above zxid (ZAB's TRUNC: the follower holds
// proposals the new leader never committed). When it returns nil the cut survives a crash.
//
// Whole segments above zxid are removed newest first and the removal is made durable before
// the remaining segment is cut, so a crash part way leaves a shorter log and never a log
// with a hole in it (an interrupted TRUNC must not leave disk and memory disagreeing,
// ZOOKEEPER-5094).
func (l *Log) TruncateAfter(zxid uint64) error {
	if l.err != nil {
		return l.err
	}
	if zxid >= l.lastZxid {
		return nil
	}
	if l.file != nil {
		if err := l.file.Close(); err != nil {
			return l.fail("close "+l.segments[len(l.segments)-1].name, err)
		}
		l.file = nil
		l.fileDirty = false
	}
	removed := false
	for len(l.segments) > 0 && l.segments[len(l.segments)-1].firstZxid > zxid {
		name := l.segments[len(l.segments)-1].name
		if err := l.fs.Remove(name); err != nil {
			return l.fail("remove "+name, err)
		}
		l.segments = l.segments[:len(l.segments)-1]
		removed = true
	}
	if removed || l.dirDirty {
		if err := l.fs.SyncDir(); err != nil {
			return l.fail("sync log directory", err)
		}
		l.dirDirty = false
	}
	l.lastZxid = 0
	if len(l.segments) == 0 {
		l.durableZxid = 0
		return nil
	}
	seg := &l.segments[len(l.segments)-1]
	f, err := l.fs.OpenAppend(seg.name)
	if err != nil {
		return l.fail("open "+seg.name, err)
	}
	l.file = f
	if seg.lastZxid > zxid {
		content, err := l.fs.ReadFile(seg.name)
		if err != nil {
			return l.fail("read "+seg.name, err)
		}
		keepBytes, lastKept, err := l.offsetAfter(seg.name, content, zxid)
		if err != nil {
			return l.fail("truncate "+seg.name, err)
		}
		if err := f.Truncate(keepBytes); err != nil {
			return l.fail("truncate "+seg.name, err)
		}
		if err := f.Sync(); err != nil {
			return l.fail("sync "+seg.name, err)
		}
		seg.sizeBytes = keepBytes
		seg.lastZxid = lastKept
	}
	// Every earlier segment was synced when the log rolled past it, and this one was synced
	// by the cut or when the following segment was started.
	l.lastZxid = seg.lastZxid
	l.durableZxid = seg.lastZxid
	return nil
}

// offsetAfter returns the size of the prefix of a segment that holds its records up to
// zxid, and the last zxid in that prefix.
func (l *Log) offsetAfter(name string, content []byte, zxid uint64) (int64, uint64, error) {
	off := segmentHeaderBytes
	last := uint64(0)
	for off < len(content) {
		e, size, fault := decodeRecord(content[off:], l.cfg.RecordBytesMax)
		if fault != recordOK {
			return 0, 0, &CorruptionError{File: name, OffsetBytes: int64(off), Reason: fault.String(), NextValidFile: name, NextValidOffsetBytes: -1}
		}
		if e.Zxid > zxid {
			break
		}
		last = e.Zxid
		off += size
	}
	if last == 0 {
		panic(fmt.Sprintf("storage: segment %s kept by a truncation to %#x holds no record at or below it", name, zxid))
	}
	return int64(off), last, nil
}

// EntriesAfter returns every entry with a zxid above zxid, in order, re-verifying each
// record's checksum as it reads.
func (l *Log) EntriesAfter(zxid uint64) ([]Entry, error) {
	var out []Entry
	for _, seg := range l.segments {
		if seg.lastZxid <= zxid {
			continue
		}
		es, err := l.readSegment(seg)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Zxid > zxid {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// readSegment reads and verifies every record of a segment.
func (l *Log) readSegment(seg segment) ([]Entry, error) {
	content, err := l.fs.ReadFile(seg.name)
	if err != nil {
		return nil, fmt.Errorf("storage: read %s: %w", seg.name, err)
	}
	var out []Entry
	off := segmentHeaderBytes
	for off < len(content) {
		e, size, fault := decodeRecord(content[off:], l.cfg.RecordBytesMax)
		if fault != recordOK {
			return nil, &CorruptionError{File: seg.name, OffsetBytes: int64(off), Reason: fault.String() + " (damaged after recovery)", NextValidFile: seg.name, NextValidOffsetBytes: -1}
		}
		out = append(out, e)
		off += size
	}
	return out, nil
}

// contains reports whether the log holds an entry with exactly this zxid.
func (l *Log) contains(zxid uint64) (bool, error) {
	for _, seg := range l.segments {
		if seg.baseZxid > zxid || seg.lastZxid < zxid {
			continue
		}
		es, err := l.readSegment(seg)
		if err != nil {
			return false, err
		}
		for _, e := range es {
			if e.Zxid == zxid {
				return true, nil
			}
		}
	}
	return false, nil
}

// PurgeThrough removes the segments whose every entry is at or below zxid (covered by a
// retained snapshot), oldest first so that a crash part way leaves a suffix of the log. The
// last segment is never removed: it is the one being appended to.
func (l *Log) PurgeThrough(zxid uint64) ([]string, error) {
	if l.err != nil {
		return nil, l.err
	}
	var removed []string
	for len(l.segments) > 1 && l.segments[0].lastZxid <= zxid {
		name := l.segments[0].name
		if err := l.fs.Remove(name); err != nil {
			return removed, l.fail("remove "+name, err)
		}
		removed = append(removed, name)
		l.segments = l.segments[1:]
		l.startZxid = l.segments[0].prevZxid
	}
	if len(removed) > 0 {
		if err := l.fs.SyncDir(); err != nil {
			return removed, l.fail("sync log directory", err)
		}
	}
	return removed, nil
}

// Reset durably removes the whole log and restarts it after zxid: the next segment records
// that the log continues from there. Used when a snapshot at zxid replaces the history.
func (l *Log) Reset(zxid uint64) error {
	if l.err != nil {
		return l.err
	}
	if err := l.TruncateAfter(0); err != nil {
		return err
	}
	if len(l.segments) != 0 {
		panic(fmt.Sprintf("storage: TruncateAfter(0) left segments %v", l.Segments()))
	}
	l.startZxid = zxid
	return nil
}

// Close releases the open segment without syncing it.
func (l *Log) Close() error {
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	if l.err == nil {
		l.err = errors.New("storage: log closed")
	}
	return err
}
