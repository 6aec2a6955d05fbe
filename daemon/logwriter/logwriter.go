// Package logwriter is the daemon's group-commit writer: one goroutine owns the node's
// storage.Store, executes the persist batches the node goroutine submits, and makes as many
// of them durable with one fsync as have queued up while the previous fsync ran.
//
// That is group commit as databases have done it since IMS Fast Path: the node never waits
// for the disk, the disk is never idle while work is queued, and under load one fsync
// covers hundreds of txns, so throughput follows the disk's bandwidth instead of its fsync
// latency. Durability is reported as the highest batch id whose effects are all durable,
// which is what the node's Persisted input takes.
package logwriter

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/zabkit/zabkit/zab/storage"
)

// Batch is one persist request, executed in this order: install Snapshot, cut the log after
// TruncateAfter when Truncate is set, append Entries, write the accepted and current
// epochs. It mirrors zab.Persist, whose order it keeps. IDs must increase.
type Batch struct {
	ID               uint64
	Snapshot         *storage.Snapshot // only Zxid and Data are used
	Truncate         bool
	TruncateAfter    uint64
	Entries          []storage.Entry
	SetAcceptedEpoch bool
	AcceptedEpoch    uint32
	SetCurrentEpoch  bool
	CurrentEpoch     uint32
}

// Config sizes a Writer.
type Config struct {
	// QueueBatchesMax bounds the batches submitted and not yet durable; Submit blocks beyond
	// it, which is the back-pressure that slows the node down to the disk. Default 4096.
	QueueBatchesMax int
	// GroupBatchesMax bounds the batches one fsync covers, so a long queue is reported
	// durable in steps instead of all at the end. Default 1024.
	GroupBatchesMax int
	// DataFS is the store's data directory, where SaveSnapshot writes and Purge looks.
	DataFS storage.FS
	Logger *slog.Logger
}

const (
	defaultQueueBatchesMax = 4096
	defaultGroupBatchesMax = 1024
)

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("logwriter: closed")

// Writer owns a Store. Submit and Close may be called from any goroutine; Durable and
// Failed are for the one loop that consumes them.
type Writer struct {
	store *storage.Store
	cfg   Config

	queue   chan Batch
	durable chan uint64   // capacity 1, holds the newest durable id not yet taken
	failed  chan struct{} // closed when the writer stopped on an error
	done    chan struct{} // closed when the goroutine has exited

	// submitMu orders Submit against Close: a batch is either in the queue before Close
	// marks the writer closed, or refused, never dropped in between.
	submitMu sync.Mutex
	closed   bool
	lastID   uint64 // highest submitted id
	closing  chan struct{}

	purge    chan int       // retain counts of requested purges (capacity 1)
	snapping atomic.Bool    // a snapshot is being written
	snapWG   sync.WaitGroup // the snapshot goroutine, for Close

	mu        sync.Mutex
	err       error // the fatal error, set before failed is closed
	failOnce  sync.Once
	syncs     uint64 // fsync rounds, for tests and metrics
	snapshots uint64 // snapshots written by SaveSnapshot
}

// New starts a writer that owns store. The store must not be used by anyone else until
// Close returns.
func New(store *storage.Store, cfg Config) *Writer {
	if cfg.QueueBatchesMax <= 0 {
		cfg.QueueBatchesMax = defaultQueueBatchesMax
	}
	if cfg.GroupBatchesMax <= 0 {
		cfg.GroupBatchesMax = defaultGroupBatchesMax
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Writer{
		store:   store,
		cfg:     cfg,
		queue:   make(chan Batch, cfg.QueueBatchesMax),
		durable: make(chan uint64, 1),
		failed:  make(chan struct{}),
		done:    make(chan struct{}),
		closing: make(chan struct{}),
		purge:   make(chan int, 1),
	}
	go w.run()
	return w
}

// Submit queues b. It blocks while the queue is full, and returns an error once the writer
// has failed or been closed: a failed writer never recovers (see storage.ErrLogFailed), the
// node must stop and the process restart from disk.
func (w *Writer) Submit(b Batch) error {
	w.submitMu.Lock()
	defer w.submitMu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.Err(); err != nil {
		return err
	}
	if b.ID <= w.lastID {
		return fmt.Errorf("logwriter: batch id %d not above the last submitted id %d", b.ID, w.lastID)
	}
	select {
	case w.queue <- b:
		w.lastID = b.ID
		return nil
	case <-w.failed:
		return w.Err()
	}
}

// Durable delivers the highest batch id whose effects are durable, each time it grows.
// Values are coalesced: a slow reader sees only the newest one, which covers all before it.
func (w *Writer) Durable() <-chan uint64 { return w.durable }

// Failed is closed when the writer has stopped on an error; Err returns it.
func (w *Writer) Failed() <-chan struct{} { return w.failed }

// Err returns the error the writer failed with, or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Syncs returns how many fsync rounds the writer has run.
func (w *Writer) Syncs() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.syncs
}

// Close stops accepting batches, makes every batch already queued durable, stops the
// goroutine and returns the writer's error, if any. It does not close the store.
func (w *Writer) Close() error {
	w.submitMu.Lock()
	if !w.closed {
		w.closed = true
		close(w.closing)
	}
	w.submitMu.Unlock()
	<-w.done
	w.snapWG.Wait()
	return w.Err()
}

func (w *Writer) run() {
	defer close(w.done)
	group := make([]Batch, 0, w.cfg.GroupBatchesMax)
	for {
		group = group[:0]
		select {
		case b := <-w.queue:
			group = append(group, b)
		case retain := <-w.purge:
			if !w.purgeRetaining(retain) {
				return
			}
			continue
		case <-w.closing:
			// No Submit is in flight any more: the queue holds all that will ever come.
			if len(w.queue) == 0 {
				return
			}
		}
		// Everything that queued while the last fsync ran joins this one.
	gather:
		for len(group) < w.cfg.GroupBatchesMax {
			select {
			case b := <-w.queue:
				group = append(group, b)
			default:
				break gather
			}
		}
		if !w.commit(group) {
			return
		}
	}
}

// commit executes group and makes it durable with one Sync, then reports the last id. It
// returns false after a failure, which is final.
func (w *Writer) commit(group []Batch) bool {
	for _, b := range group {
		if err := w.execute(b); err != nil {
			w.fail(fmt.Errorf("logwriter: batch %d: %w", b.ID, err))
			return false
		}
	}
	if _, err := w.store.Sync(); err != nil {
		w.fail(fmt.Errorf("logwriter: sync through batch %d: %w", group[len(group)-1].ID, err))
		return false
	}
	id := group[len(group)-1].ID
	w.mu.Lock()
	w.syncs++
	w.mu.Unlock()
	// Replace an unread value: only this goroutine sends, so after the drain the send
	// cannot block.
	select {
	case w.durable <- id:
	default:
		select {
		case <-w.durable:
		default:
		}
		w.durable <- id
	}
	return true
}

// execute carries out one batch in zab.Persist's order. Snapshot installs, truncations and
// epoch writes are durable when they return; appends become durable at the group's Sync.
// (Store.SetCurrentEpoch syncs the txns appended before it first, ZOOKEEPER-4643, so a
// group holding a new epoch costs one more fsync.)
//
// The appends of earlier batches are synced before a snapshot install, a truncation or an
// epoch write, whose effects are durable at once: batches must become durable in id order,
// as zab requires (sim/zk does the same).
func (w *Writer) execute(b Batch) error {
	if b.Snapshot != nil || b.Truncate || b.SetAcceptedEpoch || b.SetCurrentEpoch {
		if _, err := w.store.Sync(); err != nil {
			return err
		}
	}
	if b.Snapshot != nil {
		if err := w.installSnapshot(b.Snapshot.Zxid, b.Snapshot.Data); err != nil {
			return err
		}
	}
	if b.Truncate {
		if err := w.store.TruncateAfter(b.TruncateAfter); err != nil {
			return err
		}
	}
	if len(b.Entries) > 0 {
		if err := w.store.Append(b.Entries); err != nil {
			return err
		}
	}
	if b.SetAcceptedEpoch {
		if err := w.store.SetAcceptedEpoch(b.AcceptedEpoch); err != nil {
			return err
		}
	}
	if b.SetCurrentEpoch {
		if err := w.store.SetCurrentEpoch(b.CurrentEpoch); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) fail(err error) {
	w.failOnce.Do(func() {
		w.cfg.Logger.Error("log writer failed; the node must stop and recover from disk", "err", err)
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		close(w.failed)
	})
}

// SaveSnapshot writes a snapshot of the committed state at zxid on a goroutine of its own,
// so that neither the node nor the group commit waits for a large tree to reach the disk
// (ZooKeeper's SyncRequestProcessor starts a snapshot thread for the same reason). The node
// emits it only once the log is durable up to zxid. It returns false, writing nothing, when
// the previous snapshot is still being written: snapshots are an optimisation of recovery,
// and the next one comes snapCount txns later. A failed write is fatal like any storage
// error.
func (w *Writer) SaveSnapshot(zxid uint64, data []byte) bool {
	if w.cfg.DataFS == nil || !w.snapping.CompareAndSwap(false, true) {
		return false
	}
	w.snapWG.Add(1)
	go func() {
		defer w.snapWG.Done()
		defer w.snapping.Store(false)
		if err := storage.WriteSnapshot(w.cfg.DataFS, zxid, data); err != nil {
			w.fail(fmt.Errorf("logwriter: snapshot at %#x: %w", zxid, err))
			return
		}
		w.mu.Lock()
		w.snapshots++
		w.mu.Unlock()
		w.cfg.Logger.Info("snapshot saved", "zxid", fmt.Sprintf("%#x", zxid), "bytes", len(data))
	}()
	return true
}

// Snapshots returns how many snapshots SaveSnapshot has written.
func (w *Writer) Snapshots() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.snapshots
}

// Purge asks the writer goroutine to keep the retainCount newest snapshots and remove
// every older snapshot and the log segments only they needed (ZooKeeper's autopurge,
// PurgeTxnLog). It runs between commit groups, since the log is the writer's. A request
// while one is pending is merged into it.
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

// installSnapshot carries out a SNAP from the leader. The snapshot replaces the history up
// to its zxid, but zab keeps the logged txns above it (the sync stream confirms or cuts
// them later) while Store.InstallSnapshot empties the log: those txns are appended again
// and synced at once, exactly as sim/zk does. A crash between the install and the re-append
// loses them; zab's sync stream sends them again (see the daemon report on this seam).
func (w *Writer) installSnapshot(zxid uint64, data []byte) error {
	held, err := w.store.EntriesAfter(max(zxid, w.store.SnapshotZxid()))
	if err != nil {
		return err
	}
	if err := w.store.InstallSnapshot(zxid, data); err != nil {
		return err
	}
	if len(held) == 0 {
		return nil
	}
	if err := w.store.Append(held); err != nil {
		return err
	}
	_, err = w.store.Sync()
	return err
}
