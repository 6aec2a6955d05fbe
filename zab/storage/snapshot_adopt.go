package storage

import (
	"errors"
	"fmt"
)

// ErrNotLogged is returned by AdoptSnapshot for a snapshot whose zxid is not a durable txn
// of the log. A periodic snapshot must be taken at a txn the log holds durably: recovery
// replays the log after it, and would take a log that starts below a snapshot and lacks its
// zxid for an interrupted SNAP install (see finishInstall).
var ErrNotLogged = errors.New("storage: snapshot zxid is not a durable txn of the log")

// AdoptSnapshot is the second half of a periodic snapshot written off the Store's goroutine:
// a host that does not want its log (or its node) to wait while a large state is written
// calls WriteSnapshot(dataFS, zxid, data) on a goroutine of its own, and then, back on the
// goroutine that owns the Store, AdoptSnapshot(zxid). It checks that the snapshot may be
// this store's newest (a durable txn of the log, the file whole), records it, and keeps
// SnapshotRetainCount snapshots and the log they need, as SaveSnapshot does; it returns the
// files removed. Without it the store would go on believing an older snapshot
// is its newest until the next restart: it would purge nothing, and would let a TRUNC reach
// below a snapshot the next recovery loads (ZOOKEEPER-4837).
//
// The split is as crash safe as SaveSnapshot, of which it is the same steps, because
// WriteSnapshot is atomic and the log already holds zxid durably. A power cut leaves:
//
//	while WriteSnapshot runs      the old snapshots, maybe a    Recover removes the temporary
//	                              synced "<snapshot>.tmp"        file: the old state
//	after WriteSnapshot returns   the new snapshot, the log     Recover loads the new snapshot
//	(adopted or not)              holding zxid; maybe some      and replays the log after it;
//	                              older snapshots or segments   retention runs again at the
//	                              purged                        next snapshot
//
// A purge never goes beyond what the retained snapshots need (PurgeSnapshots, then
// Log.PurgeThrough the oldest one kept), so no state loses a txn.
//
// A zxid equal to the newest snapshot's is accepted (the file is checked and retention runs
// again). A zxid below it is superseded, as in SaveSnapshot: nothing is recorded, and the
// file, a valid snapshot of the committed history, stays until the retention removes it.
// (Its write must still not overlap a PersistSnapshot at the same zxid: a host adopts each
// snapshot before it carries out a later SNAP.)
func (s *Store) AdoptSnapshot(zxid uint64) ([]string, error) {
	if zxid < s.snapshotZxid {
		return nil, nil
	}
	if zxid > s.snapshotZxid {
		if zxid > s.log.DurableZxid() {
			return nil, fmt.Errorf("%w: snapshot at %#x, log durable up to %#x", ErrNotLogged, zxid, s.log.DurableZxid())
		}
		has, err := s.log.contains(zxid)
		if err != nil {
			return nil, err
		}
		if !has {
			return nil, fmt.Errorf("%w: snapshot at %#x, which the log (from %#x to %#x) does not hold", ErrNotLogged, zxid, s.log.StartZxid(), s.log.LastZxid())
		}
	}
	name := snapshotName(zxid)
	b, err := s.data.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("storage: adopting %s: %w", name, err)
	}
	if _, err := decodeSnapshot(b, zxid); err != nil {
		return nil, fmt.Errorf("storage: adopting %s: %w", name, err)
	}
	s.snapshotZxid = zxid
	return s.purge()
}
