package storage

import "fmt"

// holdsForeignHistory reports whether the log holds history below zxid that a snapshot at
// zxid must retire: the log starts below zxid and lacks zxid itself. A log that holds zxid
// agrees with every history holding zxid up to it (ZAB's prefix property: a zxid names one
// txn), so its older records may stay for a fallback to an older snapshot; a log that lacks
// it may hold a history the leader never had (ZOOKEEPER-2832), which must never be replayed
// nor chained onto.
func (l *Log) holdsForeignHistory(zxid uint64) (bool, error) {
	if len(l.segments) == 0 || l.startZxid >= zxid {
		return false, nil
	}
	has, err := l.contains(zxid)
	return !has, err
}

// retireThrough makes the log start right after zxid, durably, while every record above
// zxid stays durable at every instant. The snapshot at zxid must already be durable: it is
// what holds the history the retired records were part of. It returns what it removed, as
// recovery reports it.
//
// The steps, and what a power cut after each leaves (the prefix model of storage.FS and
// sim/vdisk: a crash keeps the synced directory plus a prefix of the later operations):
//
//  1. sync the log: the records above zxid are durable before anything is removed;
//  2. remove the segments whose records are all at or below zxid, oldest first, then sync
//     the directory. A cut leaves a suffix of the chain: the log still starts below zxid
//     and lacks it, so recovery sees an install to finish and runs this again;
//  3. if the first remaining segment starts below zxid, write its records above zxid, after
//     a header whose prev zxid is zxid, to "<name>.tmp", sync it, rename it over the
//     segment and sync the directory. The rename is the commit point: before it the old
//     segment is whole (step 2's state) and the temporary file is removed at recovery;
//     after it the new one is whole, because it was synced before the rename.
//
// No step leaves a hole: the records above zxid are in the old segment or in its
// replacement, never in neither. And no record at or below zxid survives a completed
// retirement, so a snapshot at zxid that later proves unreadable cannot fall back to an
// older one and replay this node's old history over the gap: the log's start (zxid) makes
// that a detected ErrLogGap.
func (l *Log) retireThrough(zxid uint64) ([]Cut, error) {
	if l.err != nil {
		return nil, l.err
	}
	if _, err := l.Sync(); err != nil {
		return nil, err
	}
	var cuts []Cut
	removed := false
	for len(l.segments) > 0 && l.segments[0].lastZxid <= zxid {
		seg := l.segments[0]
		if len(l.segments) == 1 && l.file != nil {
			if err := l.file.Close(); err != nil {
				return cuts, l.fail("close "+seg.name, err)
			}
			l.file = nil
		}
		if err := l.fs.Remove(seg.name); err != nil {
			return cuts, l.fail("remove "+seg.name, err)
		}
		cuts = append(cuts, Cut{File: seg.name, BytesCut: seg.sizeBytes, FileRemoved: true, LastGoodZxid: zxid,
			Reason: fmt.Sprintf("superseded by the installed snapshot at %#x", zxid)})
		l.segments = l.segments[1:]
		removed = true
	}
	if removed {
		if err := l.fs.SyncDir(); err != nil {
			return cuts, l.fail("sync log directory", err)
		}
	}
	l.startZxid = zxid
	if len(l.segments) == 0 {
		l.lastZxid, l.durableZxid = 0, 0
		return cuts, nil
	}
	if l.segments[0].prevZxid >= zxid {
		return cuts, nil
	}
	cut, err := l.rewriteFirstAfter(zxid)
	if err != nil {
		return cuts, err
	}
	return append(cuts, cut), nil
}

// rewriteFirstAfter is step 3 of retireThrough: it replaces the first segment, under its own
// name, by one holding only its records above zxid, chained to zxid.
func (l *Log) rewriteFirstAfter(zxid uint64) (Cut, error) {
	seg := &l.segments[0]
	isOpen := len(l.segments) == 1 && l.file != nil
	content, err := l.fs.ReadFile(seg.name)
	if err != nil {
		return Cut{}, l.fail("read "+seg.name, err)
	}
	off, first := segmentHeaderBytes, uint64(0)
	for off < len(content) {
		e, size, fault := decodeRecord(content[off:], l.cfg.RecordBytesMax)
		if fault != recordOK {
			return Cut{}, l.fail("rewrite "+seg.name, &CorruptionError{File: seg.name, OffsetBytes: int64(off),
				Reason: fault.String() + " (damaged after recovery)", NextValidFile: seg.name, NextValidOffsetBytes: -1})
		}
		if e.Zxid > zxid {
			first = e.Zxid
			break
		}
		off += size
	}
	if first == 0 {
		panic(fmt.Sprintf("storage: segment %s ends at %#x, above %#x, yet holds no record above it", seg.name, seg.lastZxid, zxid))
	}
	rewritten := appendSegmentHeader(make([]byte, 0, segmentHeaderBytes+len(content)-off), seg.baseZxid, zxid)
	rewritten = append(rewritten, content[off:]...)

	tmp := seg.name + tempSuffix
	f, err := l.fs.Create(tmp)
	if err != nil {
		return Cut{}, l.fail("create "+tmp, err)
	}
	n, err := f.Write(rewritten)
	if err == nil && n != len(rewritten) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(rewritten))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Cut{}, l.fail("write "+tmp, err)
	}
	if isOpen {
		// The open handle names the old file, which the rename unlinks.
		if err := l.file.Close(); err != nil {
			return Cut{}, l.fail("close "+seg.name, err)
		}
		l.file = nil
	}
	if err := l.fs.Rename(tmp, seg.name); err != nil {
		return Cut{}, l.fail("rename "+tmp, err)
	}
	if err := l.fs.SyncDir(); err != nil {
		return Cut{}, l.fail("sync log directory", err)
	}
	if isOpen {
		if l.file, err = l.fs.OpenAppend(seg.name); err != nil {
			return Cut{}, l.fail("open "+seg.name, err)
		}
	}
	cut := Cut{File: seg.name, OffsetBytes: segmentHeaderBytes, BytesCut: int64(off - segmentHeaderBytes), LastGoodZxid: zxid,
		Reason: fmt.Sprintf("records at or below the installed snapshot at %#x rewritten away; the segment now continues it", zxid)}
	seg.prevZxid, seg.firstZxid, seg.sizeBytes = zxid, first, int64(len(rewritten))
	return cut, nil
}
