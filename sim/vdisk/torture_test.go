package vdisk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab/storage"
)

// The crash torture: a storage.Store on a virtual disk that tears and keeps unsynced data at
// random, driven through random appends, syncs, truncations, snapshots, SNAP installs and
// epoch writes, with power cuts at random points *inside* those operations and bit flips in
// synced data. After every crash, recovery must return exactly a history that some allowed
// outcome explains: a prefix of what was written that holds everything that was durable,
// never an entry that was not written. A flip with valid data after it must be refused as
// corruption, never applied or cut.

var errPowerCut = errors.New("power cut")

// cuttingFS is the store's view of the disk: after countdown more calls the power goes out,
// and every call fails until the node restarts.
type cuttingFS struct {
	disk      *vdisk.Disk
	countdown int // calls left before the cut; 0 = no cut scheduled
	dead      bool
}

func (c *cuttingFS) step() error {
	if c.dead {
		return errPowerCut
	}
	if c.countdown > 0 {
		c.countdown--
		if c.countdown == 0 {
			c.disk.Crash()
			c.dead = true
			return errPowerCut
		}
	}
	return nil
}

func (c *cuttingFS) Create(name string) (storage.File, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	f, err := c.disk.Create(name)
	return &cuttingFile{f, c}, err
}

func (c *cuttingFS) OpenAppend(name string) (storage.File, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	f, err := c.disk.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return &cuttingFile{f, c}, nil
}

func (c *cuttingFS) ReadFile(name string) ([]byte, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	return c.disk.ReadFile(name)
}

func (c *cuttingFS) List() ([]string, error) {
	if err := c.step(); err != nil {
		return nil, err
	}
	return c.disk.List()
}

func (c *cuttingFS) Rename(o, n string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.disk.Rename(o, n)
}

func (c *cuttingFS) Remove(name string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.disk.Remove(name)
}

func (c *cuttingFS) SyncDir() error {
	if err := c.step(); err != nil {
		return err
	}
	return c.disk.SyncDir()
}

type cuttingFile struct {
	f storage.File
	c *cuttingFS
}

func (f *cuttingFile) Write(p []byte) (int, error) {
	if err := f.c.step(); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *cuttingFile) Sync() error {
	if err := f.c.step(); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *cuttingFile) Truncate(n int64) error {
	if err := f.c.step(); err != nil {
		return err
	}
	return f.f.Truncate(n)
}

func (f *cuttingFile) Close() error { return f.f.Close() }

// outcome is one history recovery may return: a prefix of hist at least durable long.
type outcome struct {
	hist    []storage.Entry
	durable int
}

// encodeHistory is the test's state machine snapshot: the history itself.
func encodeHistory(es []storage.Entry) []byte {
	var b []byte
	for _, e := range es {
		b = binary.LittleEndian.AppendUint64(b, e.Zxid)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

func decodeHistory(b []byte) ([]storage.Entry, error) {
	var es []storage.Entry
	for len(b) > 0 {
		if len(b) < 12 || len(b) < 12+int(binary.LittleEndian.Uint32(b[8:])) {
			return nil, fmt.Errorf("snapshot body truncated")
		}
		n := int(binary.LittleEndian.Uint32(b[8:]))
		es = append(es, storage.Entry{Zxid: binary.LittleEndian.Uint64(b), Data: b[12 : 12+n]})
		b = b[12+n:]
	}
	return es, nil
}

// installedHistory is a node's history after it installs a leader's snapshot holding
// leader: the leader's history, then every txn the node logged above the snapshot's zxid.
func installedHistory(leader, ours []storage.Entry) []storage.Entry {
	out := append([]storage.Entry(nil), leader...)
	for _, e := range ours {
		if e.Zxid > zxidOf(leader) {
			out = append(out, e)
		}
	}
	return out
}

func isPrefix(got, of []storage.Entry) bool {
	if len(got) > len(of) {
		return false
	}
	for i := range got {
		if got[i].Zxid != of[i].Zxid || !bytes.Equal(got[i].Data, of[i].Data) {
			return false
		}
	}
	return true
}

// tortureStats counts what the runs exercised, so that a silent change that stops the
// torture from reaching a path shows up as a failure.
type tortureStats struct {
	ops, powerCuts, cleanCrashes, restarts          int
	tornCuts, middleRefused, tailCut, snapshotFlips int
	snapshotFallbacks, gapRefused, ioErrors         int
	installsKeeping, installsFinished               int
}

type torture struct {
	t       *testing.T
	seed    uint64
	ops     *rand.Rand
	disk    *vdisk.Disk
	fs      *cuttingFS
	cfg     storage.Config
	store   *storage.Store
	hist    []storage.Entry // what the node believes its history is
	durable int             // hist[:durable] must survive
	snapLen int             // hist[:snapLen] is in the newest snapshot
	epochs  [2]uint32       // accepted, current
	trail   []string        // recent operations, for the failure message
	stats   *tortureStats
}

func (tr *torture) fatalf(format string, args ...any) {
	tr.t.Helper()
	tr.t.Fatalf("seed %d: %s\nlast operations:\n  %s\nreproduce: ZABKIT_SEED=%d go test ./sim/vdisk -run TestCrashTorture -v",
		tr.seed, fmt.Sprintf(format, args...), strings.Join(tr.trail, "\n  "), tr.seed)
}

func (tr *torture) note(format string, args ...any) {
	tr.trail = append(tr.trail, fmt.Sprintf(format, args...))
	if len(tr.trail) > 25 {
		tr.trail = tr.trail[1:]
	}
}

func (tr *torture) lastZxid() uint64 {
	if len(tr.hist) == 0 {
		return 0
	}
	return tr.hist[len(tr.hist)-1].Zxid
}

func (tr *torture) newEntries(n int, epoch uint32) []storage.Entry {
	z := tr.lastZxid()
	if uint32(z>>32) < epoch {
		z = uint64(epoch) << 32
	}
	var es []storage.Entry
	for range n {
		z++
		data := make([]byte, tr.ops.IntN(120))
		for i := range data {
			data[i] = byte(tr.ops.Uint32())
		}
		es = append(es, storage.Entry{Zxid: z, Data: data})
	}
	return es
}

// epochBoundary returns a random index b at or above the snapshot where hist[b] starts a
// newer epoch than hist[b-1], or 0 when there is none.
func (tr *torture) epochBoundary() int {
	var bs []int
	for b := max(tr.snapLen, 1); b < len(tr.hist); b++ {
		if tr.hist[b].Zxid>>32 > tr.hist[b-1].Zxid>>32 {
			bs = append(bs, b)
		}
	}
	if len(bs) == 0 {
		return 0
	}
	return bs[tr.ops.IntN(len(bs))]
}

// recover restarts the node and checks the result against the allowed outcomes. It returns
// false when the run must stop (a refused recovery that was expected).
func (tr *torture) recover(outcomes []outcome, epochs [2][]uint32) {
	tr.t.Helper()
	tr.fs.dead, tr.fs.countdown = false, 0
	store, r, err := storage.Recover(tr.fs, tr.fs, tr.cfg)
	if err != nil {
		tr.fatalf("recovery after a crash failed: %v (report: %v)", err, r.Report)
	}
	tr.accept(store, r, outcomes, epochs)
}

func (tr *torture) accept(store *storage.Store, r storage.Recovered, outcomes []outcome, epochs [2][]uint32) {
	tr.t.Helper()
	var got []storage.Entry
	if r.HasSnapshot {
		var err error
		if got, err = decodeHistory(r.Snapshot.Data); err != nil {
			tr.fatalf("snapshot %s does not decode: %v", r.Snapshot.File, err)
		}
	}
	got = append(got, r.Entries...)
	ok := false
	for _, o := range outcomes {
		if len(got) >= o.durable && isPrefix(got, o.hist) {
			ok = true
			break
		}
	}
	if !ok {
		var desc []string
		for _, o := range outcomes {
			desc = append(desc, fmt.Sprintf("a prefix of %d entries (last %#x) holding the %d durable ones", len(o.hist), zxidOf(o.hist), o.durable))
		}
		tr.fatalf("recovered %d entries (last %#x, snapshot %v at %#x), want %s; report: %v",
			len(got), zxidOf(got), r.HasSnapshot, r.Snapshot.Zxid, strings.Join(desc, " or "), r.Report)
	}
	if r.LastLoggedZxid != zxidOf(got) {
		tr.fatalf("LastLoggedZxid %#x, last recovered entry %#x", r.LastLoggedZxid, zxidOf(got))
	}
	for i, v := range []uint32{r.AcceptedEpoch, r.CurrentEpoch} {
		if !contains(epochs[i], v) {
			tr.fatalf("epoch file %d reads %d, want one of %v", i, v, epochs[i])
		}
	}
	tr.tornCutsFrom(r)
	tr.store, tr.hist, tr.durable = store, got, len(got)
	tr.snapLen = 0
	if r.HasSnapshot {
		tr.snapLen = len(got) - len(r.Entries)
	}
	tr.epochs = [2]uint32{r.AcceptedEpoch, r.CurrentEpoch}
}

func (tr *torture) tornCutsFrom(r storage.Recovered) {
	if len(r.Report.Cuts) > 0 {
		tr.stats.tornCuts++
	}
	for _, c := range r.Report.Cuts {
		if strings.Contains(c.Reason, "interrupted SNAP install") {
			tr.stats.installsFinished++
			break
		}
	}
}

func contains(vs []uint32, v uint32) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func zxidOf(es []storage.Entry) uint64 {
	if len(es) == 0 {
		return 0
	}
	return es[len(es)-1].Zxid
}

// step runs one random operation, maybe with a power cut inside it.
func (tr *torture) step() bool {
	tr.stats.ops++
	cut := tr.ops.IntN(6) == 0
	k := tr.ops.IntN(100)
	if cut {
		// Snapshot writes make up to about 20 file system calls (PersistSnapshot's
		// retirement of the log most), the other operations a few.
		callsMax := 10
		if k >= 73 && k < 88 {
			callsMax = 24
		}
		tr.fs.countdown = 1 + tr.ops.IntN(callsMax)
	}
	ioFaults := k < 94 && tr.ops.IntN(20) == 0 // only inside operations, not crashes or restarts
	if ioFaults {
		tr.disk.SetFaults(vdisk.Faults{TearProbability: 0.4, KeepUnsyncedProbability: 0.4, WriteErrorProbability: 0.3, SyncErrorProbability: 0.3})
	}
	one := func(o outcome) []outcome { return []outcome{o} }
	same := [2][]uint32{{tr.epochs[0]}, {tr.epochs[1]}}
	var err error
	var ifCut []outcome
	epochsIfCut := same
	var onSuccess func()
	afterCut := func() {}

	switch {
	case k < 40: // append a batch
		epoch := uint32(tr.lastZxid() >> 32)
		if epoch == 0 || tr.ops.IntN(10) == 0 {
			epoch++
		}
		batch := tr.newEntries(1+tr.ops.IntN(4), epoch)
		tr.note("append %d entries %#x..%#x", len(batch), batch[0].Zxid, zxidOf(batch))
		err = tr.store.Append(batch)
		grown := append(append([]storage.Entry(nil), tr.hist...), batch...)
		ifCut = one(outcome{grown, tr.durable})
		onSuccess = func() { tr.hist = grown }
	case k < 65: // sync
		tr.note("sync")
		var durableZxid uint64
		durableZxid, err = tr.store.Sync()
		ifCut = one(outcome{tr.hist, tr.durable})
		onSuccess = func() {
			if durableZxid != tr.lastZxid() {
				tr.fatalf("Sync returned %#x, want %#x", durableZxid, tr.lastZxid())
			}
			tr.durable = len(tr.hist)
		}
	case k < 73: // TRUNC
		keep := tr.snapLen + tr.ops.IntN(len(tr.hist)-tr.snapLen+1)
		z := zxidOf(tr.hist[:keep])
		tr.note("truncate after %#x (keep %d of %d)", z, keep, len(tr.hist))
		err = tr.store.TruncateAfter(z)
		ifCut = one(outcome{tr.hist, min(tr.durable, keep)})
		onSuccess = func() {
			if keep < len(tr.hist) {
				tr.hist, tr.durable = tr.hist[:keep], keep
			}
		}
	case k < 82: // periodic snapshot of durable state
		if tr.durable == 0 || tr.durable <= tr.snapLen {
			tr.fs.countdown = 0
			tr.disk.SetFaults(tornFaults)
			return true
		}
		at := tr.snapLen + 1 + tr.ops.IntN(tr.durable-tr.snapLen)
		if tr.ops.IntN(2) == 0 {
			tr.note("save snapshot at %#x", tr.hist[at-1].Zxid)
			_, err = tr.store.SaveSnapshot(tr.hist[at-1].Zxid, encodeHistory(tr.hist[:at]))
		} else {
			// zab's Persist.Snapshot of the periodic kind: the log holds its zxid.
			tr.note("persist periodic snapshot at %#x", tr.hist[at-1].Zxid)
			_, err = tr.store.PersistSnapshot(tr.hist[at-1].Zxid, encodeHistory(tr.hist[:at]))
		}
		ifCut = one(outcome{tr.hist, tr.durable})
		onSuccess = func() { tr.snapLen = at }
	case k < 88: // SNAP from a leader whose history shares a prefix with ours
		m := tr.snapLen + tr.ops.IntN(len(tr.hist)-tr.snapLen+1)
		epoch := uint32(tr.lastZxid()>>32) + 1
		if b := tr.epochBoundary(); b > 0 && tr.ops.IntN(2) == 0 {
			// ZOOKEEPER-2832's shape: the leader went on in the epoch where our history
			// forked, so our later entries have zxids above the leader's snapshot and must
			// never be replayed on top of it.
			m, epoch = b, uint32(tr.hist[b-1].Zxid>>32)
		}
		leader := append([]storage.Entry(nil), tr.hist[:m]...)
		if n := tr.ops.IntN(4); n > 0 || m == 0 || m < len(tr.hist) && epoch == uint32(tr.hist[m-1].Zxid>>32) {
			saved := tr.hist
			tr.hist = leader
			leader = append(leader, tr.newEntries(max(n, 1), epoch)...)
			tr.hist = saved
		}
		installed := installedHistory(leader, tr.hist)
		if len(installed) > len(leader) {
			tr.stats.installsKeeping++
		}
		z := zxidOf(leader)
		tr.note("install snapshot at %#x (shares %d of our %d entries, keeps %d above it)", z, m, len(tr.hist), len(installed)-len(leader))
		_, err = tr.store.PersistSnapshot(z, encodeHistory(leader))
		// zab's contract: the txns logged above the snapshot stay, durable at every instant.
		// PersistSnapshot syncs them before the snapshot can be durable, so the new history
		// comes back whole or not at all.
		ifCut = []outcome{{tr.hist, tr.durable}, {installed, len(installed)}}
		onSuccess = func() { tr.hist, tr.durable, tr.snapLen = installed, len(installed), len(leader) }
	case k < 94: // epoch files: accepted never goes back, current never passes accepted
		which := tr.ops.IntN(2)
		v := tr.epochs[0] + uint32(tr.ops.IntN(3))
		if which == 1 {
			v = tr.epochs[1] + uint32(tr.ops.IntN(int(tr.epochs[0]-tr.epochs[1])+1))
		}
		tr.note("set epoch file %d to %d", which, v)
		if which == 0 {
			err = tr.store.SetAcceptedEpoch(v)
			ifCut = one(outcome{tr.hist, tr.durable})
		} else {
			// SetCurrentEpoch syncs the log first: everything appended may be durable, and
			// must be if the new epoch is (ZOOKEEPER-4643).
			err = tr.store.SetCurrentEpoch(v)
			ifCut = one(outcome{tr.hist, tr.durable})
			old, n := tr.epochs[1], len(tr.hist)
			afterCut = func() {
				if v != old && tr.epochs[1] == v && len(tr.hist) < n {
					tr.fatalf("currentEpoch %d is durable but only %d of the %d txns appended before it are", v, len(tr.hist), n)
				}
			}
		}
		epochsIfCut[which] = []uint32{tr.epochs[which], v}
		onSuccess = func() {
			tr.epochs[which] = v
			if which == 1 {
				tr.durable = len(tr.hist)
			}
		}
	case k < 98: // power cut between operations
		tr.fs.countdown = 0
		tr.note("crash")
		tr.stats.cleanCrashes++
		tr.disk.Crash()
		tr.recover(one(outcome{tr.hist, tr.durable}), same)
		return true
	default: // process restart: no data lost, and recovery makes everything durable
		tr.fs.countdown = 0
		tr.note("restart")
		tr.stats.restarts++
		_ = tr.store.Close()
		store, r, err := storage.Recover(tr.fs, tr.fs, tr.cfg)
		if err != nil {
			tr.fatalf("restart without a crash failed: %v", err)
		}
		tr.accept(store, r, one(outcome{tr.hist, len(tr.hist)}), same)
		return true
	}

	if ioFaults {
		tr.disk.SetFaults(tornFaults)
	}
	if errors.Is(err, vdisk.ErrIO) && !tr.fs.dead {
		// A failed write or fsync is fatal (fsyncgate): the node stops, maybe the machine
		// too, and recovery must still find an allowed history.
		tr.stats.ioErrors++
		tr.fs.countdown = 0
		tr.note("  I/O error inside it: %v", err)
		if tr.ops.IntN(2) == 0 {
			tr.disk.Crash()
		}
		tr.recover(ifCut, epochsIfCut)
		afterCut()
		return true
	}
	if tr.fs.dead {
		tr.stats.powerCuts++
		if err == nil {
			tr.fatalf("the power went out inside the operation, yet it returned nil")
		}
		tr.note("  power cut inside it")
		tr.recover(ifCut, epochsIfCut)
		afterCut()
		return true
	}
	tr.fs.countdown = 0
	if err != nil {
		tr.fatalf("operation failed without a fault: %v", err)
	}
	onSuccess()
	return true
}

// corrupt syncs, flips a bit in a synced log segment or snapshot, power-cycles and checks
// that recovery refuses damage in the middle of the log, cuts (and reports) damage at its
// very end, and falls back past a damaged snapshot only when the result has no hole. It
// returns false when recovery (rightly) refused, ending the run.
func (tr *torture) corrupt() bool {
	tr.fs.countdown = 0
	if _, err := tr.store.Sync(); err != nil {
		tr.fatalf("sync before the flip: %v", err)
	}
	tr.durable = len(tr.hist)
	names, _ := tr.disk.List()
	var targets, segments []string
	for _, n := range names {
		if strings.HasPrefix(n, "log.") {
			segments = append(segments, n)
			targets = append(targets, n)
		}
		if strings.HasPrefix(n, "snapshot.") && !strings.HasSuffix(n, ".tmp") {
			targets = append(targets, n)
		}
	}
	if len(targets) == 0 {
		return true
	}
	name := targets[tr.ops.IntN(len(targets))]
	before, _ := tr.disk.ReadFile(name)
	c, ok := tr.disk.CorruptFileBlock(name)
	if !ok {
		return true
	}
	tr.note("flip bit %d at %s offset %d", c.Bit, name, c.OffsetBytes)
	tr.disk.Crash()
	store, r, err := storage.Recover(tr.fs, tr.fs, tr.cfg)
	same := [2][]uint32{{tr.epochs[0]}, {tr.epochs[1]}}

	if strings.HasPrefix(name, "snapshot.") {
		tr.stats.snapshotFlips++
		switch {
		case errors.Is(err, storage.ErrLogGap):
			tr.stats.gapRefused++
			return false
		case err != nil:
			tr.fatalf("recovery after a snapshot flip: %v", err)
		}
		if len(r.Report.SkippedSnapshots) > 0 {
			tr.stats.snapshotFallbacks++
		}
		tr.accept(store, r, []outcome{{tr.hist, len(tr.hist)}}, same)
		return true
	}

	// Where is the flip? Records after the flipped one (here or in a later segment) make it
	// damage in the middle.
	lastRecordAt := lastRecordOffset(before)
	inLastRecord := name == segments[len(segments)-1] && lastRecordAt >= 0 && c.OffsetBytes >= int64(lastRecordAt)
	if !inLastRecord {
		var ce *storage.CorruptionError
		if !errors.As(err, &ce) {
			tr.fatalf("a flip at %s offset %d (last record at %d) has valid records after it: want a *CorruptionError, got %v (report %v)",
				name, c.OffsetBytes, lastRecordAt, err, r.Report)
		}
		tr.stats.middleRefused++
		return false
	}
	if err != nil {
		tr.fatalf("a flip in the last record must be cut, got %v", err)
	}
	onlyRecord := lastRecordAt == 28 // the segment goes whole
	if len(r.Report.Cuts) == 0 || r.Report.Cuts[0].File != name ||
		(r.Report.Cuts[0].OffsetBytes != int64(lastRecordAt) && !(onlyRecord && r.Report.Cuts[0].FileRemoved)) {
		tr.fatalf("a flip in the last record must be reported as a cut at %s offset %d, got %v", name, lastRecordAt, r.Report)
	}
	tr.stats.tailCut++
	n := len(tr.hist)
	tr.accept(store, r, []outcome{{tr.hist, n - 1}}, same)
	return true
}

// lastRecordOffset parses a segment (28-byte header, then records of a 16-byte header and
// data) independently of the storage package and returns where its last record starts.
func lastRecordOffset(b []byte) int {
	off, last := 28, -1
	for off+16 <= len(b) {
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if off+16+n > len(b) {
			break
		}
		last = off
		off += 16 + n
	}
	return last
}

var tornFaults = vdisk.Faults{TearProbability: 0.4, KeepUnsyncedProbability: 0.4}

func runTorture(t *testing.T, seed uint64, steps int, stats *tortureStats) {
	diskRng := rand.New(rand.NewPCG(seed, 1))
	d := vdisk.New(diskRng)
	d.SetFaults(tornFaults)
	ops := rand.New(rand.NewPCG(seed, 2))
	tr := &torture{
		t: t, seed: seed, ops: ops, disk: d, fs: &cuttingFS{disk: d}, stats: stats,
		cfg: storage.Config{SnapshotRetainCount: 2, Log: storage.LogConfig{SegmentBytesMax: int64(200 + ops.IntN(2000))}},
	}
	store, r, err := storage.Recover(tr.fs, tr.fs, tr.cfg)
	if err != nil {
		t.Fatalf("seed %d: recovering an empty disk: %v", seed, err)
	}
	tr.accept(store, r, []outcome{{nil, 0}}, [2][]uint32{{0}, {0}})
	flipAt := -1
	if ops.IntN(2) == 0 {
		flipAt = ops.IntN(steps)
	}
	for i := range steps {
		if i == flipAt && !tr.corrupt() {
			return
		}
		tr.step()
	}
}

func TestCrashTorture(t *testing.T) {
	seeds, steps := uint64(1000), 120
	if testing.Short() {
		seeds = 100
	}
	if s := os.Getenv("ZABKIT_TORTURE_SEEDS"); s != "" { // for long sweeps
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ZABKIT_TORTURE_SEEDS=%q: %v", s, err)
		}
		seeds = v
	}
	first := uint64(0)
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ZABKIT_SEED=%q: %v", s, err)
		}
		first, seeds = v, 1
	}
	var stats tortureStats
	for seed := first; seed < first+seeds; seed++ {
		runTorture(t, seed, steps, &stats)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d seeds: %+v", seeds, stats)
	if seeds >= 60 {
		// Each path must have been reached, or the torture silently tests less than it says.
		for name, n := range map[string]int{
			"power cuts inside operations": stats.powerCuts, "crashes between operations": stats.cleanCrashes,
			"restarts": stats.restarts, "recoveries that cut a torn tail": stats.tornCuts,
			"middle flips refused": stats.middleRefused, "last-record flips cut": stats.tailCut,
			"snapshot flips": stats.snapshotFlips, "injected I/O errors": stats.ioErrors,
			"SNAP installs keeping txns above the snapshot": stats.installsKeeping,
			"recoveries finishing an interrupted install":   stats.installsFinished,
		} {
			if n == 0 {
				t.Errorf("no %s over %d seeds: the torture no longer reaches that path", name, seeds)
			}
		}
	}
}
