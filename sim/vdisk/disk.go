// Package vdisk is the simulator's virtual disk: an in-memory storage.FS that keeps exactly
// the promises a POSIX file system keeps and no more, and breaks the rest when the world
// crashes a node.
//
// The durability model is the one storage.FS documents: file bytes are durable only after
// File.Sync; creates, renames and removes only after SyncDir. Crash reverts everything else,
// with two ways to keep part of the unsynced state, both drawn from the disk's rng:
//
//   - a tear: every unsynced write of a file survives except the last, of which only a
//     random prefix survives (a write that was in flight when the power went);
//   - keep-unsynced (Pebble's "crash clone", cockroachdb/pebble#3110): a random prefix of a
//     file's unsynced operations survives, cut at a random byte, and a random prefix of the
//     unsynced directory operations survives.
//
// Unsynced data never survives with a hole before it: this is the prefix model that log
// recovery in etcd and ZooKeeper relies on. Damage anywhere else comes only from
// CorruptRandomBlock, which the simulator calls for corruption scenarios.
//
// Every choice comes from the rng given to New, and nothing depends on map iteration order,
// so the same seed gives the same disk history.
package vdisk

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/zabkit/zabkit/zab/storage"
)

// ErrCrashed is returned by a File opened before the last Crash.
var ErrCrashed = errors.New("vdisk: file handle from before a crash")

// ErrClosed is returned by a File after Close.
var ErrClosed = errors.New("vdisk: file closed")

// ErrIO is the injected I/O error of Faults.WriteErrorProbability and SyncErrorProbability.
var ErrIO = errors.New("vdisk: injected I/O error")

// Faults are the knobs the simulator sets per seed. All are off (zero) by default. A
// probability of zero draws nothing from the rng, so turning a knob off never shifts the
// stream of the choices that remain.
type Faults struct {
	// TearProbability is the chance, per file with unsynced writes, that a crash keeps all of
	// them but tears the last one at a random byte.
	TearProbability float64
	// KeepUnsyncedProbability is the chance, per file with unsynced operations and once for
	// the directory, that a crash keeps a random prefix of them.
	KeepUnsyncedProbability float64
	// WriteErrorProbability is the chance that a File.Write fails with ErrIO, writing nothing.
	WriteErrorProbability float64
	// SyncErrorProbability is the chance that a File.Sync fails with ErrIO, making nothing
	// durable. A node must treat it as fatal: a retried fsync may report success for data
	// the kernel already dropped (PostgreSQL's fsyncgate).
	SyncErrorProbability float64
}

// Disk is one host's directory in memory. It implements storage.FS.
type Disk struct {
	rng      *rand.Rand
	faults   Faults
	observer func(Event)
	stats    Stats

	dir        map[string]*inode // the names as the running node sees them
	syncedDir  map[string]*inode // the names as of the last SyncDir
	dirOps     []dirOp           // directory operations since the last SyncDir
	generation uint64            // bumped by Crash; handles from older generations are dead
	nextInode  uint64
}

type dirOpKind int

const (
	dirCreate dirOpKind = iota
	dirRename
	dirRemove
)

type dirOp struct {
	kind     dirOpKind
	name, to string
	ino      *inode
}

// inode is one file's content. Its durable content is data[:durableLen] unless a truncation
// below durableLen forced a separate copy in durable.
type inode struct {
	id         uint64
	data       []byte
	durable    []byte
	separated  bool
	durableLen int
	pending    []fileOp // operations since the last Sync, in order
}

type fileOp struct {
	truncate bool
	size     int64  // for truncate
	data     []byte // for write
}

func (ino *inode) durableContent() []byte {
	if ino.separated {
		return ino.durable
	}
	return ino.data[:ino.durableLen]
}

// New returns an empty disk whose every random choice comes from rng.
func New(rng *rand.Rand) *Disk {
	return &Disk{rng: rng, dir: map[string]*inode{}, syncedDir: map[string]*inode{}}
}

// SetFaults sets the fault knobs.
func (d *Disk) SetFaults(f Faults) { d.faults = f }

// SetObserver registers fn to receive every disk event (nil to stop).
func (d *Disk) SetObserver(fn func(Event)) { d.observer = fn }

// Stats returns the counters so far.
func (d *Disk) Stats() Stats { return d.stats }

func (d *Disk) emit(e Event) {
	if d.observer != nil {
		d.observer(e)
	}
}

// chance draws from the rng only when p is positive.
func (d *Disk) chance(p float64) bool {
	return p > 0 && d.rng.Float64() < p
}

func notExist(op, name string) error {
	return fmt.Errorf("vdisk: %s %s: %w", op, name, storage.ErrNotExist)
}

// Create makes a new empty file (replacing one of the same name) open for appending.
func (d *Disk) Create(name string) (storage.File, error) {
	d.nextInode++
	ino := &inode{id: d.nextInode}
	d.dir[name] = ino
	d.dirOps = append(d.dirOps, dirOp{kind: dirCreate, name: name, ino: ino})
	d.emit(Event{Kind: EventCreate, File: name})
	return &file{disk: d, ino: ino, name: name, generation: d.generation}, nil
}

// OpenAppend opens an existing file for appending.
func (d *Disk) OpenAppend(name string) (storage.File, error) {
	ino, ok := d.dir[name]
	if !ok {
		return nil, notExist("open", name)
	}
	return &file{disk: d, ino: ino, name: name, generation: d.generation}, nil
}

// ReadFile returns a copy of the file's current content (what the page cache holds).
func (d *Disk) ReadFile(name string) ([]byte, error) {
	ino, ok := d.dir[name]
	if !ok {
		return nil, notExist("read", name)
	}
	return append([]byte(nil), ino.data...), nil
}

// List returns the current names, sorted.
func (d *Disk) List() ([]string, error) {
	names := make([]string, 0, len(d.dir))
	for name := range d.dir {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Rename atomically replaces newName with oldName; durable after SyncDir.
func (d *Disk) Rename(oldName, newName string) error {
	ino, ok := d.dir[oldName]
	if !ok {
		return notExist("rename", oldName)
	}
	delete(d.dir, oldName)
	d.dir[newName] = ino
	d.dirOps = append(d.dirOps, dirOp{kind: dirRename, name: oldName, to: newName})
	d.emit(Event{Kind: EventRename, File: oldName, To: newName})
	return nil
}

// Remove deletes a name; durable after SyncDir. Open handles keep working on the file.
func (d *Disk) Remove(name string) error {
	if _, ok := d.dir[name]; !ok {
		return notExist("remove", name)
	}
	delete(d.dir, name)
	d.dirOps = append(d.dirOps, dirOp{kind: dirRemove, name: name})
	d.emit(Event{Kind: EventRemove, File: name})
	return nil
}

// SyncDir makes every create, rename and remove so far durable.
func (d *Disk) SyncDir() error {
	d.syncedDir = make(map[string]*inode, len(d.dir))
	for name, ino := range d.dir {
		d.syncedDir[name] = ino
	}
	d.dirOps = d.dirOps[:0]
	d.stats.SyncDirs++
	d.emit(Event{Kind: EventSyncDir})
	return nil
}

// file is an open handle.
type file struct {
	disk       *Disk
	ino        *inode
	name       string
	generation uint64
	closed     bool
}

func (f *file) check() error {
	if f.generation != f.disk.generation {
		return fmt.Errorf("vdisk: %s: %w", f.name, ErrCrashed)
	}
	if f.closed {
		return fmt.Errorf("vdisk: %s: %w", f.name, ErrClosed)
	}
	return nil
}

func (f *file) Write(p []byte) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	d := f.disk
	if d.chance(d.faults.WriteErrorProbability) {
		d.stats.WriteErrors++
		d.emit(Event{Kind: EventWriteError, File: f.name, Bytes: int64(len(p))})
		return 0, fmt.Errorf("vdisk: write %s: %w", f.name, ErrIO)
	}
	ino := f.ino
	ino.data = append(ino.data, p...)
	ino.pending = append(ino.pending, fileOp{data: append([]byte(nil), p...)})
	d.stats.Writes++
	d.stats.BytesWritten += int64(len(p))
	d.emit(Event{Kind: EventWrite, File: f.name, Bytes: int64(len(p))})
	return len(p), nil
}

func (f *file) Sync() error {
	if err := f.check(); err != nil {
		return err
	}
	d := f.disk
	if d.chance(d.faults.SyncErrorProbability) {
		d.stats.SyncErrors++
		d.emit(Event{Kind: EventSyncError, File: f.name})
		return fmt.Errorf("vdisk: sync %s: %w", f.name, ErrIO)
	}
	ino := f.ino
	var n int64
	for _, op := range ino.pending {
		n += int64(len(op.data))
	}
	ino.durable, ino.separated, ino.durableLen, ino.pending = nil, false, len(ino.data), nil
	d.stats.Syncs++
	d.emit(Event{Kind: EventSync, File: f.name, Bytes: n})
	return nil
}

func (f *file) Truncate(sizeBytes int64) error {
	if err := f.check(); err != nil {
		return err
	}
	if sizeBytes < 0 {
		return fmt.Errorf("vdisk: truncate %s to %d bytes", f.name, sizeBytes)
	}
	ino := f.ino
	if int(sizeBytes) < ino.durableLen && !ino.separated {
		// The durable bytes past the cut must outlive the cut until the next Sync.
		ino.durable, ino.separated = append([]byte(nil), ino.data[:ino.durableLen]...), true
	}
	ino.data = resize(ino.data, sizeBytes)
	ino.pending = append(ino.pending, fileOp{truncate: true, size: sizeBytes})
	f.disk.emit(Event{Kind: EventTruncate, File: f.name, Bytes: sizeBytes})
	return nil
}

func (f *file) Close() error {
	if f.generation == f.disk.generation && f.closed {
		return fmt.Errorf("vdisk: %s: %w", f.name, ErrClosed)
	}
	f.closed = true
	return nil
}

// resize cuts b to n bytes or extends it with zeros, as ftruncate does.
func resize(b []byte, n int64) []byte {
	if int64(len(b)) >= n {
		return b[:n]
	}
	return append(b, make([]byte, int(n)-len(b))...)
}
