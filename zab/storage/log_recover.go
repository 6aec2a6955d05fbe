package storage

import (
	"encoding/binary"
	"fmt"
)

// OpenLog recovers the log kept in fs and opens it for appending.
//
// It reads every segment in zxid order and verifies every record: the header, the length,
// the checksum, and that zxids increase. At the first invalid byte it decides between two
// kinds of damage:
//
//   - a torn or corrupt tail: nothing valid follows. This is what a crash during an unsynced
//     write leaves, so the tail is cut (and the cut made durable) and reported in the
//     returned cuts, which the host must log;
//   - damage in the middle: a valid record follows the invalid bytes. No crash can produce
//     that, only a disk that lost synced data, so OpenLog returns a *CorruptionError and
//     changes nothing: cutting there would silently drop synced, possibly committed txns.
//
// Files whose names do not start with "log." are ignored, so the log may share a directory
// with snapshots.
func OpenLog(fs FS, cfg LogConfig) (*Log, []Cut, error) {
	cfg = cfg.withDefaults()
	names, err := fs.List()
	if err != nil {
		return nil, nil, fmt.Errorf("storage: list log directory: %w", err)
	}
	var segs []segment
	for _, name := range names {
		if z, ok := parseZxidName(name, segmentPrefix); ok {
			segs = append(segs, segment{name: name, baseZxid: z})
		}
	}
	l := &Log{fs: fs, cfg: cfg}
	var lastGood uint64
	for i := range segs {
		content, err := fs.ReadFile(segs[i].name)
		if err != nil {
			return nil, nil, fmt.Errorf("storage: read %s: %w", segs[i].name, err)
		}
		prevWant := lastGood
		if i == 0 {
			prevWant = noPrevCheck
		}
		prev, goodBytes, first, last, fault := scanSegment(content, segs[i].baseZxid, prevWant, lastGood, cfg.RecordBytesMax)
		segs[i].prevZxid, segs[i].firstZxid = prev, first
		if fault == "" {
			segs[i].lastZxid, segs[i].sizeBytes = last, int64(len(content))
			lastGood = last
			continue
		}
		if last != 0 {
			lastGood = last
		}
		cuts, err := l.cutTail(segs, i, content, goodBytes, last, lastGood, fault)
		if err != nil {
			return nil, nil, err
		}
		segs[i].lastZxid, segs[i].sizeBytes = last, goodBytes
		if last == 0 {
			segs = segs[:i]
		} else {
			segs = segs[:i+1]
		}
		return l.finishOpen(segs, cuts)
	}
	return l.finishOpen(segs, nil)
}

// finishOpen opens the last segment and makes what recovery read durable: after a process
// crash (not a machine crash) the file may still hold bytes that are in the page cache but
// were never fsynced, and the log must not report them durable until they are.
func (l *Log) finishOpen(segs []segment, cuts []Cut) (*Log, []Cut, error) {
	l.segments = segs
	if len(segs) > 0 {
		l.startZxid = segs[0].prevZxid
	}
	if len(segs) == 0 {
		return l, cuts, nil
	}
	last := segs[len(segs)-1]
	f, err := l.fs.OpenAppend(last.name)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: open %s: %w", last.name, err)
	}
	if err := f.Sync(); err != nil {
		return nil, nil, fmt.Errorf("storage: sync %s: %w", last.name, err)
	}
	if err := l.fs.SyncDir(); err != nil {
		return nil, nil, fmt.Errorf("storage: sync log directory: %w", err)
	}
	l.file = f
	l.lastZxid = last.lastZxid
	l.durableZxid = last.lastZxid
	return l, cuts, nil
}

// noPrevCheck tells scanSegment that the segment is the log's first, whose prev zxid is
// checked against the snapshot by Recover instead.
const noPrevCheck = ^uint64(0)

// scanSegment verifies one segment: its header, its place in the chain (its prev zxid must
// be prevWant), and its records, each above the one before it (the first above the header's
// prev zxid). It returns the prev zxid, how many leading bytes are valid, the first and last
// valid zxids in them (0 if none), and "" or why the byte at goodBytes is not valid.
func scanSegment(content []byte, baseZxid, prevWant, prevZxid uint64, recordBytesMax int) (uint64, int64, uint64, uint64, string) {
	prev, why := decodeSegmentHeader(content, baseZxid)
	if why != "" {
		return 0, 0, 0, 0, why
	}
	if prevWant != noPrevCheck && prev != prevWant {
		return 0, 0, 0, 0, fmt.Sprintf("segment chain broken: segment continues %#x, the log before it ends at %#x", prev, prevWant)
	}
	prevZxid = max(prevZxid, prev)
	off, first, last := segmentHeaderBytes, uint64(0), uint64(0)
	for off < len(content) {
		e, size, fault := decodeRecord(content[off:], recordBytesMax)
		switch {
		case fault != recordOK:
			return prev, int64(off), first, last, fault.String()
		case e.Zxid <= prevZxid:
			return prev, int64(off), first, last, fmt.Sprintf("zxid %#x not above previous %#x", e.Zxid, prevZxid)
		case e.Zxid < baseZxid:
			return prev, int64(off), first, last, fmt.Sprintf("zxid %#x below segment base %#x", e.Zxid, baseZxid)
		}
		if first == 0 {
			first = e.Zxid
		}
		prevZxid, last = e.Zxid, e.Zxid
		off += size
	}
	if last == 0 {
		return prev, int64(off), 0, 0, "segment holds no record"
	}
	return prev, int64(off), first, last, ""
}

// findValidRecord returns the first offset at or after from where a record with a good
// checksum and a zxid above afterZxid starts. The zxid test comes first because it is
// cheap and rejects most garbage before a checksum is computed.
func findValidRecord(content []byte, from int, afterZxid uint64, recordBytesMax int) (int, bool) {
	for off := from; off+recordHeaderBytes <= len(content); off++ {
		if binary.LittleEndian.Uint64(content[off+8:]) <= afterZxid {
			continue
		}
		if _, _, fault := decodeRecord(content[off:], recordBytesMax); fault == recordOK {
			return off, true
		}
	}
	return 0, false
}

// cutTail handles damage found in segs[i] at goodBytes: it returns a *CorruptionError when a
// valid record follows, and otherwise removes everything from the damage on, durably, and
// describes what it removed.
func (l *Log) cutTail(segs []segment, i int, content []byte, goodBytes int64, lastInSeg, lastGood uint64, fault string) ([]Cut, error) {
	max := l.cfg.RecordBytesMax
	if off, ok := findValidRecord(content, int(goodBytes)+1, lastGood, max); ok {
		return nil, &CorruptionError{File: segs[i].name, OffsetBytes: goodBytes, Reason: fault, NextValidFile: segs[i].name, NextValidOffsetBytes: int64(off)}
	}
	later := make([][]byte, 0, len(segs)-i-1)
	for _, seg := range segs[i+1:] {
		b, err := l.fs.ReadFile(seg.name)
		if err != nil {
			return nil, fmt.Errorf("storage: read %s: %w", seg.name, err)
		}
		if off, ok := findValidRecord(b, 0, lastGood, max); ok {
			return nil, &CorruptionError{File: segs[i].name, OffsetBytes: goodBytes, Reason: fault, NextValidFile: seg.name, NextValidOffsetBytes: int64(off)}
		}
		later = append(later, b)
	}

	removeWhole := lastInSeg == 0
	cuts := []Cut{{
		File: segs[i].name, OffsetBytes: goodBytes, BytesCut: int64(len(content)) - goodBytes,
		Reason: fault, LastGoodZxid: lastGood, FileRemoved: removeWhole,
	}}
	if removeWhole {
		cuts[0].OffsetBytes, cuts[0].BytesCut = 0, int64(len(content))
	}
	for j, seg := range segs[i+1:] {
		cuts = append(cuts, Cut{File: seg.name, BytesCut: int64(len(later[j])),
			Reason: "follows the damage in " + segs[i].name, LastGoodZxid: lastGood, FileRemoved: true})
	}

	// Remove newest first, as TruncateAfter does, then cut.
	for j := len(segs) - 1; j > i; j-- {
		if err := l.fs.Remove(segs[j].name); err != nil {
			return nil, fmt.Errorf("storage: remove %s: %w", segs[j].name, err)
		}
	}
	if removeWhole {
		if err := l.fs.Remove(segs[i].name); err != nil {
			return nil, fmt.Errorf("storage: remove %s: %w", segs[i].name, err)
		}
	}
	if err := l.fs.SyncDir(); err != nil {
		return nil, fmt.Errorf("storage: sync log directory: %w", err)
	}
	if !removeWhole {
		f, err := l.fs.OpenAppend(segs[i].name)
		if err != nil {
			return nil, fmt.Errorf("storage: open %s: %w", segs[i].name, err)
		}
		if err := f.Truncate(goodBytes); err != nil {
			return nil, fmt.Errorf("storage: truncate %s: %w", segs[i].name, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("storage: sync %s: %w", segs[i].name, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("storage: close %s: %w", segs[i].name, err)
		}
	}
	return cuts, nil
}
