package vdisk

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/storage"
)

func newDisk(seed uint64) *Disk { return New(rand.New(rand.NewPCG(seed, 0x7d15c))) }

func write(t *testing.T, f storage.File, s string) {
	t.Helper()
	n, err := f.Write([]byte(s))
	require.NoError(t, err)
	require.Equal(t, len(s), n)
}

func content(t *testing.T, d *Disk, name string) string {
	t.Helper()
	b, err := d.ReadFile(name)
	require.NoError(t, err, "ReadFile(%s)", name)
	return string(b)
}

func names(t *testing.T, d *Disk) []string {
	t.Helper()
	n, err := d.List()
	require.NoError(t, err)
	return n
}

func TestDurabilityRules(t *testing.T) {
	t.Run("synced bytes survive, unsynced bytes are lost", func(t *testing.T) {
		d := newDisk(1)
		f, _ := d.Create("f")
		require.NoError(t, d.SyncDir())
		write(t, f, "synced")
		require.NoError(t, f.Sync())
		write(t, f, " unsynced")
		assert.Equal(t, "synced unsynced", content(t, d, "f"), "the running node reads its own writes")
		d.Crash()
		assert.Equal(t, "synced", content(t, d, "f"))
		assert.Equal(t, int64(len(" unsynced")), d.Stats().BytesLost)
	})
	t.Run("a created file is lost without SyncDir even when synced", func(t *testing.T) {
		d := newDisk(1)
		f, _ := d.Create("f")
		write(t, f, "data")
		require.NoError(t, f.Sync())
		d.Crash()
		assert.Empty(t, names(t, d))
		_, err := d.ReadFile("f")
		assert.ErrorIs(t, err, storage.ErrNotExist)
	})
	t.Run("a rename is undone without SyncDir", func(t *testing.T) {
		d := newDisk(1)
		f, _ := d.Create("tmp")
		write(t, f, "new")
		require.NoError(t, f.Sync())
		require.NoError(t, d.SyncDir())
		require.NoError(t, d.Rename("tmp", "final"))
		assert.Equal(t, []string{"final"}, names(t, d))
		d.Crash()
		assert.Equal(t, []string{"tmp"}, names(t, d), "the rename was never made durable")
		assert.Equal(t, "new", content(t, d, "tmp"))
	})
	t.Run("a rename over an existing file is durable after SyncDir", func(t *testing.T) {
		d := newDisk(1)
		old, _ := d.Create("final")
		write(t, old, "old")
		require.NoError(t, old.Sync())
		f, _ := d.Create("tmp")
		write(t, f, "new")
		require.NoError(t, f.Sync())
		require.NoError(t, d.Rename("tmp", "final"))
		require.NoError(t, d.SyncDir())
		d.Crash()
		assert.Equal(t, []string{"final"}, names(t, d))
		assert.Equal(t, "new", content(t, d, "final"))
	})
	t.Run("a remove is undone without SyncDir", func(t *testing.T) {
		d := newDisk(1)
		f, _ := d.Create("f")
		write(t, f, "data")
		require.NoError(t, f.Sync())
		require.NoError(t, d.SyncDir())
		require.NoError(t, d.Remove("f"))
		d.Crash()
		assert.Equal(t, "data", content(t, d, "f"))
	})
	t.Run("a truncation is durable only after Sync", func(t *testing.T) {
		d := newDisk(1)
		f, _ := d.Create("f")
		require.NoError(t, d.SyncDir())
		write(t, f, "0123456789")
		require.NoError(t, f.Sync())
		require.NoError(t, f.Truncate(4))
		write(t, f, "abc")
		assert.Equal(t, "0123abc", content(t, d, "f"))
		d.Crash()
		assert.Equal(t, "0123456789", content(t, d, "f"), "the unsynced cut and the write after it are both lost")

		f, _ = d.OpenAppend("f")
		require.NoError(t, f.Truncate(4))
		require.NoError(t, f.Sync())
		d.Crash()
		assert.Equal(t, "0123", content(t, d, "f"))
	})
	t.Run("handles die at a crash", func(t *testing.T) {
		d := newDisk(1)
		f, _ := d.Create("f")
		require.NoError(t, d.SyncDir())
		d.Crash()
		_, err := f.Write([]byte("x"))
		assert.ErrorIs(t, err, ErrCrashed)
		assert.ErrorIs(t, f.Sync(), ErrCrashed)
		assert.ErrorIs(t, f.Truncate(0), ErrCrashed)
		assert.Equal(t, "", content(t, d, "f"), "nothing written through a dead handle")
	})
	t.Run("a closed handle refuses writes", func(t *testing.T) {
		d := newDisk(1)
		f, _ := d.Create("f")
		require.NoError(t, f.Close())
		_, err := f.Write([]byte("x"))
		assert.ErrorIs(t, err, ErrClosed)
	})
	t.Run("missing files", func(t *testing.T) {
		d := newDisk(1)
		_, err := d.OpenAppend("nope")
		assert.ErrorIs(t, err, storage.ErrNotExist)
		assert.ErrorIs(t, d.Rename("nope", "x"), storage.ErrNotExist)
		assert.ErrorIs(t, d.Remove("nope"), storage.ErrNotExist)
	})
}

func TestTearKeepsEveryUnsyncedWriteButAPrefixOfTheLast(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		d := newDisk(seed)
		d.SetFaults(Faults{TearProbability: 1})
		f, _ := d.Create("f")
		require.NoError(t, d.SyncDir())
		write(t, f, "synced|")
		require.NoError(t, f.Sync())
		write(t, f, "first|")
		write(t, f, "second-write")
		d.Crash()
		got := content(t, d, "f")
		require.Greater(t, len(got), len("synced|first|")-1, "seed %d: %q", seed, got)
		assert.Less(t, len(got), len("synced|first|second-write"), "seed %d: the last write is torn, never whole", seed)
		assert.Equal(t, "synced|first|second-write"[:len(got)], got, "seed %d: a tear keeps a prefix", seed)
		assert.Equal(t, int64(1), d.Stats().Tears)
	}
}

func TestKeepUnsyncedKeepsAPrefixOfTheUnsyncedOperations(t *testing.T) {
	lengths := map[int]bool{}
	for seed := uint64(0); seed < 200; seed++ {
		d := newDisk(seed)
		d.SetFaults(Faults{KeepUnsyncedProbability: 1})
		f, _ := d.Create("f")
		require.NoError(t, d.SyncDir())
		write(t, f, "synced|")
		require.NoError(t, f.Sync())
		write(t, f, "aaaa|")
		write(t, f, "bbbb|")
		write(t, f, "cccc")
		d.Crash()
		got := content(t, d, "f")
		require.True(t, len(got) >= len("synced|"), "seed %d: synced bytes always survive, got %q", seed, got)
		assert.Equal(t, "synced|aaaa|bbbb|cccc"[:len(got)], got, "seed %d: only a prefix survives", seed)
		assert.Equal(t, int64(len("aaaa|bbbb|cccc")-(len(got)-len("synced|"))), d.Stats().BytesLost, "seed %d", seed)
		lengths[len(got)] = true
	}
	assert.Greater(t, len(lengths), 10, "the kept prefix length varies over seeds: %v", lengths)
}

func TestKeepUnsyncedKeepsAPrefixOfTheDirectoryOperations(t *testing.T) {
	outcomes := map[string]bool{}
	for seed := uint64(0); seed < 100; seed++ {
		d := newDisk(seed)
		d.SetFaults(Faults{KeepUnsyncedProbability: 1})
		for _, n := range []string{"a", "b", "c"} {
			f, _ := d.Create(n)
			write(t, f, n)
			require.NoError(t, f.Sync())
		}
		d.Crash()
		got := fmt.Sprint(names(t, d))
		require.Contains(t, []string{"[]", "[a]", "[a b]", "[a b c]"}, got, "seed %d: directory operations survive in order", seed)
		outcomes[got] = true
	}
	assert.Len(t, outcomes, 4, "every prefix happens over 100 seeds")
}

func TestCorruptFlipsOneBitOfSyncedContent(t *testing.T) {
	d := newDisk(3)
	f, _ := d.Create("f")
	require.NoError(t, d.SyncDir())
	orig := make([]byte, 3000)
	_, _ = f.Write(orig)
	require.NoError(t, f.Sync())
	write(t, f, "unsynced")
	c, ok := d.CorruptRandomBlock()
	require.True(t, ok)
	assert.Equal(t, "f", c.File)
	assert.Less(t, c.OffsetBytes, int64(3000), "only synced bytes are corrupted")
	got := []byte(content(t, d, "f"))
	diff := 0
	for i := range orig {
		if got[i] != orig[i] {
			diff++
			assert.Equal(t, byte(1)<<c.Bit, got[i]^orig[i], "one bit at offset %d", i)
			assert.Equal(t, c.OffsetBytes, int64(i))
		}
	}
	assert.Equal(t, 1, diff)
	d.Crash()
	assert.Equal(t, got[:3000], []byte(content(t, d, "f")), "the flip is on disk")
	assert.Equal(t, int64(1), d.Stats().Corruptions)

	empty := newDisk(3)
	_, ok = empty.CorruptRandomBlock()
	assert.False(t, ok, "nothing synced, nothing to corrupt")
}

func TestInjectedIOErrors(t *testing.T) {
	d := newDisk(4)
	d.SetFaults(Faults{WriteErrorProbability: 1, SyncErrorProbability: 1})
	f, _ := d.Create("f")
	_, err := f.Write([]byte("x"))
	assert.ErrorIs(t, err, ErrIO)
	assert.Equal(t, "", content(t, d, "f"), "a failed write writes nothing")
	d.SetFaults(Faults{SyncErrorProbability: 1})
	write(t, f, "x")
	assert.ErrorIs(t, f.Sync(), ErrIO)
	require.NoError(t, d.SyncDir())
	d.Crash()
	assert.Equal(t, "", content(t, d, "f"), "a failed sync made nothing durable")
	s := d.Stats()
	assert.Equal(t, int64(1), s.WriteErrors)
	assert.Equal(t, int64(1), s.SyncErrors)
}

// workload runs the same random sequence of disk operations and faults; it returns the
// event trace and the final content, the things determinism must reproduce.
func workload(seed uint64) ([]string, map[string]string) {
	d := newDisk(seed)
	d.SetFaults(Faults{TearProbability: 0.3, KeepUnsyncedProbability: 0.3})
	var trace []string
	d.SetObserver(func(e Event) { trace = append(trace, e.String()) })
	ops := rand.New(rand.NewPCG(seed, 99))
	files := map[string]storage.File{}
	for i := range 300 {
		name := fmt.Sprintf("f%d", ops.IntN(4))
		switch ops.IntN(8) {
		case 0:
			files[name], _ = d.Create(name)
		case 1, 2, 3:
			if f := files[name]; f != nil {
				_, _ = f.Write(fmt.Appendf(nil, "w%d;", i))
			}
		case 4:
			if f := files[name]; f != nil {
				_ = f.Sync()
			}
		case 5:
			_ = d.SyncDir()
		case 6:
			if ops.IntN(4) == 0 {
				d.Crash()
				files = map[string]storage.File{}
			} else {
				d.CorruptRandomBlock()
			}
		case 7:
			_ = d.Rename(name, fmt.Sprintf("f%d", ops.IntN(4)))
		}
	}
	final := map[string]string{}
	ns, _ := d.List()
	for _, n := range ns {
		b, _ := d.ReadFile(n)
		final[n] = string(b)
	}
	return trace, final
}

func TestSameSeedSameDiskHistory(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		t1, f1 := workload(seed)
		t2, f2 := workload(seed)
		require.Equal(t, t1, t2, "seed %d: event traces differ between two runs", seed)
		require.Equal(t, f1, f2, "seed %d: final contents differ", seed)
	}
	t1, _ := workload(1)
	t2, _ := workload(2)
	assert.NotEqual(t, t1, t2, "different seeds give different histories")
}

func TestObserverSeesEveryEvent(t *testing.T) {
	d := newDisk(5)
	d.SetFaults(Faults{TearProbability: 1})
	var got []string
	d.SetObserver(func(e Event) { got = append(got, e.String()) })
	f, _ := d.Create("tmp")
	write(t, f, "hello")
	require.NoError(t, f.Sync())
	require.NoError(t, f.Truncate(2))
	require.NoError(t, f.Sync())
	require.NoError(t, d.Rename("tmp", "f"))
	require.NoError(t, d.SyncDir())
	write(t, f, "xyz")
	d.CorruptFileBlock("f")
	require.NoError(t, d.Remove("f"))
	d.Crash()
	assert.Equal(t, []string{
		"disk create tmp",
		"disk write tmp bytes=5",
		"disk sync tmp bytes=5",
		"disk truncate tmp bytes=2",
		"disk sync tmp bytes=0",
		"disk rename tmp -> f",
		"disk syncdir",
		"disk write tmp bytes=3",
		"disk corrupt f offset=0", // the only synced block holds 2 bytes; seed 5 picks the first
		"disk remove f",
		"disk tear f bytes=1",
		"disk crash lost=2",
	}, got)
}
