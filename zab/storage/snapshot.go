package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
)

// Snapshot is a state machine image taken at Zxid: it holds every txn up to and including
// Zxid and none after it.
type Snapshot struct {
	Zxid uint64
	Data []byte
	File string
}

// A snapshot file "snapshot.<zxid hex>" is a 32-byte header and the body:
//
//	magic      [4]byte "ZBKS"
//	version    uint32  (1)
//	zxid       uint64  must match the file name
//	bodyBytes  uint64
//	bodyCRC    uint32  crc32c of the body
//	headerCRC  uint32  crc32c of the 28 bytes before it
const (
	snapshotHeaderBytes = 32
	snapshotPrefix      = "snapshot."
)

var snapshotMagic = [4]byte{'Z', 'B', 'K', 'S'}

func snapshotName(zxid uint64) string { return fmt.Sprintf("%s%016x", snapshotPrefix, zxid) }

func encodeSnapshot(zxid uint64, data []byte) []byte {
	b := make([]byte, 0, snapshotHeaderBytes+len(data))
	b = append(b, snapshotMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint64(b, zxid)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(data, castagnoli))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return append(b, data...)
}

// decodeSnapshot verifies a snapshot file's bytes against the zxid of its name and returns
// the body (aliasing b). It never panics.
func decodeSnapshot(b []byte, zxid uint64) ([]byte, error) {
	if len(b) < snapshotHeaderBytes {
		return nil, fmt.Errorf("%d bytes, shorter than the header", len(b))
	}
	if crc32.Checksum(b[:28], castagnoli) != binary.LittleEndian.Uint32(b[28:]) {
		return nil, errors.New("header checksum mismatch")
	}
	if [4]byte(b[:4]) != snapshotMagic {
		return nil, errors.New("bad magic")
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != 1 {
		return nil, fmt.Errorf("unknown version %d", v)
	}
	if z := binary.LittleEndian.Uint64(b[8:]); z != zxid {
		return nil, fmt.Errorf("header zxid %#x does not match file name zxid %#x", z, zxid)
	}
	body := b[snapshotHeaderBytes:]
	if n := binary.LittleEndian.Uint64(b[16:]); n != uint64(len(body)) {
		return nil, fmt.Errorf("body is %d bytes, header says %d", len(body), n)
	}
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[24:]) {
		return nil, errors.New("body checksum mismatch")
	}
	return body, nil
}

// WriteSnapshot durably and atomically stores a snapshot taken at zxid. It is the first
// half of a snapshot written off the Store's goroutine (Store.AdoptSnapshot is the second):
// it touches only the snapshot's own file and that file's temporary name, so a host may run
// it on a goroutine of its own while the Store's owner appends, syncs and truncates the log,
// but not while a Store method writes or purges snapshots in the same FS (PersistSnapshot,
// SaveSnapshot, AdoptSnapshot): those may write the same name or remove files it counts.
func WriteSnapshot(fs FS, zxid uint64, data []byte) error {
	return writeFileAtomic(fs, snapshotName(zxid), encodeSnapshot(zxid, data))
}

// snapshotZxids returns the zxids of the snapshot files in fs, newest first.
func snapshotZxids(fs FS) ([]uint64, error) {
	names, err := fs.List()
	if err != nil {
		return nil, fmt.Errorf("storage: list snapshot directory: %w", err)
	}
	var zxids []uint64
	for _, name := range names {
		if z, ok := parseZxidName(name, snapshotPrefix); ok {
			zxids = append(zxids, z)
		}
	}
	sort.Slice(zxids, func(i, j int) bool { return zxids[i] > zxids[j] })
	return zxids, nil
}

// LoadSnapshot returns the newest snapshot that verifies, falling back to older ones past
// any that do not (each reported in skipped). ok is false when no snapshot verifies.
func LoadSnapshot(fs FS) (snap Snapshot, ok bool, skipped []SkippedSnapshot, err error) {
	zxids, err := snapshotZxids(fs)
	if err != nil {
		return Snapshot{}, false, nil, err
	}
	for _, z := range zxids {
		name := snapshotName(z)
		b, err := fs.ReadFile(name)
		if err != nil {
			return Snapshot{}, false, skipped, fmt.Errorf("storage: read %s: %w", name, err)
		}
		body, err := decodeSnapshot(b, z)
		if err != nil {
			skipped = append(skipped, SkippedSnapshot{File: name, Reason: err.Error()})
			continue
		}
		return Snapshot{Zxid: z, Data: body, File: name}, true, skipped, nil
	}
	return Snapshot{}, false, skipped, nil
}

// PurgeSnapshots keeps the retainCount newest snapshots that verify and removes every
// older snapshot file (ZooKeeper's autopurge.snapRetainCount). Snapshots newer than the
// oldest one kept are left alone even when they do not verify, for an operator to look at.
// It returns the removed names and the zxid of the oldest snapshot kept: the log must keep
// every txn after it, in case the newer snapshots turn out unreadable.
func PurgeSnapshots(fs FS, retainCount int) (removed []string, oldestKeptZxid uint64, kept int, err error) {
	if retainCount < 1 {
		return nil, 0, 0, fmt.Errorf("storage: snapshot retain count %d, must be at least 1", retainCount)
	}
	zxids, err := snapshotZxids(fs)
	if err != nil {
		return nil, 0, 0, err
	}
	i := 0
	for ; i < len(zxids) && kept < retainCount; i++ {
		b, err := fs.ReadFile(snapshotName(zxids[i]))
		if err != nil {
			return nil, 0, kept, fmt.Errorf("storage: read %s: %w", snapshotName(zxids[i]), err)
		}
		if _, err := decodeSnapshot(b, zxids[i]); err == nil {
			kept++
			oldestKeptZxid = zxids[i]
		}
	}
	if kept < retainCount {
		return nil, oldestKeptZxid, kept, nil
	}
	for _, z := range zxids[i:] {
		if err := fs.Remove(snapshotName(z)); err != nil {
			return removed, oldestKeptZxid, kept, fmt.Errorf("storage: remove %s: %w", snapshotName(z), err)
		}
		removed = append(removed, snapshotName(z))
	}
	if len(removed) > 0 {
		if err := fs.SyncDir(); err != nil {
			return removed, oldestKeptZxid, kept, fmt.Errorf("storage: sync snapshot directory: %w", err)
		}
	}
	return removed, oldestKeptZxid, kept, nil
}
