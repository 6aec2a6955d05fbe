package logwriter

import (
	"fmt"

	"github.com/zabkit/zabkit/zab/storage"
)

// writtenSnapshot is what the snapshot goroutine hands back to the writer goroutine.
type writtenSnapshot struct {
	zxid      uint64
	sizeBytes int
	err       error
}

// SaveSnapshot writes a snapshot of the committed state at zxid on a goroutine of its own,
// so that neither the node nor the group commit waits for a large tree to reach the disk
// (ZooKeeper's SyncRequestProcessor starts a snapshot thread for the same reason); the
// writer goroutine then adopts it (storage.Store.AdoptSnapshot), so the Store knows its
// newest snapshot and keeps the retained snapshots and the log they need. The node emits it
// only once the log is durable up to zxid, which adoption checks.
//
// It returns false, writing nothing, while the previous snapshot is still being written or
// adopted, or once the writer is closed or failed: snapshots are an optimisation of
// recovery, and the next one comes snapCount txns later. A failed write is fatal like any
// storage error.
func (w *Writer) SaveSnapshot(zxid uint64, data []byte) bool {
	return w.SaveSnapshotOf(zxid, func() []byte { return data })
}

// SaveSnapshotOf is SaveSnapshot for a snapshot not serialized yet: serialize runs on the
// snapshot goroutine, before the write, so a large tree's serialization stalls neither the
// caller nor the group commit (the daemon passes a frozen tree.View's Snapshot, which is
// safe to run while the node goes on changing its tree). While the slot is taken it returns
// false without calling serialize.
func (w *Writer) SaveSnapshotOf(zxid uint64, serialize func() []byte) bool {
	w.submitMu.Lock()
	defer w.submitMu.Unlock()
	if w.cfg.DataFS == nil || w.closed || w.Err() != nil || !w.snapping.CompareAndSwap(false, true) {
		return false
	}
	w.snapWG.Add(1)
	go func() {
		defer w.snapWG.Done()
		data := serialize()
		err := storage.WriteSnapshot(w.cfg.DataFS, zxid, data)
		w.written <- writtenSnapshot{zxid: zxid, sizeBytes: len(data), err: err}
	}()
	return true
}

// adopted runs on the writer goroutine once the snapshot goroutine has written ws: it
// makes the snapshot the Store's newest, runs a purge requested meanwhile, and frees the
// slot. It returns false after a failure, which is final.
func (w *Writer) adopted(ws writtenSnapshot) bool {
	if err := w.adopt(ws); err != nil {
		w.fail(err)
		return false
	}
	if retain := w.pendingPurge; retain > 0 {
		w.pendingPurge = 0
		if !w.purgeRetaining(retain) {
			return false
		}
	}
	w.snapping.Store(false)
	return true
}

// adopt carries out ws's adoption without freeing the slot.
func (w *Writer) adopt(ws writtenSnapshot) error {
	if ws.err != nil {
		return fmt.Errorf("logwriter: snapshot at %#x: %w", ws.zxid, ws.err)
	}
	newest := w.store.SnapshotZxid()
	removed, err := w.store.AdoptSnapshot(ws.zxid)
	if err != nil {
		return fmt.Errorf("logwriter: adopt the snapshot at %#x: %w", ws.zxid, err)
	}
	w.mu.Lock()
	w.snapshots++
	w.mu.Unlock()
	if ws.zxid < newest {
		// A lagging leader's SNAP took the node back below its newest snapshot.
		w.cfg.Logger.Info("snapshot saved, superseded by the newest one", "zxid", fmt.Sprintf("%#x", ws.zxid), "newest", fmt.Sprintf("%#x", newest))
		return nil
	}
	w.cfg.Logger.Info("snapshot saved", "zxid", fmt.Sprintf("%#x", ws.zxid), "bytes", ws.sizeBytes, "removed", removed)
	return nil
}

// Snapshots returns how many snapshots SaveSnapshot has written and handed to the Store
// (adopted, or superseded by a newer one).
func (w *Writer) Snapshots() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.snapshots
}

// persistSnapshot carries out zab's Persist.Snapshot, a leader's SNAP or zab's periodic
// snapshot: storage.Store.PersistSnapshot replaces the history up to zxid while every
// logged txn above it stays durable at every instant. (The former way, Store.InstallSnapshot
// and then appending those txns again, lost them to a crash in between.)
//
// It takes the snapshot slot first, so no snapshot goroutine writes beside it: one in
// flight is waited for and adopted (a SNAP at the same zxid would write the same file, and
// adoption must come before a newer snapshot, see storage.Store.AdoptSnapshot). The group
// commit waits that long, which only a SNAP during a periodic snapshot costs.
func (w *Writer) persistSnapshot(zxid uint64, data []byte) error {
	if !w.snapping.CompareAndSwap(false, true) {
		if err := w.adopt(<-w.written); err != nil {
			return err
		}
	}
	newest := w.store.SnapshotZxid()
	removed, err := w.store.PersistSnapshot(zxid, data)
	if err != nil {
		return err
	}
	if retain := w.pendingPurge; retain > 0 {
		w.pendingPurge = 0
		if !w.purgeRetaining(retain) {
			return w.Err()
		}
	}
	w.snapping.Store(false)
	if zxid < newest {
		w.cfg.Logger.Info("snapshot below the newest one: already durable, nothing written", "zxid", fmt.Sprintf("%#x", zxid), "newest", fmt.Sprintf("%#x", newest))
		return nil
	}
	w.cfg.Logger.Info("snapshot persisted", "zxid", fmt.Sprintf("%#x", zxid), "bytes", len(data), "removed", removed)
	return nil
}

// Purge asks the writer goroutine to keep the retainCount newest snapshots and remove
// every older snapshot and the log segments only they needed (ZooKeeper's autopurge,
// PurgeTxnLog). It runs between commit groups, since the log is the writer's, and after
// the adoption of a snapshot being written. A request while one is pending is merged into
// it. (Adopting a snapshot already purges to the Store's SnapshotRetainCount.)
func (w *Writer) Purge(retainCount int) {
	select {
	case w.purge <- retainCount:
	default:
	}
}

// purgeRetaining carries out Purge; false after a failure, which is final.
func (w *Writer) purgeRetaining(retainCount int) bool {
	if w.cfg.DataFS == nil {
		return true
	}
	removed, oldestKept, kept, err := storage.PurgeSnapshots(w.cfg.DataFS, retainCount)
	if err == nil && kept >= retainCount {
		// The log must keep every txn after the oldest snapshot kept.
		var logRemoved []string
		logRemoved, err = w.store.Log().PurgeThrough(oldestKept)
		removed = append(removed, logRemoved...)
	}
	if err != nil {
		w.fail(fmt.Errorf("logwriter: purge: %w", err))
		return false
	}
	if len(removed) > 0 {
		w.cfg.Logger.Info("purged old snapshots and logs", "retain", retainCount, "removed", removed)
	}
	return true
}
