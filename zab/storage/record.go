package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Entry is one transaction of the log: its zxid (epoch<<32 | counter) and its opaque bytes.
type Entry struct {
	Zxid uint64
	Data []byte
}

// castagnoli is CRC32C, the checksum ext4, iSCSI and etcd's WAL use: hardware accelerated on
// amd64/arm64 and better than IEEE CRC32 at catching the burst errors a disk produces.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A log record on disk is
//
//	crc32c  uint32  over everything after it: length, zxid and data
//	length  uint32  of data
//	zxid    uint64
//	data    [length]byte
//
// all little endian. The checksum covers the length so that a flipped length bit is caught
// by the checksum instead of sending the reader off to a wrong record boundary.
const recordHeaderBytes = 16

// appendRecord appends the encoding of e to dst.
func appendRecord(dst []byte, e Entry) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(e.Data)))
	dst = binary.LittleEndian.AppendUint64(dst, e.Zxid)
	dst = append(dst, e.Data...)
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:], castagnoli))
	return dst
}

// recordFault says why the bytes at some offset are not a valid record.
type recordFault int

const (
	recordOK recordFault = iota
	// recordTorn: the file ends inside the record (a write that did not finish).
	recordTorn
	// recordBadLength: the length field is larger than any record may be.
	recordBadLength
	// recordBadChecksum: the record is complete but its checksum does not verify.
	recordBadChecksum
)

func (f recordFault) String() string {
	switch f {
	case recordOK:
		return "ok"
	case recordTorn:
		return "partial record at end of file"
	case recordBadLength:
		return "record length too large"
	case recordBadChecksum:
		return "checksum mismatch"
	}
	return fmt.Sprintf("recordFault(%d)", int(f))
}

// decodeRecord reads the record at the start of b. It returns the entry (its Data aliases b),
// the record's size in bytes, or the fault that makes it invalid. It never panics.
func decodeRecord(b []byte, recordBytesMax int) (Entry, int, recordFault) {
	if len(b) < recordHeaderBytes {
		return Entry{}, 0, recordTorn
	}
	length := binary.LittleEndian.Uint32(b[4:])
	if uint64(length) > uint64(recordBytesMax) {
		return Entry{}, 0, recordBadLength
	}
	size := recordHeaderBytes + int(length)
	if len(b) < size {
		return Entry{}, 0, recordTorn
	}
	if crc32.Checksum(b[4:size], castagnoli) != binary.LittleEndian.Uint32(b) {
		return Entry{}, 0, recordBadChecksum
	}
	return Entry{Zxid: binary.LittleEndian.Uint64(b[8:]), Data: b[recordHeaderBytes:size]}, size, recordOK
}

// A segment file starts with a header:
//
//	magic    [4]byte "ZBKL"
//	version  uint32  (1)
//	baseZxid uint64  the zxid in the file name: no record in the file is below it
//	prevZxid uint64  the zxid of the txn just before the file's first record
//	crc32c   uint32  over the 24 bytes before it
//
// The base zxid repeats the file name so that a file renamed or copied by hand under the
// wrong name is caught instead of reordering history. The prev zxid chains the segments:
// each must name the last zxid of the one before it, so a lost segment file is a detected
// gap and not a silent hole, and the first segment says from where the log is complete
// (the snapshot it continues), which recovery checks against the snapshot it loads.
//
// A segment's base is normally its first record's zxid, so prev < base. The one exception
// is the first segment after a SNAP install (Log.retireThrough): it is rewritten under its
// own name, to replace the old file atomically, with the records above the snapshot only
// and the snapshot's zxid as prev, which may then be at or above the base. The rule that
// holds for every segment is prev < first record (checked by scanSegment).
const (
	segmentHeaderBytes = 28
	segmentVersion     = 1
)

var segmentMagic = [4]byte{'Z', 'B', 'K', 'L'}

func appendSegmentHeader(dst []byte, baseZxid, prevZxid uint64) []byte {
	start := len(dst)
	dst = append(dst, segmentMagic[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, segmentVersion)
	dst = binary.LittleEndian.AppendUint64(dst, baseZxid)
	dst = binary.LittleEndian.AppendUint64(dst, prevZxid)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeSegmentHeader checks the header at the start of b against the base zxid of the
// file's name and returns its prev zxid, or why it is not valid.
func decodeSegmentHeader(b []byte, baseZxid uint64) (uint64, string) {
	if len(b) < segmentHeaderBytes {
		return 0, "partial segment header"
	}
	if crc32.Checksum(b[:24], castagnoli) != binary.LittleEndian.Uint32(b[24:]) {
		return 0, "segment header checksum mismatch"
	}
	if [4]byte(b[:4]) != segmentMagic {
		return 0, "bad segment magic"
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != segmentVersion {
		return 0, fmt.Sprintf("unknown segment version %d", v)
	}
	if z := binary.LittleEndian.Uint64(b[8:]); z != baseZxid {
		return 0, fmt.Sprintf("segment header zxid %#x does not match file name zxid %#x", z, baseZxid)
	}
	return binary.LittleEndian.Uint64(b[16:]), ""
}

const segmentPrefix = "log."

// segmentName is ZooKeeper's naming: "log." and the zxid of the first record in hex, padded
// so that names sort in zxid order.
func segmentName(baseZxid uint64) string { return fmt.Sprintf("%s%016x", segmentPrefix, baseZxid) }

// parseZxidName parses prefix + 16 hex digits; ok is false for any other name.
func parseZxidName(name, prefix string) (uint64, bool) {
	if len(name) != len(prefix)+16 || name[:len(prefix)] != prefix {
		return 0, false
	}
	var z uint64
	for _, c := range name[len(prefix):] {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, false
		}
		z = z<<4 | d
	}
	return z, true
}
