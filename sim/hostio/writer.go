package hostio

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/storage"
)

// Host is what a Writer needs of the simulated host of its member (sim.Host is one).
type Host interface {
	Name() string
	World() *sim.World
	// After runs f after d unless the host crashes first: a pending disk write dies with
	// the process.
	After(d time.Duration, f func())
	Rand() *rand.Rand
	Note(text string)
}

// WriterConfig configures one life's Writer. Send and Persisted are how the member hears
// of its durable writes; the other hooks may be nil.
type WriterConfig[M any] struct {
	Store *storage.Store
	Host  Host
	// DiskLatencyMin and DiskLatencyMax bound the time a group Sync takes (drawn from the
	// host's random stream per batch).
	DiskLatencyMin, DiskLatencyMax time.Duration
	// RestartAfter is how long a member whose disk failed stays down.
	RestartAfter time.Duration

	// Send sends one held-back message (zab.Persist.After), once its write is durable.
	Send func(m M)
	// Persisted hands the member zab.Persisted for the last write of a synced batch.
	Persisted func(id uint64)
	// Live reports whether the life that owns the Writer still runs and the run goes on;
	// a flush after that does nothing.
	Live func() bool
	// Synced reports each group Sync and how many writes it made durable.
	Synced func(writes int)
	// Truncated reports the logged zxids a TRUNC removes (checker.ZabTruncated).
	Truncated func(zxids []uint64)
	// Refused reports a Store call that failed with anything but an injected I/O error: the
	// member asked for something storage refuses, a bug that fails the run.
	Refused func(op string, err error)

	// Buggify is the run's BUGGIFY hook (nil: never fires), asked at BuggifySlowFsync; Tick
	// is the ensemble's tick, which scales a slow fsync.
	Buggify zab.Buggify
	Tick    time.Duration

	// Bugs break the host on purpose, so tests can show the checks catch it.
	Bugs WriterBugs
}

// WriterBugs are deliberate host bugs.
type WriterBugs struct {
	// AckBeforeSync reports a write durable (and sends its held-back messages) as soon as
	// it is issued, before the Sync.
	AckBeforeSync bool
	// IgnoreTrunc never cuts the disk's log on TRUNC, so a restart resurrects txns the
	// leader told the member to drop.
	IgnoreTrunc bool
}

// Writer carries out one life's zab.Persist outputs on its Store, as the daemon's log writer
// does with fsync: in zab's order (snapshot, cut, append, epochs), appends durable at the
// next group Sync, the other steps durable when they return (the log is synced before them,
// so writes become durable in ID order, as zab requires).
type Writer[M any] struct {
	cfg      WriterConfig[M]
	batch    []pendingWrite[M] // written since the last Sync, in ID order
	flushing bool              // a Sync is scheduled: every write issued before it rides on it
}

type pendingWrite[M any] struct {
	id    uint64
	after []M
}

// NewWriter returns the Writer of one life.
func NewWriter[M any](cfg WriterConfig[M]) *Writer[M] { return &Writer[M]{cfg: cfg} }

// Write carries out p; after are its held-back messages (p.After, or a wrapped copy), sent
// once it is durable. It returns false if the write failed (the member is then crashed, or
// the run failed).
func (w *Writer[M]) Write(p zab.Persist, after []M) bool {
	st := w.cfg.Store
	if p.Snapshot != nil || p.Truncate || p.SetAcceptedEpoch || p.SetCurrentEpoch {
		if _, err := st.Sync(); err != nil {
			return w.fail("sync", err)
		}
	}
	if p.Snapshot != nil && !w.snapshot(*p.Snapshot) {
		return false
	}
	if p.Truncate && !w.truncate(p.TruncateAfter) {
		return false
	}
	if len(p.Entries) > 0 {
		es := make([]storage.Entry, len(p.Entries))
		for i, t := range p.Entries {
			es[i] = storage.Entry{Zxid: uint64(t.Zxid), Data: t.Data}
		}
		if err := st.Append(es); err != nil {
			return w.fail("append", err)
		}
	}
	if p.SetAcceptedEpoch {
		if err := st.SetAcceptedEpoch(uint32(p.AcceptedEpoch)); err != nil {
			return w.fail("acceptedEpoch", err)
		}
	}
	if p.SetCurrentEpoch {
		if err := st.SetCurrentEpoch(uint32(p.CurrentEpoch)); err != nil {
			return w.fail("currentEpoch", err)
		}
	}
	if w.cfg.Bugs.AckBeforeSync {
		for _, m := range after {
			w.cfg.Send(m)
		}
		after = nil
		id := p.ID
		w.cfg.Host.After(0, func() {
			if w.live() {
				w.cfg.Persisted(id)
			}
		})
	}
	w.batch = append(w.batch, pendingWrite[M]{id: p.ID, after: after})
	if !w.flushing {
		w.flushing = true
		d := w.cfg.DiskLatencyMin
		if span := w.cfg.DiskLatencyMax - w.cfg.DiskLatencyMin; span > 0 {
			d += time.Duration(w.cfg.Host.Rand().Int64N(int64(span) + 1))
		}
		if w.cfg.Buggify != nil && w.cfg.Buggify.Fire(BuggifySlowFsync) {
			slow := SlowFsync(w.cfg.Host.Rand(), w.cfg.Tick)
			w.cfg.Host.Note(fmt.Sprintf("buggify: slow fsync, %v more", slow))
			d += slow
		}
		w.cfg.Host.After(d, w.flush)
	}
	return true
}

// snapshot carries out a Persist's snapshot, of either kind zab asks for: its periodic
// snapshot or a SNAP from the leader, which replaces the history up to its zxid and keeps
// the logged txns above it. Store.PersistSnapshot does both, crash safe at every instant
// (sim/vdisk's install torture cuts the power inside it).
func (w *Writer[M]) snapshot(snap zab.Snapshot) bool {
	removed, err := w.cfg.Store.PersistSnapshot(uint64(snap.Zxid), snap.Data)
	if err != nil {
		return w.fail("snapshot", err)
	}
	w.cfg.Host.Note(fmt.Sprintf("snapshot at %v (%d bytes), removed %v", snap.Zxid, len(snap.Data), removed))
	return true
}

// SaveSnapshot writes a snapshot the member took of its own applied state (zab/node's
// SaveSnapshot output), beside the log that already holds its history.
func (w *Writer[M]) SaveSnapshot(zxid zab.Zxid, data []byte) bool {
	removed, err := w.cfg.Store.SaveSnapshot(uint64(zxid), data)
	if err != nil {
		return w.fail("snapshot", err)
	}
	w.cfg.Host.Note(fmt.Sprintf("snapshot at %v (%d bytes), removed %v", zxid, len(data), removed))
	return true
}

// truncate carries out a TRUNC, reporting the logged txns it removes.
func (w *Writer[M]) truncate(after zab.Zxid) bool {
	st, z := w.cfg.Store, uint64(after)
	if z >= st.SnapshotZxid() && w.cfg.Truncated != nil {
		cut, err := st.EntriesAfter(z)
		if err != nil {
			return w.fail("read before TRUNC", err)
		}
		if len(cut) > 0 {
			zs := make([]uint64, len(cut))
			for i, e := range cut {
				zs[i] = e.Zxid
			}
			w.cfg.Truncated(zs)
		}
	}
	if w.cfg.Bugs.IgnoreTrunc {
		z = st.LastZxid()
	}
	if err := st.TruncateAfter(z); err != nil {
		return w.fail("TRUNC", err)
	}
	return true
}

// flush is the group commit: one Sync makes every write of the batch durable, then their
// held-back messages leave, in order, and the member hears Persisted for the last of them.
// A crash before it voids it (Host.After), so the member never hears of a lost write.
func (w *Writer[M]) flush() {
	if !w.live() {
		return
	}
	w.flushing = false
	if _, err := w.cfg.Store.Sync(); err != nil {
		w.fail("sync", err)
		return
	}
	batch := w.batch
	w.batch = nil
	if w.cfg.Synced != nil {
		w.cfg.Synced(len(batch))
	}
	for _, p := range batch {
		for _, m := range p.after {
			w.cfg.Send(m)
		}
	}
	w.cfg.Persisted(batch[len(batch)-1].id)
}

func (w *Writer[M]) live() bool { return w.cfg.Live == nil || w.cfg.Live() }

// fail handles a failed Store call and returns false. An injected I/O error is fatal for
// the member, as storage demands (never retry): the host crashes it and restarts it
// RestartAfter later. Any other error goes to Refused.
func (w *Writer[M]) fail(op string, err error) bool {
	h := w.cfg.Host
	if errors.Is(err, vdisk.ErrIO) {
		h.Note(fmt.Sprintf("storage %s failed: %v; the node stops", op, err))
		world, name := h.World(), h.Name()
		world.Crash(name)
		world.Clock.AfterFunc(w.cfg.RestartAfter, func() { world.Restart(name) })
		return false
	}
	if w.cfg.Refused != nil {
		w.cfg.Refused(op, err)
	}
	return false
}
