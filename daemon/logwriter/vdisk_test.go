package logwriter

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab/storage"
)

// The power-cut tests run the Writer on the simulator's virtual disk (sim/vdisk), which
// loses unsynced writes, tears the last one and keeps random prefixes of unsynced file and
// directory operations, and cut the power after each possible number of file system calls
// in turn. A SIGKILL (crash_test.go) cannot do this: the kernel keeps a killed process's
// unsynced writes, and a kill lands between two given calls only by luck.

var errPowerCut = errors.New("power cut")

// powerCutFS is a vdisk behind a mutex (the writer's goroutine and the snapshot goroutine
// share it) that crashes the disk at the call where callsLeft reaches zero and fails every
// call after it.
type powerCutFS struct {
	mu        sync.Mutex
	disk      *vdisk.Disk
	callsLeft int // -1: no cut planned
	cut       bool
	calls     int
}

func newPowerCutFS(seed uint64) *powerCutFS {
	d := vdisk.New(rand.New(rand.NewPCG(seed, 0xd15c)))
	d.SetFaults(vdisk.Faults{TearProbability: 0.5, KeepUnsyncedProbability: 0.5})
	return &powerCutFS{disk: d, callsLeft: -1}
}

// step runs op unless the power is out, or goes out now.
func (c *powerCutFS) step(op func() error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return errPowerCut
	}
	c.calls++
	if c.callsLeft == 0 {
		c.disk.Crash()
		c.cut = true
		return errPowerCut
	}
	if c.callsLeft > 0 {
		c.callsLeft--
	}
	return op()
}

// cutAfter plans the cut after n more calls.
func (c *powerCutFS) cutAfter(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.callsLeft = n
}

// crash cuts the power now if it has not been cut, and returns the rebooted disk.
func (c *powerCutFS) crash() *vdisk.Disk {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.cut {
		c.disk.Crash()
		c.cut = true
	}
	return c.disk
}

func (c *powerCutFS) wasCut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut
}

func (c *powerCutFS) Create(name string) (storage.File, error) {
	var f storage.File
	err := c.step(func() (err error) { f, err = c.disk.Create(name); return err })
	if err != nil {
		return nil, err
	}
	return &powerCutFile{f, c}, nil
}

func (c *powerCutFS) OpenAppend(name string) (storage.File, error) {
	var f storage.File
	err := c.step(func() (err error) { f, err = c.disk.OpenAppend(name); return err })
	if err != nil {
		return nil, err
	}
	return &powerCutFile{f, c}, nil
}

func (c *powerCutFS) ReadFile(name string) ([]byte, error) {
	var b []byte
	err := c.step(func() (err error) { b, err = c.disk.ReadFile(name); return err })
	return b, err
}

func (c *powerCutFS) List() ([]string, error) {
	var names []string
	err := c.step(func() (err error) { names, err = c.disk.List(); return err })
	return names, err
}

func (c *powerCutFS) Rename(o, n string) error {
	return c.step(func() error { return c.disk.Rename(o, n) })
}

func (c *powerCutFS) Remove(name string) error {
	return c.step(func() error { return c.disk.Remove(name) })
}

func (c *powerCutFS) SyncDir() error { return c.step(c.disk.SyncDir) }

type powerCutFile struct {
	f storage.File
	c *powerCutFS
}

func (f *powerCutFile) Write(p []byte) (int, error) {
	var n int
	err := f.c.step(func() (err error) { n, err = f.f.Write(p); return err })
	return n, err
}

func (f *powerCutFile) Sync() error { return f.c.step(f.f.Sync) }

func (f *powerCutFile) Truncate(n int64) error {
	return f.c.step(func() error { return f.f.Truncate(n) })
}

func (f *powerCutFile) Close() error {
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	return f.f.Close()
}

// History encoding: a snapshot's body is the list of zxids it holds, so a recovered node's
// history is its snapshot's list followed by the logged entries after it.

func encodeZxids(zs []uint64) []byte {
	parts := make([]string, len(zs))
	for i, z := range zs {
		parts[i] = strconv.FormatUint(z, 16)
	}
	return []byte(strings.Join(parts, ","))
}

func decodeZxids(b []byte) ([]uint64, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var zs []uint64
	for _, p := range strings.Split(string(b), ",") {
		z, err := strconv.ParseUint(p, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("snapshot body %q: %w", b, err)
		}
		zs = append(zs, z)
	}
	return zs, nil
}

// recoverHistory recovers fs and returns the history it holds.
func recoverHistory(fs storage.FS, cfg storage.Config) ([]uint64, storage.Recovered, error) {
	st, rec, err := storage.Recover(fs, fs, cfg)
	if err != nil {
		return nil, rec, err
	}
	defer st.Close()
	var hist []uint64
	if rec.HasSnapshot {
		if hist, err = decodeZxids(rec.Snapshot.Data); err != nil {
			return nil, rec, err
		}
		if len(hist) > 0 && hist[len(hist)-1] != rec.Snapshot.Zxid {
			return nil, rec, fmt.Errorf("snapshot %s holds history up to %#x", rec.Snapshot.File, hist[len(hist)-1])
		}
	}
	for _, e := range rec.Entries {
		hist = append(hist, e.Zxid)
	}
	if n := len(hist); n > 0 && hist[n-1] != rec.LastLoggedZxid {
		return nil, rec, fmt.Errorf("LastLoggedZxid %#x, last recovered txn %#x", rec.LastLoggedZxid, hist[n-1])
	}
	return hist, rec, nil
}

func zxidsOf(es []storage.Entry) []uint64 {
	zs := make([]uint64, len(es))
	for i, e := range es {
		zs[i] = e.Zxid
	}
	return zs
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// tortureSeeds is how many seeds a power-cut test runs: few by default, more with
// ZABKIT_TORTURE_SEEDS.
func tortureSeeds(t *testing.T, normal uint64) uint64 {
	if s := os.Getenv("ZABKIT_TORTURE_SEEDS"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_TORTURE_SEEDS must be a decimal count")
		return n
	}
	if testing.Short() {
		return max(normal/4, 1)
	}
	return normal
}

// waitBatch waits until the writer reports id durable (true) or fails (false).
func waitBatch(t *testing.T, w *Writer, id uint64) bool {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-w.Durable():
			if got >= id {
				return true
			}
		case <-w.Failed():
			return false
		case <-timeout:
			t.Fatalf("batch %d neither durable nor failed after 10 s", id)
		}
	}
}

// snapNode is one seed's node before a SNAP: its durable log (maybe behind a snapshot of
// its own) and the leader's snapshot.
type snapNode struct {
	cfg     storage.Config
	ours    []storage.Entry // our logged history, all durable
	ownSnap int             // our snapshot holds ours[:ownSnap]
	snap    uint64          // the SNAP's zxid
	leader  []uint64        // the leader's history up to snap
	kind    string
}

// drawSnapNode draws a node from seed: a log of one or two epochs in small segments, maybe
// a periodic snapshot, and a SNAP at a zxid we hold, beside our history (our second epoch
// forked from the leader's first: ZOOKEEPER-2832's shape) or past it.
func drawSnapNode(seed uint64) snapNode {
	r := rand.New(rand.NewPCG(seed, 1))
	n := snapNode{cfg: storage.Config{SnapshotRetainCount: 2, Log: storage.LogConfig{SegmentBytesMax: int64(60 + r.IntN(300))}}}
	k := 3 + r.IntN(8)
	for c := 1; c <= k; c++ {
		n.ours = append(n.ours, storage.Entry{Zxid: 1<<32 | uint64(c), Data: fmt.Appendf(nil, "ours 1/%d", c)})
	}
	second := r.IntN(5)
	for c := 1; c <= second; c++ {
		n.ours = append(n.ours, storage.Entry{Zxid: 2<<32 | uint64(c), Data: fmt.Appendf(nil, "ours 2/%d", c)})
	}
	if r.IntN(2) == 0 {
		n.ownSnap = 1 + r.IntN(k)
	}
	ourZxids := zxidsOf(n.ours)
	kind := []string{"held", "beside", "past"}[r.IntN(3)]
	if kind == "held" && n.ownSnap == len(n.ours) {
		kind = "past" // we hold nothing above our own snapshot
	}
	switch kind {
	case "held":
		i := n.ownSnap + r.IntN(len(n.ours)-n.ownSnap)
		n.snap, n.leader, n.kind = ourZxids[i], slices.Clone(ourZxids[:i+1]), "held"
	case "beside":
		n.leader = slices.Clone(ourZxids[:k])
		for c := k + 1; c <= k+1+r.IntN(3); c++ {
			n.leader = append(n.leader, 1<<32|uint64(c))
		}
		n.snap, n.kind = n.leader[len(n.leader)-1], "beside"
	default:
		n.leader = slices.Clone(ourZxids[:n.ownSnap+r.IntN(len(ourZxids)-n.ownSnap+1)])
		for c := 1; c <= 1+r.IntN(3); c++ {
			n.leader = append(n.leader, 3<<32|uint64(c))
		}
		n.snap, n.kind = n.leader[len(n.leader)-1], "past"
	}
	return n
}

// build writes the node's durable state on fs.
func (n snapNode) build(fs storage.FS) (*storage.Store, error) {
	st, _, err := storage.Recover(fs, fs, n.cfg)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(n.ours); i += 2 {
		if err := st.Append(n.ours[i:min(i+2, len(n.ours))]); err != nil {
			return nil, err
		}
		if _, err := st.Sync(); err != nil {
			return nil, err
		}
		if n.ownSnap > i && n.ownSnap <= i+2 {
			if _, err := st.SaveSnapshot(n.ours[n.ownSnap-1].Zxid, encodeZxids(zxidsOf(n.ours[:n.ownSnap]))); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// histories are the two states recovery may return: before the SNAP (everything we logged)
// and after it (the leader's history to the snapshot, then every txn we logged above it:
// zab's Persist contract keeps them until the sync stream confirms or cuts them).
func (n snapNode) histories() (before, after []uint64) {
	before = zxidsOf(n.ours)
	after = slices.Clone(n.leader)
	for _, z := range before {
		if z > n.snap {
			after = append(after, z)
		}
	}
	return before, after
}

// snapRun builds the seed's node, submits the SNAP with the power cut after calls file
// system calls and checks what recovery makes of the disk. done is true when the SNAP
// completed before the cut.
func snapRun(t *testing.T, seed uint64, calls int) (done bool) {
	n := drawSnapNode(seed)
	fs := newPowerCutFS(seed)
	st, err := n.build(fs)
	require.NoError(t, err, "seed %d: building the node", seed)
	w := New(st, Config{DataFS: fs, Logger: quietLogger()})
	fs.cutAfter(calls)
	require.NoError(t, w.Submit(Batch{ID: 1, Snapshot: &storage.Snapshot{Zxid: n.snap, Data: encodeZxids(n.leader)}}))
	done = waitBatch(t, w, 1)
	werr := w.Close()
	_ = st.Close()
	require.Equal(t, done, werr == nil, "seed %d, cut after %d calls: the SNAP was reported durable %v, but the writer failed with %v", seed, calls, done, werr)
	if !done {
		require.ErrorIs(t, werr, errPowerCut, "seed %d, cut after %d calls: the writer failed for another reason than the power cut", seed, calls)
	}
	disk := fs.crash()
	got, rec, err := recoverHistory(disk, n.cfg)
	before, after := n.histories()
	how := fmt.Sprintf("seed %d (%s SNAP at %#x, our log %x, our snapshot at %d, leader %x), power cut after %d calls, SNAP reported durable %v; reproduce: ZABKIT_TORTURE_SEEDS=%d go test ./daemon/logwriter -run %s",
		seed, n.kind, n.snap, zxidsOf(n.ours), n.ownSnap, n.leader, calls, done, seed+1, t.Name())
	require.NoError(t, err, "%s: recovery failed; report %v", how, rec.Report)
	if done {
		require.Equal(t, after, got, "%s: the SNAP was reported durable, so recovery must return the new history; report %v", how, rec.Report)
	} else if !slices.Equal(got, before) && !slices.Equal(got, after) {
		require.Failf(t, "a power cut lost or mixed history",
			"%s:\nrecovered %x\nwant the old history %x\nor the new one      %x\nreport %v", how, got, before, after, rec.Report)
	}
	return done
}

// TestSnapSurvivesAPowerCutAtEveryCall: a leader's SNAP (zab.Persist.Snapshot) carried out
// by the Writer, with the power cut at every file system call inside it. Recovery must
// return the history before the SNAP or the one after it, never a hole: the txns logged
// above the snapshot are durable at every instant. The former installSnapshot (cut the log
// above the snapshot, write it, empty the log, append the txns above it again) fails this
// at the cut between emptying the log and the re-append.
func TestSnapSurvivesAPowerCutAtEveryCall(t *testing.T) {
	seeds := tortureSeeds(t, 40)
	runs := 0
	for seed := range seeds {
		for calls := 0; ; calls++ {
			require.Less(t, calls, 300, "seed %d: the SNAP never completed", seed)
			runs++
			if snapRun(t, seed, calls) {
				break
			}
		}
	}
	t.Logf("%d seeds, %d power cuts", seeds, runs)
}

// waitSnapshots waits until the writer has adopted n snapshots (true) or failed (false).
func waitSnapshots(t *testing.T, w *Writer, n uint64) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.Snapshots() < n {
		select {
		case <-w.Failed():
			return false
		default:
		}
		require.True(t, time.Now().Before(deadline), "snapshot %d neither adopted nor failed after 10 s", n)
		time.Sleep(20 * time.Microsecond)
	}
	return true
}

// savedSnapshotsRun drives a Writer through the seed's rounds (a batch of txns, then maybe
// a SaveSnapshot of the history so far, each waited for, so the file system calls come in
// the same order on every run) with the power cut after calls file system calls, and checks
// what recovery makes of the disk. done is true when every round completed before the cut.
func savedSnapshotsRun(t *testing.T, seed uint64, calls int) (done bool) {
	r := rand.New(rand.NewPCG(seed, 2))
	cfg := storage.Config{SnapshotRetainCount: 1 + r.IntN(2), Log: storage.LogConfig{SegmentBytesMax: int64(60 + r.IntN(300))}}
	fs := newPowerCutFS(seed)
	st, _, err := storage.Recover(fs, fs, cfg)
	require.NoError(t, err)
	fs.cutAfter(calls)
	w := New(st, Config{DataFS: fs, Logger: quietLogger()})
	var written []uint64 // every txn submitted
	durable := 0         // how many of them were reported durable
	var snaps []uint64   // the snapshots adopted
	done = true
	epoch, counter := uint64(1), uint64(0)
	for id := uint64(1); id <= uint64(4+r.IntN(6)) && done; id++ {
		if r.IntN(5) == 0 {
			epoch, counter = epoch+1, 0
		}
		var batch []storage.Entry
		for range 1 + r.IntN(3) {
			counter++
			batch = append(batch, storage.Entry{Zxid: epoch<<32 | counter, Data: fmt.Appendf(nil, "seed %d txn %d/%d", seed, epoch, counter)})
		}
		written = append(written, zxidsOf(batch)...)
		require.NoError(t, w.Submit(Batch{ID: id, Entries: batch}))
		if done = waitBatch(t, w, id); !done {
			break
		}
		durable = len(written)
		if r.IntN(2) == 0 {
			z := written[len(written)-1]
			require.True(t, w.SaveSnapshot(z, encodeZxids(written)), "seed %d: the previous snapshot was adopted, the slot must be free", seed)
			if done = waitSnapshots(t, w, uint64(len(snaps)+1)); done {
				snaps = append(snaps, z)
			}
		}
	}
	werr := w.Close()
	_ = st.Close()
	if done {
		require.NoError(t, werr, "seed %d, cut after %d calls: every round completed, yet the writer failed", seed, calls)
	} else {
		require.ErrorIs(t, werr, errPowerCut, "seed %d, cut after %d calls: the writer failed for another reason than the power cut", seed, calls)
	}
	disk := fs.crash()
	got, rec, err := recoverHistory(disk, cfg)
	how := fmt.Sprintf("seed %d (retain %d, history %x, snapshots adopted %x), power cut after %d calls, completed %v; reproduce: ZABKIT_TORTURE_SEEDS=%d go test ./daemon/logwriter -run %s",
		seed, cfg.SnapshotRetainCount, written, snaps, calls, done, seed+1, t.Name())
	require.NoError(t, err, "%s: recovery failed; report %v", how, rec.Report)
	require.True(t, len(got) >= durable && slices.Equal(got, written[:len(got)]),
		"%s: recovered %x, want a prefix of the history holding the %d txns reported durable; report %v", how, got, durable, rec.Report)
	if done && len(snaps) > 0 {
		names, err := disk.List()
		require.NoError(t, err)
		var files []string
		for _, n := range names {
			if strings.HasPrefix(n, "snapshot.") {
				files = append(files, n)
			}
		}
		want := snaps[max(len(snaps)-cfg.SnapshotRetainCount, 0):]
		require.Len(t, files, len(want), "%s: adoption keeps the %d newest snapshots; files %v", how, cfg.SnapshotRetainCount, names)
		require.Equal(t, snaps[len(snaps)-1], rec.Snapshot.Zxid, "%s: the newest adopted snapshot must be recovered", how)
	}
	return done
}

// TestSavedSnapshotsSurviveAPowerCutAtEveryCall: the node's periodic snapshots, written on
// the snapshot goroutine and adopted by the writer goroutine (storage.WriteSnapshot, then
// Store.AdoptSnapshot and its retention), with the power cut at every file system call of a
// run of appends and snapshots. Recovery must return every txn reported durable; once all
// completed, exactly the retained snapshots are left. (Before adoption, the Store never
// learned of these snapshots and kept every one of them.)
func TestSavedSnapshotsSurviveAPowerCutAtEveryCall(t *testing.T) {
	seeds := tortureSeeds(t, 20)
	runs := 0
	for seed := range seeds {
		for calls := 0; ; calls++ {
			require.Less(t, calls, 1000, "seed %d: the rounds never completed", seed)
			runs++
			if savedSnapshotsRun(t, seed, calls) {
				break
			}
		}
	}
	t.Logf("%d seeds, %d power cuts", seeds, runs)
}
