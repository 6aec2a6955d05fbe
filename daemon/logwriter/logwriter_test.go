package logwriter

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/osfs"
	"github.com/zabkit/zabkit/zab/storage"
)

// hookFS is an osfs directory whose file syncs call a hook first, so tests can hold an
// fsync (to let a group build up) or fail it.
type hookFS struct {
	storage.FS
	syncs  atomic.Int64
	onSync func(n int64) error // n counts file syncs from 1
}

type hookFile struct {
	storage.File
	fs *hookFS
}

func (h *hookFS) Create(name string) (storage.File, error) {
	f, err := h.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return hookFile{f, h}, nil
}

func (h *hookFS) OpenAppend(name string) (storage.File, error) {
	f, err := h.FS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return hookFile{f, h}, nil
}

func (f hookFile) Sync() error {
	n := f.fs.syncs.Add(1)
	if f.fs.onSync != nil {
		if err := f.fs.onSync(n); err != nil {
			return err
		}
	}
	return f.File.Sync()
}

func newStore(t testing.TB, dir string, fsys storage.FS) *storage.Store {
	t.Helper()
	if fsys == nil {
		var err error
		fsys, err = osfs.Open(dir)
		require.NoError(t, err)
	}
	store, _, err := storage.Recover(fsys, fsys, storage.Config{})
	require.NoError(t, err)
	return store
}

func recoverDir(t *testing.T, dir string) storage.Recovered {
	t.Helper()
	fsys, err := osfs.Open(dir)
	require.NoError(t, err)
	store, rec, err := storage.Recover(fsys, fsys, storage.Config{})
	require.NoError(t, err)
	require.NoError(t, store.Close())
	return rec
}

func entry(i int) storage.Entry {
	return storage.Entry{Zxid: 1<<32 | uint64(i), Data: fmt.Appendf(nil, "txn %d", i)}
}

// waitDurable reads Durable until it reports want, failing after a timeout.
func waitDurable(t *testing.T, w *Writer, want uint64) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var last uint64
	for last < want {
		select {
		case id := <-w.Durable():
			require.Greater(t, id, last, "durable ids must only grow")
			last = id
		case <-w.Failed():
			t.Fatalf("writer failed while waiting for id %d: %v", want, w.Err())
		case <-timeout:
			t.Fatalf("id %d not durable after 10 s (last reported %d)", want, last)
		}
	}
	require.Equal(t, want, last, "durable id overshot")
}

func TestBatchesBecomeDurableInOrder(t *testing.T) {
	dir := t.TempDir()
	store := newStore(t, dir, nil)
	w := New(store, Config{})
	var want []storage.Entry
	for id := 1; id <= 100; id++ {
		b := Batch{ID: uint64(id)}
		for k := range id % 4 { // some batches carry no entries
			e := entry(len(want) + 1 + k)
			b.Entries = append(b.Entries, e)
		}
		want = append(want, b.Entries...)
		require.NoError(t, w.Submit(b))
	}
	waitDurable(t, w, 100)
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
	assert.Equal(t, want, recoverDir(t, dir).Entries)
}

// TestOneFsyncCoversEverythingQueued holds the first fsync until 499 more batches are
// queued: they must all be made durable by a single second fsync.
func TestOneFsyncCoversEverythingQueued(t *testing.T) {
	dir := t.TempDir()
	fsys, release := holdFirstSync(t, dir)
	store := newStore(t, dir, fsys)
	w := New(store, Config{})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1)}}))
	// Wait until the writer is inside the first fsync, then queue the rest behind it.
	require.Eventually(t, func() bool { return fsys.syncs.Load() == 1 }, 10*time.Second, time.Millisecond)
	for id := 2; id <= 500; id++ {
		require.NoError(t, w.Submit(Batch{ID: uint64(id), Entries: []storage.Entry{entry(id)}}))
	}
	close(release)
	waitDurable(t, w, 500)
	assert.Equal(t, uint64(2), w.Syncs(), "batch 1 alone, then batches 2..500 in one group")
	assert.Equal(t, int64(2), fsys.syncs.Load(), "file fsyncs")
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
	assert.Len(t, recoverDir(t, dir).Entries, 500)
}

func TestGroupSizeIsBounded(t *testing.T) {
	dir := t.TempDir()
	fsys, release := holdFirstSync(t, dir)
	store := newStore(t, dir, fsys)
	w := New(store, Config{GroupBatchesMax: 10})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1)}}))
	require.Eventually(t, func() bool { return fsys.syncs.Load() == 1 }, 10*time.Second, time.Millisecond)
	for id := 2; id <= 41; id++ {
		require.NoError(t, w.Submit(Batch{ID: uint64(id), Entries: []storage.Entry{entry(id)}}))
	}
	close(release)
	waitDurable(t, w, 41)
	assert.Equal(t, uint64(5), w.Syncs(), "1 + 40 batches in groups of at most 10")
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
}

// TestSubmitBlocksWhenTheQueueIsFull: back-pressure, not unbounded memory.
func TestSubmitBlocksWhenTheQueueIsFull(t *testing.T) {
	dir := t.TempDir()
	fsys, release := holdFirstSync(t, dir)
	store := newStore(t, dir, fsys)
	w := New(store, Config{QueueBatchesMax: 3})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1)}}))
	require.Eventually(t, func() bool { return fsys.syncs.Load() == 1 }, 10*time.Second, time.Millisecond)
	for id := 2; id <= 4; id++ { // fills the queue of 3
		require.NoError(t, w.Submit(Batch{ID: uint64(id), Entries: []storage.Entry{entry(id)}}))
	}
	submitted := make(chan error, 1)
	go func() { submitted <- w.Submit(Batch{ID: 5, Entries: []storage.Entry{entry(5)}}) }()
	select {
	case err := <-submitted:
		t.Fatalf("Submit into a full queue returned (%v) instead of blocking", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-submitted:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Submit still blocked 10 s after the queue drained")
	}
	waitDurable(t, w, 5)
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
}

// TestFailedFsyncIsFatal: the error comes back, nothing after it is reported durable, and
// the fsync is never retried (fsyncgate: a retried fsync can succeed over lost pages).
func TestFailedFsyncIsFatal(t *testing.T) {
	dir := t.TempDir()
	base, err := osfs.Open(dir)
	require.NoError(t, err)
	errIO := errors.New("injected EIO")
	fsys := &hookFS{FS: base}
	fsys.onSync = func(n int64) error {
		if n == 2 {
			return errIO
		}
		return nil
	}
	store := newStore(t, dir, fsys)
	w := New(store, Config{})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1)}}))
	waitDurable(t, w, 1)
	require.NoError(t, w.Submit(Batch{ID: 2, Entries: []storage.Entry{entry(2)}}))
	select {
	case <-w.Failed():
	case id := <-w.Durable():
		t.Fatalf("id %d reported durable although its fsync failed", id)
	case <-time.After(10 * time.Second):
		t.Fatal("writer did not fail within 10 s")
	}
	assert.ErrorIs(t, w.Err(), errIO)
	assert.ErrorIs(t, w.Err(), storage.ErrLogFailed)
	err = w.Submit(Batch{ID: 3, Entries: []storage.Entry{entry(3)}})
	assert.ErrorIs(t, err, errIO, "Submit after a failure must return the failure")
	assert.ErrorIs(t, w.Close(), errIO, "Close returns the failure")
	assert.Equal(t, int64(2), fsys.syncs.Load(), "the failed fsync must not be retried")
	select {
	case id := <-w.Durable():
		t.Fatalf("id %d reported durable after the failure", id)
	default:
	}
	require.NoError(t, store.Close())
}

// TestPersistStepsKeepZabOrder runs snapshot install, truncation, appends and epochs
// through the writer and checks what a restart finds.
func TestPersistStepsKeepZabOrder(t *testing.T) {
	dir := t.TempDir()
	store := newStore(t, dir, nil)
	w := New(store, Config{})
	batches := []Batch{
		{ID: 1, SetAcceptedEpoch: true, AcceptedEpoch: 1},
		{ID: 2, Entries: []storage.Entry{entry(1), entry(2), entry(3)}, SetCurrentEpoch: true, CurrentEpoch: 1},
		{ID: 3, Truncate: true, TruncateAfter: entry(1).Zxid, Entries: []storage.Entry{{Zxid: 2<<32 | 1, Data: []byte("new")}}},
		{ID: 4, SetAcceptedEpoch: true, AcceptedEpoch: 3, SetCurrentEpoch: true, CurrentEpoch: 3},
	}
	for _, b := range batches {
		require.NoError(t, w.Submit(b))
	}
	waitDurable(t, w, 4)
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
	rec := recoverDir(t, dir)
	assert.Equal(t, []storage.Entry{entry(1), {Zxid: 2<<32 | 1, Data: []byte("new")}}, rec.Entries)
	assert.Equal(t, uint32(3), rec.AcceptedEpoch)
	assert.Equal(t, uint32(3), rec.CurrentEpoch)

	// A SNAP install replaces the history.
	store = newStore(t, dir, nil)
	w = New(store, Config{})
	require.NoError(t, w.Submit(Batch{ID: 5, Snapshot: &storage.Snapshot{Zxid: 3<<32 | 7, Data: []byte("leader state")},
		Entries: []storage.Entry{{Zxid: 3<<32 | 8, Data: []byte("after snap")}}}))
	waitDurable(t, w, 5)
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
	rec = recoverDir(t, dir)
	require.True(t, rec.HasSnapshot)
	assert.Equal(t, uint64(3<<32|7), rec.Snapshot.Zxid)
	assert.Equal(t, []storage.Entry{{Zxid: 3<<32 | 8, Data: []byte("after snap")}}, rec.Entries)
}

func TestCloseMakesQueuedBatchesDurable(t *testing.T) {
	dir := t.TempDir()
	store := newStore(t, dir, nil)
	w := New(store, Config{})
	for id := 1; id <= 300; id++ {
		require.NoError(t, w.Submit(Batch{ID: uint64(id), Entries: []storage.Entry{entry(id)}}))
	}
	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Submit(Batch{ID: 301}), ErrClosed)
	require.NoError(t, store.Close())
	assert.Len(t, recoverDir(t, dir).Entries, 300, "Close must sync every batch submitted before it")
}

func TestSubmitRefusesIDsThatDoNotIncrease(t *testing.T) {
	store := newStore(t, t.TempDir(), nil)
	w := New(store, Config{})
	require.NoError(t, w.Submit(Batch{ID: 5}))
	err := w.Submit(Batch{ID: 5})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "batch id 5 not above the last submitted id 5")
	require.NoError(t, w.Close())
	require.NoError(t, store.Close())
}

// TestConcurrentSubmitAndClose: every Submit either lands durably or is refused.
func TestConcurrentSubmitAndClose(t *testing.T) {
	dir := t.TempDir()
	store := newStore(t, dir, nil)
	w := New(store, Config{})
	var mu sync.Mutex
	var accepted int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for id := 1; id <= 2000; id++ {
			mu.Lock()
			err := w.Submit(Batch{ID: uint64(id), Entries: []storage.Entry{entry(id)}})
			if err == nil {
				accepted = id
			}
			mu.Unlock()
			if err != nil {
				assert.ErrorIs(t, err, ErrClosed)
				return
			}
		}
	}()
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, w.Close())
	wg.Wait()
	require.NoError(t, store.Close())
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, recoverDir(t, dir).Entries, accepted, "every accepted batch must be durable after Close")
}

// TestAbandonDropsQueuedBatches: Abandon is a crash, not a Close: batches still queued behind
// an fsync are never written, and nothing after it is reported durable.
func TestAbandonDropsQueuedBatches(t *testing.T) {
	dir := t.TempDir()
	fsys, release := holdFirstSync(t, dir)
	store := newStore(t, dir, fsys)
	w := New(store, Config{})
	require.NoError(t, w.Submit(Batch{ID: 1, Entries: []storage.Entry{entry(1)}}))
	require.Eventually(t, func() bool { return fsys.syncs.Load() == 1 }, 10*time.Second, time.Millisecond,
		"the first batch's fsync must start")
	for id := 2; id <= 50; id++ {
		require.NoError(t, w.Submit(Batch{ID: uint64(id), Entries: []storage.Entry{entry(id)}}))
	}
	abandoned := make(chan struct{})
	go func() { w.Abandon(); close(abandoned) }()
	require.Eventually(t, w.abandoned, 10*time.Second, time.Millisecond, "Abandon must mark the writer")
	close(release)
	select {
	case <-abandoned:
	case <-time.After(10 * time.Second):
		t.Fatal("Abandon did not return 10 s after the fsync it waited for finished")
	}
	assert.ErrorIs(t, w.Submit(Batch{ID: 51}), ErrClosed, "an abandoned writer takes no batch")
	select {
	case id := <-w.Durable():
		assert.LessOrEqual(t, id, uint64(1), "nothing queued behind the held fsync may be reported durable")
	default:
	}
	require.NoError(t, store.Close())
	assert.Len(t, recoverDir(t, dir).Entries, 1, "only the batch being synced when Abandon came is on disk; the 49 queued must be dropped")
}

// holdFirstSync opens dir with a file system whose first fsync waits until release is closed
// (failing after 10 s, so a test that forgets to release fails instead of hanging): a test
// queues work behind a writer that is inside its fsync.
func holdFirstSync(t *testing.T, dir string) (*hookFS, chan struct{}) {
	t.Helper()
	base, err := osfs.Open(dir)
	require.NoError(t, err, "open %s", dir)
	release := make(chan struct{})
	fsys := &hookFS{FS: base}
	fsys.onSync = func(n int64) error {
		if n == 1 {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
				return errors.New("test never released the first sync")
			}
		}
		return nil
	}
	return fsys, release
}
