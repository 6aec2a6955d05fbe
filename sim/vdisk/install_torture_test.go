package vdisk_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab/storage"
)

// The SNAP install torture: for each seed, a random node (several log segments, maybe a
// periodic snapshot, maybe txns appended but not synced) installs a leader's snapshot, and
// the power goes out after each possible number of file system calls inside the install, in
// turn, on a disk that tears unsynced writes and keeps random prefixes of unsynced file and
// directory operations. After every cut, recovery must return the old history (everything
// that was durable) or the new one (the leader's snapshot and every txn the node logged above
// it, zab's Persist contract), never a hole and never the node's old history below the
// snapshot replayed over it; and the recovered log must take appends that survive the next
// crash.

// installFunc carries out a SNAP install on a store whose data and log share fs.
type installFunc func(st *storage.Store, fs storage.FS, zxid uint64, data []byte) error

func persistSnapshot(st *storage.Store, _ storage.FS, zxid uint64, data []byte) error {
	_, err := st.PersistSnapshot(zxid, data)
	return err
}

// reappendInstall is what the simulator's host did before PersistSnapshot: the old
// InstallSnapshot (cut the log above zxid, write the snapshot, empty the log), then the txns
// above zxid appended again and synced. A crash in between loses durable txns.
func reappendInstall(st *storage.Store, fs storage.FS, zxid uint64, data []byte) error {
	if _, err := st.Sync(); err != nil {
		return err
	}
	kept, err := st.EntriesAfter(max(zxid, st.SnapshotZxid()))
	if err != nil {
		return err
	}
	if err := st.Log().TruncateAfter(zxid); err != nil {
		return err
	}
	if err := storage.WriteSnapshot(fs, zxid, data); err != nil {
		return err
	}
	if err := st.Log().Reset(zxid); err != nil {
		return err
	}
	if len(kept) > 0 {
		if err := st.Append(kept); err != nil {
			return err
		}
	}
	_, err = st.Sync()
	return err
}

// logFirstInstall retires the old log before the snapshot is durable: a crash in between
// leaves neither the old history nor the new one.
func logFirstInstall(st *storage.Store, fs storage.FS, zxid uint64, data []byte) error {
	if _, err := st.Sync(); err != nil {
		return err
	}
	kept, err := st.EntriesAfter(max(zxid, st.SnapshotZxid()))
	if err != nil {
		return err
	}
	if err := st.Log().Reset(zxid); err != nil {
		return err
	}
	if len(kept) > 0 {
		if err := st.Append(kept); err != nil {
			return err
		}
	}
	if _, err := st.Sync(); err != nil {
		return err
	}
	return storage.WriteSnapshot(fs, zxid, data)
}

// installNode is the node a seed builds before its install.
type installNode struct {
	cfg       storage.Config
	store     *storage.Store
	hist      []storage.Entry
	durable   int // hist[:durable] is synced
	leader    []storage.Entry
	installed []storage.Entry // the history after the install
}

// buildInstallNode builds the same node on d for every run of a seed: only ops draws
// choices, and the disk draws nothing until it crashes.
func buildInstallNode(seed uint64, fs *cuttingFS) (*installNode, error) {
	ops := rand.New(rand.NewPCG(seed, 3))
	n := &installNode{cfg: storage.Config{SnapshotRetainCount: 2, Log: storage.LogConfig{SegmentBytesMax: int64(100 + ops.IntN(500))}}}
	st, _, err := storage.Recover(fs, fs, n.cfg)
	if err != nil {
		return nil, err
	}
	n.store = st
	snapLen := 0
	epoch := uint32(1)
	z := uint64(epoch) << 32
	for range 3 + ops.IntN(10) {
		if ops.IntN(4) == 0 {
			epoch++
			z = uint64(epoch) << 32
		}
		var batch []storage.Entry
		for range 1 + ops.IntN(4) {
			z++
			batch = append(batch, storage.Entry{Zxid: z, Data: fmt.Appendf(nil, "seed %d txn %#x %s", seed, z, make([]byte, ops.IntN(40)))})
		}
		if err := st.Append(batch); err != nil {
			return nil, err
		}
		n.hist = append(n.hist, batch...)
		if ops.IntN(3) > 0 {
			if _, err := st.Sync(); err != nil {
				return nil, err
			}
			n.durable = len(n.hist)
		}
		if ops.IntN(8) == 0 && n.durable > snapLen {
			at := snapLen + 1 + ops.IntN(n.durable-snapLen)
			if _, err := st.PersistSnapshot(n.hist[at-1].Zxid, encodeHistory(n.hist[:at])); err != nil {
				return nil, err
			}
			snapLen = at
		}
	}

	// The leader shares a prefix of our history past our snapshot, and maybe goes on: in a
	// new epoch (all we hold after the prefix is below its snapshot), or, ZOOKEEPER-2832's
	// shape, in the epoch where our history forked (what we hold after the fork is above
	// its snapshot and is kept until a sync stream would cut it).
	m := snapLen + ops.IntN(len(n.hist)-snapLen+1)
	leaderEpoch := epoch + 1
	var forks []int
	for b := max(snapLen, 1); b < len(n.hist); b++ {
		if n.hist[b].Zxid>>32 > n.hist[b-1].Zxid>>32 {
			forks = append(forks, b)
		}
	}
	if len(forks) > 0 && ops.IntN(2) == 0 {
		m = forks[ops.IntN(len(forks))]
		leaderEpoch = uint32(n.hist[m-1].Zxid >> 32)
	}
	n.leader = append([]storage.Entry(nil), n.hist[:m]...)
	if more := ops.IntN(4); more > 0 || m == 0 {
		// Its txns take zxids we never held: its epoch is above all of ours, or it is the
		// epoch our history left at the fork.
		lz := zxidOf(n.leader)
		if uint32(lz>>32) < leaderEpoch {
			lz = uint64(leaderEpoch) << 32
		}
		for range max(more, 1) {
			lz++
			n.leader = append(n.leader, storage.Entry{Zxid: lz, Data: fmt.Appendf(nil, "leader txn %#x", lz)})
		}
	}
	n.installed = installedHistory(n.leader, n.hist)
	return n, nil
}

// installStats counts what the runs reached.
type installStats struct {
	runs, cuts, old, finished, completed, kept, rewritten int
}

// tortureInstall runs every power cut of one seed's install and returns the first violation
// found ("" when none).
func tortureInstall(seed uint64, install installFunc, stats *installStats) string {
	for calls := 1; ; calls++ {
		if calls > 200 {
			return fmt.Sprintf("seed %d: the install never completed", seed)
		}
		for variant := range uint64(2) {
			done, why := installRun(seed, calls, variant, install, stats)
			if why != "" {
				return why
			}
			if done {
				return ""
			}
		}
	}
}

// installRun builds the seed's node, cuts the power after calls file system calls of the
// install (if it gets that far) and checks the recovery. done is true when the install
// completed before the cut.
func installRun(seed uint64, calls int, variant uint64, install installFunc, stats *installStats) (done bool, why string) {
	d := vdisk.New(rand.New(rand.NewPCG(seed, uint64(calls)<<1|variant)))
	fs := &cuttingFS{disk: d}
	n, err := buildInstallNode(seed, fs)
	if err != nil {
		return false, fmt.Sprintf("seed %d: building the node: %v", seed, err)
	}
	stats.runs++
	if len(n.installed) > len(n.leader) {
		stats.kept++
	}
	d.SetFaults(tornFaults)
	fs.countdown = calls
	err = install(n.store, fs, zxidOf(n.leader), encodeHistory(n.leader))
	done = !fs.dead
	fs.countdown, fs.dead = 0, false
	where := fmt.Sprintf("seed %d, power cut after %d calls (disk variant %d)", seed, calls-1, variant)
	if done {
		if err != nil {
			return true, fmt.Sprintf("seed %d: the install failed without a fault: %v", seed, err)
		}
		where = fmt.Sprintf("seed %d, crash after the install returned", seed)
		stats.completed++
		d.Crash()
	} else {
		stats.cuts++
		if !errors.Is(err, errPowerCut) {
			return false, fmt.Sprintf("%s: the install returned %v, want the power cut", where, err)
		}
	}
	st, r, err := storage.Recover(fs, fs, n.cfg)
	if err != nil {
		return done, fmt.Sprintf("%s: recovery failed: %v (report %v)", where, err, r.Report)
	}
	got, err := recoveredHistory(r)
	if err != nil {
		return done, fmt.Sprintf("%s: %v", where, err)
	}
	isNew := len(got) == len(n.installed) && isPrefix(got, n.installed)
	isOld := len(got) >= n.durable && isPrefix(got, n.hist)
	switch {
	case isNew:
		if !done {
			stats.finished++
		}
	case isOld && !done:
		stats.old++
	default:
		return done, fmt.Sprintf("%s: recovered %d txns ending %#x (snapshot at %#x); want the old history (a prefix of %d ending %#x holding the %d durable) or, after the install returned, the new one (%d ending %#x); report %v",
			where, len(got), zxidOf(got), r.Snapshot.Zxid, len(n.hist), zxidOf(n.hist), n.durable, len(n.installed), zxidOf(n.installed), r.Report)
	}
	for _, c := range r.Report.Cuts {
		if strings.Contains(c.Reason, "rewritten away") {
			stats.rewritten++
		}
	}

	// The recovered log goes on: an append survives the next crash.
	next := storage.Entry{Zxid: r.LastLoggedZxid + 1, Data: []byte("after recovery")}
	if err := st.Append([]storage.Entry{next}); err != nil {
		return done, fmt.Sprintf("%s: append after recovery: %v", where, err)
	}
	if _, err := st.Sync(); err != nil {
		return done, fmt.Sprintf("%s: sync after recovery: %v", where, err)
	}
	d.Crash()
	_, r, err = storage.Recover(fs, fs, n.cfg)
	if err != nil {
		return done, fmt.Sprintf("%s: second recovery failed: %v (report %v)", where, err, r.Report)
	}
	again, err := recoveredHistory(r)
	if err != nil {
		return done, fmt.Sprintf("%s: second recovery: %v", where, err)
	}
	if want := append(got, next); len(again) != len(want) || !isPrefix(again, want) {
		return done, fmt.Sprintf("%s: after an append and a crash, recovered %d txns ending %#x, want %d ending %#x; report %v",
			where, len(again), zxidOf(again), len(want), zxidOf(want), r.Report)
	}
	return done, ""
}

func recoveredHistory(r storage.Recovered) ([]storage.Entry, error) {
	var got []storage.Entry
	if r.HasSnapshot {
		var err error
		if got, err = decodeHistory(r.Snapshot.Data); err != nil {
			return nil, fmt.Errorf("snapshot %s does not decode: %w", r.Snapshot.File, err)
		}
	}
	if r.LastLoggedZxid != zxidOf(append(got, r.Entries...)) {
		return nil, fmt.Errorf("LastLoggedZxid %#x, last recovered txn %#x", r.LastLoggedZxid, zxidOf(append(got, r.Entries...)))
	}
	return append(got, r.Entries...), nil
}

func TestSnapInstallSurvivesAPowerCutAtEveryCall(t *testing.T) {
	seeds := uint64(300)
	if testing.Short() {
		seeds = 60
	}
	if s := os.Getenv("ZABKIT_TORTURE_SEEDS"); s != "" {
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
	var stats installStats
	for seed := first; seed < first+seeds; seed++ {
		if why := tortureInstall(seed, persistSnapshot, &stats); why != "" {
			t.Fatalf("%s\nreproduce: ZABKIT_SEED=%d go test ./sim/vdisk -run TestSnapInstallSurvivesAPowerCutAtEveryCall -v", why, seed)
		}
	}
	t.Logf("%d seeds: %+v", seeds, stats)
	// Each outcome must have been reached, or the torture tests less than it says.
	if seeds < 60 {
		return
	}
	assert.Positive(t, stats.old, "no cut recovered the old history")
	assert.Positive(t, stats.finished, "no cut left an install for recovery to finish")
	assert.Positive(t, stats.kept, "no install kept txns above the snapshot")
	assert.Positive(t, stats.rewritten, "no recovery rewrote a segment straddling the snapshot")
	assert.Equal(t, int(seeds), stats.completed, "every seed's install completes once the cut comes late enough")
}

func TestSnapInstallTortureCatchesAWrongOrder(t *testing.T) {
	// The same torture must fail an install that orders its steps wrongly, or its passing
	// proves nothing.
	for _, tc := range []struct {
		name    string
		install installFunc
	}{
		{"the former host's InstallSnapshot then re-append", reappendInstall},
		{"the log retired before the snapshot is durable", logFirstInstall},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stats installStats
			for seed := range uint64(60) {
				if why := tortureInstall(seed, tc.install, &stats); why != "" {
					t.Logf("caught: %s", why)
					return
				}
			}
			t.Errorf("60 seeds of the install torture did not catch %s (%+v)", tc.name, stats)
		})
	}
}
