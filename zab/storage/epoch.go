package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The two epoch files of ZooKeeper's QuorumPeer. acceptedEpoch is the newest epoch this node
// promised to follow (written in discovery before acking NEWEPOCH, ZOOKEEPER-1291);
// currentEpoch is the epoch whose initial history this node holds durably (written at
// NEWLEADER only after the synced txns are durable, ZOOKEEPER-4643).
const (
	AcceptedEpochFile = "acceptedEpoch"
	CurrentEpochFile  = "currentEpoch"
)

// An epoch file is 16 bytes: magic "ZBKE", version uint32 (1), epoch uint32, crc32c of the
// first 12 bytes; little endian.
const epochFileBytes = 16

var epochMagic = [4]byte{'Z', 'B', 'K', 'E'}

func encodeEpoch(epoch uint32) []byte {
	b := make([]byte, 0, epochFileBytes)
	b = append(b, epochMagic[:]...)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, epoch)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeEpoch(b []byte) (uint32, error) {
	switch {
	case len(b) != epochFileBytes:
		return 0, fmt.Errorf("%d bytes, want %d", len(b), epochFileBytes)
	case crc32.Checksum(b[:12], castagnoli) != binary.LittleEndian.Uint32(b[12:]):
		return 0, errors.New("checksum mismatch")
	case [4]byte(b[:4]) != epochMagic:
		return 0, errors.New("bad magic")
	case binary.LittleEndian.Uint32(b[4:]) != 1:
		return 0, fmt.Errorf("unknown version %d", binary.LittleEndian.Uint32(b[4:]))
	}
	return binary.LittleEndian.Uint32(b[8:]), nil
}

// WriteEpoch durably records epoch in the named epoch file (atomically: a crash leaves the
// old value or the new one).
func WriteEpoch(fs FS, name string, epoch uint32) error {
	return writeFileAtomic(fs, name, encodeEpoch(epoch))
}

// ReadEpoch returns the epoch in the named file, and 0 when the file does not exist (a node
// that never got that far). A file that exists but does not verify is an error wrapping
// ErrCorrupt: guessing an epoch could let the node accept an epoch it already refused.
func ReadEpoch(fs FS, name string) (uint32, error) {
	b, err := fs.ReadFile(name)
	if errors.Is(err, ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: read %s: %w", name, err)
	}
	epoch, err := decodeEpoch(b)
	if err != nil {
		return 0, fmt.Errorf("storage: %s: %w: %w", name, ErrCorrupt, err)
	}
	return epoch, nil
}
