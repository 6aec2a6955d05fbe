package logwriter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/osfs"
	"github.com/zabkit/zabkit/zab/storage"
)

// crashDirEnv tells the test binary, re-run as a child, to act as the crashing node.
const crashDirEnv = "ZABKIT_LOGWRITER_CRASH_DIR"

var crashConfig = storage.Config{Log: storage.LogConfig{SegmentBytesMax: 64 << 10}}

// crashEntry is the txn of batch id in epoch: the batch id is the zxid's counter.
func crashEntry(epoch, id uint64) storage.Entry {
	return storage.Entry{Zxid: epoch<<32 | id, Data: fmt.Appendf(nil, "epoch %d batch %d", epoch, id)}
}

// crashSnapshotEvery is how many batches the child submits between two SaveSnapshot calls.
const crashSnapshotEvery = 500

// encodeCrashSnapshot is the child's state machine image: the whole history, each txn as
// its zxid, its length and its data.
func encodeCrashSnapshot(hist []storage.Entry) []byte {
	var b []byte
	for _, e := range hist {
		b = binary.LittleEndian.AppendUint64(b, e.Zxid)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

func decodeCrashSnapshot(b []byte) ([]storage.Entry, error) {
	var hist []storage.Entry
	for len(b) > 0 {
		if len(b) < 12 || uint64(len(b)-12) < uint64(binary.LittleEndian.Uint32(b[8:])) {
			return nil, errors.New("crash snapshot: truncated record")
		}
		n := int(binary.LittleEndian.Uint32(b[8:]))
		hist = append(hist, storage.Entry{Zxid: binary.LittleEndian.Uint64(b), Data: b[12 : 12+n]})
		b = b[12+n:]
	}
	return hist, nil
}

// recoveredCrashHistory is the history a recovery holds: its snapshot's, then the log's.
func recoveredCrashHistory(rec storage.Recovered) ([]storage.Entry, error) {
	var hist []storage.Entry
	if rec.HasSnapshot {
		var err error
		if hist, err = decodeCrashSnapshot(rec.Snapshot.Data); err != nil {
			return nil, err
		}
		if len(hist) == 0 || hist[len(hist)-1].Zxid != rec.Snapshot.Zxid {
			return nil, fmt.Errorf("snapshot %s does not end at its own zxid", rec.Snapshot.File)
		}
	}
	return append(hist, rec.Entries...), nil
}

// TestCrashChild is the child half of TestKillNineKeepsReportedBatches; alone it skips. It
// recovers, starts a new epoch, and submits one-txn batches through a Writer as fast as it
// takes them, printing every id the Writer reports durable, and every crashSnapshotEvery
// batches saves a snapshot of the history up to the last durable batch (written on the
// Writer's snapshot goroutine, then adopted and purged behind). It stops after 20 s at most.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestKillNineKeepsReportedBatches")
	}
	die := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// As the daemon does: only the log's segments are preallocated.
	dataFS, err := osfs.Open(dir)
	if err != nil {
		die(err)
	}
	logFS, err := osfs.Open(dir, osfs.WithPreallocation(64<<10))
	if err != nil {
		die(err)
	}
	store, rec, err := storage.Recover(dataFS, logFS, crashConfig)
	if err != nil {
		die(err)
	}
	hist, err := recoveredCrashHistory(rec)
	if err != nil {
		die(err)
	}
	recovered := len(hist)
	epoch := uint64(rec.CurrentEpoch) + 1
	w := New(store, Config{QueueBatchesMax: 256, DataFS: dataFS})
	if err := w.Submit(Batch{ID: 1, SetAcceptedEpoch: true, AcceptedEpoch: uint32(epoch), SetCurrentEpoch: true, CurrentEpoch: uint32(epoch)}); err != nil {
		die(err)
	}
	var lastDurable atomic.Uint64
	go func() {
		for {
			select {
			case id := <-w.Durable():
				lastDurable.Store(id)
				fmt.Printf("%d %d\n", epoch, id)
			case <-w.Failed():
				die(w.Err())
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for id := uint64(2); time.Now().Before(deadline); id++ {
		if err := w.Submit(Batch{ID: id, Entries: []storage.Entry{crashEntry(epoch, id)}}); err != nil {
			die(err)
		}
		hist = append(hist, crashEntry(epoch, id))
		if d := lastDurable.Load(); id%crashSnapshotEvery == 0 && d >= 2 {
			// Batch d's txn is hist[recovered+d-2]: batch 1 holds no txn.
			w.SaveSnapshot(crashEntry(epoch, d).Zxid, encodeCrashSnapshot(hist[:recovered+int(d)-1]))
		}
	}
	os.Exit(0)
}

// TestKillNineKeepsReportedBatches kills a node-like child with SIGKILL at random moments,
// over the same directory several times: every batch the Writer reported durable must be
// recovered, in every epoch so far.
func TestKillNineKeepsReportedBatches(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("child")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ZABKIT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ZABKIT_SEED must be a decimal uint64")
		seed = v
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	rounds := 4
	if testing.Short() {
		rounds = 2
	}
	durable := map[uint64]uint64{} // epoch -> highest batch id reported durable
	for round := range rounds {
		killAfter := time.Duration(20+rng.IntN(150)) * time.Millisecond
		epoch, last := runAndKill(t, dir, killAfter)
		durable[epoch] = last
		fsys, err := osfs.Open(dir)
		require.NoError(t, err)
		store, rec, err := storage.Recover(fsys, fsys, crashConfig)
		require.NoError(t, err, "round %d: recovery failed (reproduce: ZABKIT_SEED=%d)", round, seed)
		require.Equal(t, uint32(epoch), rec.CurrentEpoch, "round %d: the epoch batch 1 set was reported durable", round)
		hist, err := recoveredCrashHistory(rec)
		require.NoError(t, err, "round %d (reproduce: ZABKIT_SEED=%d)", round, seed)
		got := map[uint64]string{}
		for _, e := range hist {
			got[e.Zxid] = string(e.Data)
		}
		for ep, lastID := range durable {
			for id := uint64(2); id <= lastID; id++ {
				want := crashEntry(ep, id)
				data, ok := got[want.Zxid]
				require.True(t, ok, "round %d: batch %d of epoch %d was reported durable but is gone (reproduce: ZABKIT_SEED=%d)", round, id, ep, seed)
				require.Equal(t, string(want.Data), data, "round %d: batch %d of epoch %d has other bytes", round, id, ep)
			}
		}
		require.NoError(t, store.Close())
		require.Len(t, got, len(hist), "round %d: a zxid recovered twice", round)
		names, err := fsys.List()
		require.NoError(t, err)
		snapshots := 0
		for _, n := range names {
			if strings.HasPrefix(n, "snapshot.") {
				snapshots++
			}
		}
		// Adoption keeps the Store's 3; each round may leave one more, written and not yet
		// adopted when the kill came (the next adoption purges it). Without adoption every
		// snapshot stays: about one per crashSnapshotEvery batches.
		require.LessOrEqual(t, snapshots, 3+round+1, "round %d: adoption must purge old snapshots; files %v", round, names)
		t.Logf("round %d: killed after %v at durable batch %d; %d txns recovered (snapshot at %#x, %d logged after it); repairs: %s",
			round, killAfter, last, len(hist), rec.Snapshot.Zxid, len(rec.Entries), rec.Report)
	}
}

// runAndKill runs the child on dir, kills it killAfter after its first durable report and
// returns its epoch and the highest batch id it reported durable in a complete line.
func runAndKill(t *testing.T, dir string, killAfter time.Duration) (epoch, last uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	type report struct{ epoch, id uint64 }
	reports := make(chan report, 1024)
	readErr := make(chan error, 1)
	go func() {
		defer close(reports)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err == io.EOF { // a line cut by the kill has no newline: it was not reported
				readErr <- nil
				return
			}
			if err != nil {
				readErr <- err
				return
			}
			var rep report
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "%d %d", &rep.epoch, &rep.id); err != nil {
				readErr <- fmt.Errorf("child printed %q: %w", line, err)
				return
			}
			reports <- rep
		}
	}()
	var timer <-chan time.Time
	for reports != nil {
		select {
		case rep, ok := <-reports:
			if !ok {
				reports = nil
				break
			}
			require.Greater(t, rep.id, last, "durable ids must grow")
			epoch, last = rep.epoch, rep.id
			if timer == nil {
				timer = time.After(killAfter)
			}
		case <-timer:
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			timer = nil
		case <-ctx.Done():
			t.Fatalf("child did not finish within 30 s; stderr: %s", stderr.String())
		}
	}
	require.NoError(t, <-readErr)
	err = cmd.Wait()
	status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok && status.Signaled() && status.Signal() == syscall.SIGKILL,
		"child ended with %v instead of SIGKILL; stderr: %s", err, stderr.String())
	require.NotZero(t, last, "the child reported nothing durable before the kill")
	return epoch, last
}
