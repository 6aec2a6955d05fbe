package storage

import (
	"errors"
	"fmt"
)

// Config sizes a Store.
type Config struct {
	Log LogConfig
	// SnapshotRetainCount is how many verified snapshots SaveSnapshot keeps (with the log
	// needed to replay from the oldest of them). Default 3, ZooKeeper's minimum for
	// autopurge.snapRetainCount.
	SnapshotRetainCount int
}

const defaultSnapshotRetainCount = 3

// ErrBeforeSnapshot is returned when an operation would reach below the newest snapshot: a
// TRUNC that would undo txns the snapshot already holds (they are committed: snapshots are
// only taken of committed state, so such a TRUNC is a protocol bug, and obeying it would
// reload the newer snapshot at the next start, ZOOKEEPER-4837), or a read of log entries
// the snapshot supersedes.
var ErrBeforeSnapshot = errors.New("storage: zxid below the newest snapshot")

// ErrLogGap is returned by Recover when the snapshot and the log together do not hold a
// complete history: the log starts after the snapshot, or a newer snapshot is unreadable
// and the log does not reach it. Replaying would skip txns (ZOOKEEPER-2418 is the same seam
// bug in DIFF).
var ErrLogGap = errors.New("storage: log does not continue the snapshot")

// Recovered is everything a node needs at start.
type Recovered struct {
	AcceptedEpoch uint32
	CurrentEpoch  uint32
	// Snapshot is the newest snapshot that verified; HasSnapshot is false when there is none
	// and the state machine starts empty.
	Snapshot    Snapshot
	HasSnapshot bool
	// Entries are the logged txns after the snapshot, in zxid order, to be replayed onto it.
	// They are logged, not necessarily committed: ZAB decides which to apply.
	Entries []Entry
	// LastLoggedZxid is the zxid of the last txn this node holds (the last entry, else the
	// snapshot's zxid): what the node must advertise in election (ZOOKEEPER-2845).
	LastLoggedZxid uint64
	// Report lists what recovery cut, skipped or removed. The host must log it.
	Report Report
}

// Store is one node's durable state: the epoch files and snapshots in a data directory,
// the txn log in a log directory (ZooKeeper's dataDir and dataLogDir, which may be the same
// FS). It carries out the node's persist outputs; each method returns once its effect is
// durable, except Append, which becomes durable at the next Sync.
//
// How a host maps the node's persist outputs onto it:
//
//	txns to log              Append (many outputs), then one Sync; report Persisted(result)
//	                         and only then send the messages the output held back (ACKs)
//	TRUNC to zxid            TruncateAfter(zxid)
//	acceptedEpoch = e        SetAcceptedEpoch(e)
//	currentEpoch = e         SetCurrentEpoch(e) (it syncs the appended txns first)
//	snapshot at zxid         PersistSnapshot(zxid, bytes), first in the persist
//	host's own snapshot      SaveSnapshot(zxid, bytes), or, to write it off the owner's
//	                         goroutine, WriteSnapshot then AdoptSnapshot(zxid)
//
// zab's Persist.Snapshot is both a periodic snapshot (every SnapshotEveryTxns commits, at a
// zxid the log holds) and a leader's SNAP, which keeps the logged txns above its zxid;
// PersistSnapshot tells them apart from the log itself, so a host needs no other call for
// either (SaveSnapshot is the periodic kind alone).
//
// Any error is fatal for the node: the host stops it and runs Recover at restart, never
// retries (see ErrLogFailed). A Store is not safe for concurrent use: the daemon's log
// writer owns it.
type Store struct {
	data FS
	log  *Log
	cfg  Config

	acceptedEpoch uint32
	currentEpoch  uint32
	snapshotZxid  uint64 // newest snapshot's zxid, 0 when none
}

// Recover reads the durable state, repairs a torn tail (reporting it) and opens the store.
// It fails, changing nothing it cannot undo, when it finds damage it must not repair: a
// corrupt epoch file, corruption in the middle of the log (*CorruptionError), or a log
// that does not continue the snapshot.
func Recover(dataFS, logFS FS, cfg Config) (*Store, Recovered, error) {
	if cfg.SnapshotRetainCount <= 0 {
		cfg.SnapshotRetainCount = defaultSnapshotRetainCount
	}
	cfg.Log = cfg.Log.withDefaults()
	var r Recovered
	var err error
	if r.Report.RemovedTempFiles, err = removeTempFiles(dataFS); err != nil {
		return nil, r, err
	}
	// The log directory's: a segment being rewritten by an install (Log.retireThrough).
	// When it is the data directory, this finds nothing left.
	removed, err := removeTempFiles(logFS)
	r.Report.RemovedTempFiles = append(r.Report.RemovedTempFiles, removed...)
	if err != nil {
		return nil, r, err
	}
	if r.AcceptedEpoch, err = ReadEpoch(dataFS, AcceptedEpochFile); err != nil {
		return nil, r, err
	}
	if r.CurrentEpoch, err = ReadEpoch(dataFS, CurrentEpochFile); err != nil {
		return nil, r, err
	}
	if r.Snapshot, r.HasSnapshot, r.Report.SkippedSnapshots, err = LoadSnapshot(dataFS); err != nil {
		return nil, r, err
	}
	log, cuts, err := OpenLog(logFS, cfg.Log)
	r.Report.Cuts = cuts
	if err != nil {
		return nil, r, err
	}
	s := &Store{data: dataFS, log: log, cfg: cfg, acceptedEpoch: r.AcceptedEpoch, currentEpoch: r.CurrentEpoch, snapshotZxid: r.Snapshot.Zxid}
	if r.HasSnapshot {
		superseded, err := finishInstall(log, r.Snapshot.Zxid)
		r.Report.Cuts = append(r.Report.Cuts, superseded...)
		if err != nil {
			log.Close()
			return nil, r, err
		}
	}
	if r.Entries, err = log.EntriesAfter(r.Snapshot.Zxid); err != nil {
		log.Close()
		return nil, r, err
	}
	r.LastLoggedZxid = s.LastZxid()
	if err := checkCoverage(r, log); err != nil {
		log.Close()
		return nil, r, err
	}
	if err := removeSkippedSnapshots(dataFS, r.Report.SkippedSnapshots); err != nil {
		log.Close()
		return nil, r, err
	}
	return s, r, nil
}

// finishInstall completes a PersistSnapshot (or an old-style InstallSnapshot) that a crash
// interrupted after the snapshot became durable and before the log was made to continue it.
// It recognises one by a log that claims history below the snapshot (it starts below the
// snapshot's zxid) but lacks the snapshot's own zxid: a periodic snapshot is always taken at
// a zxid the log holds, and a log that holds zxid Z agrees with every history holding Z up
// to Z (ZAB's prefix property). Such a log's records up to the snapshot are this node's old
// history, not the leader's: left in place, they would be replayed if the snapshot later
// proved unreadable, and the records above it would not chain to it. The install is
// finished exactly as PersistSnapshot does it (Log.retireThrough), keeping every record
// above the snapshot, and what it removed is reported as cut.
// (A periodic snapshot whose own record was cut from the log's corrupt tail looks the same;
// the retirement then drops only txns the snapshot holds, so it is safe, and reported too.)
func finishInstall(log *Log, snapshotZxid uint64) ([]Cut, error) {
	foreign, err := log.holdsForeignHistory(snapshotZxid)
	if err != nil || !foreign {
		return nil, err
	}
	cuts, err := log.retireThrough(snapshotZxid)
	for i := range cuts {
		cuts[i].Reason += " (interrupted SNAP install)"
	}
	return cuts, err
}

// checkCoverage refuses a recovered history with a hole: the log must continue the loaded
// snapshot (its first segment's prev zxid at or below the snapshot), and when a newer
// snapshot was unreadable, the log must reach past it, or txns this node held (and maybe
// acknowledged) would be silently missing.
func checkCoverage(r Recovered, log *Log) error {
	if len(log.segments) > 0 && log.StartZxid() > r.Snapshot.Zxid {
		return fmt.Errorf("%w: snapshot at %#x, log continues from %#x", ErrLogGap, r.Snapshot.Zxid, log.StartZxid())
	}
	for _, s := range r.Report.SkippedSnapshots {
		if z, _ := parseZxidName(s.File, snapshotPrefix); z > r.LastLoggedZxid {
			return fmt.Errorf("%w: snapshot %s is unreadable and the log ends at %#x, before it", ErrLogGap, s.File, r.LastLoggedZxid)
		}
	}
	return nil
}

// removeSkippedSnapshots removes the unreadable snapshots recovery fell back past, once
// checkCoverage has shown the older snapshot and the log hold everything they did. Kept,
// such a file would make every later start depend on the log still reaching past it, which a
// legitimate TRUNC below it (now allowed: the store's snapshot is the older one) breaks.
func removeSkippedSnapshots(fs FS, skipped []SkippedSnapshot) error {
	for _, s := range skipped {
		if err := fs.Remove(s.File); err != nil {
			return fmt.Errorf("storage: remove unreadable snapshot %s: %w", s.File, err)
		}
	}
	if len(skipped) > 0 {
		if err := fs.SyncDir(); err != nil {
			return fmt.Errorf("storage: sync data directory: %w", err)
		}
	}
	return nil
}

// AcceptedEpoch is the durable acceptedEpoch.
func (s *Store) AcceptedEpoch() uint32 { return s.acceptedEpoch }

// CurrentEpoch is the durable currentEpoch.
func (s *Store) CurrentEpoch() uint32 { return s.currentEpoch }

// SnapshotZxid is the zxid of the newest snapshot (0 when none).
func (s *Store) SnapshotZxid() uint64 { return s.snapshotZxid }

// LastZxid is the last logged zxid: the last entry appended, else the snapshot's zxid.
func (s *Store) LastZxid() uint64 { return max(s.log.LastZxid(), s.snapshotZxid) }

// DurableZxid is the highest zxid a crash cannot take away.
func (s *Store) DurableZxid() uint64 { return max(s.log.DurableZxid(), s.snapshotZxid) }

// Log is the underlying txn log.
func (s *Store) Log() *Log { return s.log }

// Append writes txns to the log without syncing (see Log.Append).
func (s *Store) Append(entries []Entry) error {
	if len(entries) > 0 && entries[0].Zxid <= s.LastZxid() {
		return fmt.Errorf("%w: zxid %#x, last logged %#x", ErrZxidOrder, entries[0].Zxid, s.LastZxid())
	}
	if len(s.log.segments) == 0 {
		// A new log continues the snapshot; its first segment must say so, or a fallback
		// to an older snapshot could not see the txns only the newer one holds.
		s.log.startZxid = max(s.log.startZxid, s.snapshotZxid)
	}
	return s.log.Append(entries)
}

// Sync makes every appended txn durable and returns the durable zxid. A host batches: many
// Appends, one Sync, then one Persisted report to the node for everything up to the result.
func (s *Store) Sync() (uint64, error) {
	if _, err := s.log.Sync(); err != nil {
		return s.DurableZxid(), err
	}
	return s.DurableZxid(), nil
}

// TruncateAfter durably removes every logged txn above zxid (ZAB's TRUNC).
func (s *Store) TruncateAfter(zxid uint64) error {
	if zxid < s.snapshotZxid {
		return fmt.Errorf("%w: TRUNC to %#x, snapshot at %#x", ErrBeforeSnapshot, zxid, s.snapshotZxid)
	}
	return s.log.TruncateAfter(zxid)
}

// ErrEpochOrder is returned for an epoch write that would break acceptedEpoch's and
// currentEpoch's rules: neither ever decreases, and currentEpoch never passes acceptedEpoch
// (a node follows an epoch only after accepting it in discovery).
var ErrEpochOrder = errors.New("storage: epoch out of order")

// SetAcceptedEpoch durably records acceptedEpoch.
func (s *Store) SetAcceptedEpoch(epoch uint32) error {
	if epoch < s.acceptedEpoch {
		return fmt.Errorf("%w: acceptedEpoch %d, new %d", ErrEpochOrder, s.acceptedEpoch, epoch)
	}
	if err := WriteEpoch(s.data, AcceptedEpochFile, epoch); err != nil {
		return err
	}
	s.acceptedEpoch = epoch
	return nil
}

// SetCurrentEpoch makes every appended txn durable and then durably records currentEpoch.
// The order is the fix of ZOOKEEPER-4643 made structural: currentEpoch = e claims the node
// holds epoch e's initial history, and a node whose epoch file says so while its log lacks
// the synced txns wins the next election on its epoch and truncates committed txns away.
func (s *Store) SetCurrentEpoch(epoch uint32) error {
	if epoch < s.currentEpoch || epoch > s.acceptedEpoch {
		return fmt.Errorf("%w: currentEpoch %d, acceptedEpoch %d, new currentEpoch %d", ErrEpochOrder, s.currentEpoch, s.acceptedEpoch, epoch)
	}
	if _, err := s.log.Sync(); err != nil {
		return err
	}
	if err := WriteEpoch(s.data, CurrentEpochFile, epoch); err != nil {
		return err
	}
	s.currentEpoch = epoch
	return nil
}

// EntriesAfter returns the logged txns above zxid. zxid may not be below the newest snapshot:
// the log before it is not guaranteed to be this node's history (see PersistSnapshot).
func (s *Store) EntriesAfter(zxid uint64) ([]Entry, error) {
	if zxid < s.snapshotZxid {
		return nil, fmt.Errorf("%w: entries after %#x, snapshot at %#x", ErrBeforeSnapshot, zxid, s.snapshotZxid)
	}
	return s.log.EntriesAfter(zxid)
}

// SaveSnapshot durably stores a snapshot of the committed state at zxid, then keeps the
// SnapshotRetainCount newest verified snapshots and the log segments needed to replay from
// the oldest of them. It returns the files removed. zxid must be durable in the log (or be
// the newest snapshot's); PersistSnapshot takes any snapshot zab asks for.
//
// A zxid below the newest snapshot is superseded and nothing is written: a node whose state
// a lagging leader's SNAP took back below its newest snapshot (see PersistSnapshot) takes
// its next snapshots there, and the newer one already holds that history.
func (s *Store) SaveSnapshot(zxid uint64, data []byte) ([]string, error) {
	if zxid < s.snapshotZxid {
		return nil, nil
	}
	if zxid > s.log.DurableZxid() && zxid > s.snapshotZxid {
		return nil, fmt.Errorf("storage: snapshot at %#x is above the durable log %#x", zxid, s.log.DurableZxid())
	}
	if err := WriteSnapshot(s.data, zxid, data); err != nil {
		return nil, err
	}
	s.snapshotZxid = zxid
	return s.purge()
}

// purge keeps the SnapshotRetainCount newest verified snapshots and the log segments needed
// to replay from the oldest of them, and returns the files removed.
func (s *Store) purge() ([]string, error) {
	removed, oldestKept, kept, err := PurgeSnapshots(s.data, s.cfg.SnapshotRetainCount)
	if err != nil || kept < s.cfg.SnapshotRetainCount {
		return removed, err
	}
	purged, err := s.log.PurgeThrough(oldestKept)
	return append(removed, purged...), err
}

// PersistSnapshot carries out zab's Persist.Snapshot, of either kind: the snapshot at zxid
// replaces the history up to zxid, and every logged txn above zxid stays, durable at every
// instant (zab keeps them until the sync stream confirms or cuts them: dropping them first
// would let one crash lose a committed txn). It returns the files it removed.
//
//   - When the log holds zxid (a periodic snapshot, or a SNAP at a zxid this node has), the
//     log agrees with the snapshot up to zxid and is kept for a fallback to an older
//     snapshot, exactly as SaveSnapshot keeps it.
//   - Otherwise (a SNAP past or beside this node's history) the log's records up to zxid are
//     not the leader's history and are retired: the log is made to start right after zxid,
//     holding only the records above it (Log.retireThrough).
//   - A zxid below the newest snapshot (a SNAP from a leader whose state machine lags ours,
//     when zab was not told of a snapshot the host took itself: zab/node's SaveSnapshot,
//     adopted with AdoptSnapshot) is already durable as asked, and nothing is written. A
//     snapshot holds only committed txns, and every committed txn is in every later
//     leader's history (ZAB's primary order), so the newer snapshot holds the leader's
//     history up to zxid and then the txns logged above it, and the log keeps those above
//     the newer snapshot. Refusing it would stop the node (sim/zk's known failure 559).
//
// The order is what makes it crash safe: (1) sync the log, so every txn appended before is
// durable; (2) write the snapshot atomically (temporary file, fsync, rename, directory
// fsync); (3) retire the superseded log. The on-disk states a power cut can leave, and what
// Recover makes of each:
//
//	before (2)'s rename is durable   old snapshot, old log           the old state
//	after (2), before (3) ends       new snapshot, old log or a      finishInstall sees a log
//	                                 suffix of its segments, maybe   below the snapshot that
//	                                 a synced "<segment>.tmp"        lacks its zxid: it removes
//	                                                                 the temporary file and
//	                                                                 runs (3) again
//	after (3)'s rename               new snapshot, log starting at   the new state
//	                                 zxid with the records above it
//
// Recovery never replays a record at or below zxid onto the new snapshot (Recovered.Entries
// are the records above the loaded snapshot), never loses a record above it (the old segment
// holding it is replaced by a synced copy in one rename), and after (3) a new snapshot that
// proves unreadable cannot fall back to an older one past the retired history: the log then
// continues zxid, not the older snapshot, which Recover refuses as ErrLogGap.
func (s *Store) PersistSnapshot(zxid uint64, data []byte) ([]string, error) {
	if _, err := s.log.Sync(); err != nil {
		return nil, err
	}
	if zxid < s.snapshotZxid {
		return nil, nil
	}
	foreign, err := s.log.holdsForeignHistory(zxid)
	if err != nil {
		return nil, err
	}
	if err := WriteSnapshot(s.data, zxid, data); err != nil {
		return nil, err
	}
	s.snapshotZxid = zxid
	var removed []string
	if foreign {
		cuts, err := s.log.retireThrough(zxid)
		for _, c := range cuts {
			if c.FileRemoved {
				removed = append(removed, c.File)
			}
		}
		if err != nil {
			return removed, err
		}
	} else if len(s.log.segments) == 0 {
		s.log.startZxid = zxid
	}
	purged, err := s.purge()
	return append(removed, purged...), err
}

// InstallSnapshot makes a snapshot received from the leader (ZAB's SNAP) this node's whole
// history: it cuts the log above zxid, writes the snapshot, then empties the log.
//
// Deprecated: it does not match zab's Persist contract, which keeps the logged txns above
// zxid; a host that appends them again afterwards loses them to a crash in between. Use
// PersistSnapshot. Kept only until sim/zk, its last caller, has switched.
func (s *Store) InstallSnapshot(zxid uint64, data []byte) error {
	if zxid < s.snapshotZxid {
		return fmt.Errorf("%w: installing snapshot at %#x, newest snapshot at %#x", ErrBeforeSnapshot, zxid, s.snapshotZxid)
	}
	if err := s.log.TruncateAfter(zxid); err != nil {
		return err
	}
	if err := WriteSnapshot(s.data, zxid, data); err != nil {
		return err
	}
	s.snapshotZxid = zxid
	return s.log.Reset(zxid)
}

// Close releases the log without syncing.
func (s *Store) Close() error { return s.log.Close() }
