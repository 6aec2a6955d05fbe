package osfs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/storage"
)

// crashDirEnv tells the test binary, re-run as a child, to act as the crashing writer.
const crashDirEnv = "ZABKIT_OSFS_CRASH_DIR"

var crashConfig = storage.Config{Log: storage.LogConfig{SegmentBytesMax: 32 << 10}}

// TestCrashChild is the child half of TestKillNineKeepsSyncedRecords; run by itself it skips.
// It recovers the store in the directory, then appends batches of txns and syncs each
// batch, printing the highest synced zxid after every Sync returned. It runs until killed
// (or for at most 20 s, so a parent that died cannot leave it running forever).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestKillNineKeepsSyncedRecords")
	}
	fsys, err := Open(dir, WithPreallocation(64<<10))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	store, rec, err := storage.Recover(fsys, fsys, crashConfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	epoch := uint64(rec.CurrentEpoch) + 1
	if err := store.SetAcceptedEpoch(uint32(epoch)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := store.SetCurrentEpoch(uint32(epoch)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rng := rand.New(rand.NewPCG(uint64(os.Getpid()), epoch))
	deadline := time.Now().Add(20 * time.Second)
	var counter uint64
	for time.Now().Before(deadline) {
		batch := make([]storage.Entry, 1+rng.IntN(20))
		for i := range batch {
			counter++
			batch[i] = storage.Entry{Zxid: epoch<<32 | counter, Data: payload(counter)}
		}
		if err := store.Append(batch); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		durable, err := store.Sync()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("%d\n", durable) // os.Stdout is unbuffered: one write(2) per line
	}
	os.Exit(0)
}

// TestKillNineKeepsSyncedRecords runs a child process that appends and syncs through
// storage on osfs and kills it with SIGKILL at a random moment, several times over the
// same directory. After each kill, recovery must hold every zxid the child reported synced,
// with its bytes intact, and the next child continues from there.
func TestKillNineKeepsSyncedRecords(t *testing.T) {
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
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	var syncedMax []uint64 // per round, the highest zxid the child reported synced
	for round := range rounds {
		killAfter := time.Duration(20+rng.IntN(180)) * time.Millisecond
		reported := runAndKill(t, dir, killAfter)
		fsys, err := Open(dir)
		require.NoError(t, err)
		store, rec, err := storage.Recover(fsys, fsys, crashConfig)
		require.NoError(t, err, "round %d: recovery after kill -9 failed (reproduce: ZABKIT_SEED=%d)", round, seed)
		got := make(map[uint64][]byte, len(rec.Entries))
		for _, e := range rec.Entries {
			got[e.Zxid] = e.Data
		}
		// Every round runs in a new epoch and numbers its txns 1, 2, ... within it, so the
		// highest zxid a round reported synced names all the txns that must have survived.
		syncedMax = append(syncedMax, slices.Max(reported))
		for _, last := range syncedMax {
			for c := uint64(1); c <= last&0xffffffff; c++ {
				z := last&^0xffffffff | c
				data, ok := got[z]
				require.True(t, ok, "round %d: zxid %#x was reported synced before a kill but is missing after recovery (reproduce: ZABKIT_SEED=%d)", round, z, seed)
				require.Equal(t, payload(c), data, "round %d: zxid %#x recovered with wrong bytes (reproduce: ZABKIT_SEED=%d)", round, z, seed)
			}
		}
		require.NoError(t, store.Close())
		t.Logf("round %d: killed after %v, %d sync reports, %d txns recovered, repairs: %s", round, killAfter, len(reported), len(rec.Entries), rec.Report)
	}
}

// runAndKill starts the child on dir, kills it with SIGKILL after killAfter (counted from
// its first report, so a slow start still writes something), and returns the zxids it
// reported in complete lines.
func runAndKill(t *testing.T, dir string, killAfter time.Duration) []uint64 {
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

	lines := make(chan uint64, 1024)
	readDone := make(chan error, 1)
	go func() {
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil { // a line cut by the kill has no newline: it was not reported
				close(lines)
				if err == io.EOF {
					err = nil
				}
				readDone <- err
				return
			}
			z, perr := strconv.ParseUint(strings.TrimSpace(line), 10, 64)
			if perr != nil {
				close(lines)
				readDone <- fmt.Errorf("child printed %q: %w", line, perr)
				return
			}
			lines <- z
		}
	}()

	var reported []uint64
	var timer <-chan time.Time
	for lines != nil {
		select {
		case z, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			reported = append(reported, z)
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
	require.NoError(t, <-readDone)
	err = cmd.Wait()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "the child must die by SIGKILL; stderr: %s", stderr.String())
	status, ok := exitErr.Sys().(syscall.WaitStatus)
	require.True(t, ok && status.Signaled() && status.Signal() == syscall.SIGKILL,
		"child exited with %v instead of being killed; stderr: %s", err, stderr.String())
	require.NotEmpty(t, reported, "the child reported no synced zxid before the kill")
	return reported
}
