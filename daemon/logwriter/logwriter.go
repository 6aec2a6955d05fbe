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

// Batch is one persist request, executed in this order: persist Snapshot (a leader's SNAP
// or zab's own periodic snapshot, storage.Store.PersistSnapshot), cut the log after
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
	// abandoning is closed by Abandon: the goroutine stops without executing what is queued.
	abandoning chan struct{}

	purge chan int // retain counts of requested purges (capacity 1)
	// pendingPurge is a purge requested while a snapshot was being written (0: none); it
	// runs once the snapshot is adopted. Only the writer goroutine touches it.
	pendingPurge int
	// snapping is the one snapshot slot: held from SaveSnapshot until the writer goroutine
	// has adopted the snapshot, or by the writer goroutine while it persists a SNAP, so
	// that only one snapshot write or purge touches the data directory at a time (see
	// storage.WriteSnapshot).
	snapping atomic.Bool
	written  chan writtenSnapshot // the snapshot goroutine's result (capacity 1)
	snapWG   sync.WaitGroup       // the snapshot goroutine, for Close

	mu        sync.Mutex
	err       error // the fatal error, set before failed is closed
	failOnce  sync.Once
	syncs     uint64 // fsync rounds, for tests and metrics
	snapshots uint64 // snapshots written by SaveSnapshot and adopted
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
		store:      store,
		cfg:        cfg,
		queue:      make(chan Batch, cfg.QueueBatchesMax),
		durable:    make(chan uint64, 1),
		failed:     make(chan struct{}),
		done:       make(chan struct{}),
		closing:    make(chan struct{}),
		abandoning: make(chan struct{}),
		purge:      make(chan int, 1),
		written:    make(chan writtenSnapshot, 1),
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

// Close stops accepting batches and snapshots, makes every batch already queued durable,
// waits for a snapshot being written and adopts it, stops the goroutine and returns the
// writer's error, if any. It does not close the store.
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

// Abandon stops the writer as a crash would: batches queued and not yet executed are
// dropped, never written, and nothing more is reported durable. What was written before stays
// as the process left it (a killed process's written but unsynced data survives in the page
// cache; the power-cut tests cover losing it). A batch being executed when Abandon is called
// finishes, as it may have before a crash. Abandon waits for the goroutines and does not
// close the store. For tests that kill a server in-process; Close is the graceful stop.
func (w *Writer) Abandon() {
	w.submitMu.Lock()
	if !w.closed {
		w.closed = true
		close(w.abandoning)
		close(w.closing)
	}
	w.submitMu.Unlock()
	<-w.done
	w.snapWG.Wait()
}

// abandoned reports whether Abandon was called.
func (w *Writer) abandoned() bool {
	select {
	case <-w.abandoning:
		return true
	default:
		return false
	}
}

func (w *Writer) run() {
	defer close(w.done)
	group := make([]Batch, 0, w.cfg.GroupBatchesMax)
	for {
		group = group[:0]
		if w.abandoned() {
			return
		}
		select {
		case b := <-w.queue:
			group = append(group, b)
		case ws := <-w.written:
			if !w.adopted(ws) {
				return
			}
			continue
		case retain := <-w.purge:
			if w.snapping.Load() {
				// The slot is a snapshot write's: its adoption runs this purge.
				w.pendingPurge = retain
				continue
			}
			if !w.purgeRetaining(retain) {
				return
			}
			continue
		case <-w.closing:
			// No Submit is in flight any more: the queue holds all that will ever come.
			// (Nor a SaveSnapshot: Close refuses those too, under the same lock.)
			if len(w.queue) == 0 {
				if w.snapping.Load() {
					w.adopted(<-w.written)
				}
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
		if w.abandoned() {
			return
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

// execute carries out one batch in zab.Persist's order. Snapshots, truncations and
// epoch writes are durable when they return; appends become durable at the group's Sync.
// (Store.SetCurrentEpoch syncs the txns appended before it first, ZOOKEEPER-4643, so a
// group holding a new epoch costs one more fsync.)
//
// The appends of earlier batches are synced before a snapshot, a truncation or an
// epoch write, whose effects are durable at once: batches must become durable in id order,
// as zab requires (sim/zk does the same).
func (w *Writer) execute(b Batch) error {
	if b.Snapshot != nil || b.Truncate || b.SetAcceptedEpoch || b.SetCurrentEpoch {
		if _, err := w.store.Sync(); err != nil {
			return err
		}
	}
	if b.Snapshot != nil {
		if err := w.persistSnapshot(b.Snapshot.Zxid, b.Snapshot.Data); err != nil {
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
