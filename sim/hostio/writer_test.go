package hostio

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/storage"
)

// idle is a machine that takes no input: the tests drive the Writer by hand.
type idle struct{}

func (idle) Handle(int64, int) []int     { return nil }
func (idle) NextDeadline() (int64, bool) { return 0, false }

// rig is one member's host, disk, Store and Writer, recording what the Writer tells it.
type rig struct {
	w         *sim.World
	host      *sim.Host[int, int]
	disk      *vdisk.Disk
	store     *storage.Store
	writer    *Writer[string]
	sent      []string
	persisted []uint64
	truncated [][]uint64
	refused   []string
	synced    []int
	boots     int
	recovered storage.Recovered // what the last boot recovered
}

const diskLatency = 2 * time.Millisecond

func newRig(t *testing.T, bugs WriterBugs) *rig { return newBuggifiedRig(t, bugs, nil) }

// newBuggifiedRig is a rig whose Writer asks b at its BUGGIFY sites.
func newBuggifiedRig(t *testing.T, bugs WriterBugs, b zab.Buggify) *rig {
	r := &rig{w: sim.NewWorld(sim.Options{Seed: 1})}
	r.disk = sim.NewDisk(r.w, "s1", vdisk.Faults{})
	r.host = sim.AddHost(r.w, "s1", sim.Program[int, int]{
		Boot: func(h *sim.Host[int, int]) sim.Machine[int, int] {
			r.boots++
			store, rec, err := storage.Recover(r.disk, r.disk, storage.Config{})
			require.NoError(t, err, "boot %d: recovery", r.boots)
			r.store, r.recovered = store, rec
			r.writer = NewWriter(WriterConfig[string]{
				Store: store, Host: h, DiskLatencyMin: diskLatency, DiskLatencyMax: diskLatency,
				RestartAfter: 10 * time.Millisecond,
				Send:         func(m string) { r.sent = append(r.sent, m) },
				Persisted:    func(id uint64) { r.persisted = append(r.persisted, id) },
				Synced:       func(n int) { r.synced = append(r.synced, n) },
				Truncated:    func(zs []uint64) { r.truncated = append(r.truncated, zs) },
				Refused:      func(op string, err error) { r.refused = append(r.refused, fmt.Sprintf("%s: %v", op, err)) },
				Bugs:         bugs,
				Buggify:      b, Tick: testTick,
			})
			return idle{}
		},
		Message: func(string, any) int { return 0 },
		Tick:    func() int { return 0 },
		Execute: func(*sim.Host[int, int], int) {},
	}, sim.HostOptions{Disk: r.disk})
	return r
}

func (r *rig) run(d time.Duration) { r.w.RunUntil(r.w.Now()+d, 1000) }

func zx(epoch, n uint64) zab.Zxid { return zab.Zxid(epoch<<32 | n) }

func appendOf(id uint64, zxids ...zab.Zxid) zab.Persist {
	p := zab.Persist{ID: id}
	for _, z := range zxids {
		p.Entries = append(p.Entries, zab.Txn{Zxid: z, Data: []byte(fmt.Sprint(z))})
	}
	return p
}

// Group commit: writes issued before the Sync ride on it; their held-back messages leave
// in order after it, and the member hears Persisted once, for the last.
func TestWriterGroupCommit(t *testing.T) {
	r := newRig(t, WriterBugs{})
	require.True(t, r.writer.Write(appendOf(1, zx(1, 1)), []string{"ack 1"}))
	require.True(t, r.writer.Write(appendOf(2, zx(1, 2), zx(1, 3)), []string{"ack 2", "ack 3"}))
	require.Empty(t, r.sent, "nothing leaves before the Sync")
	require.Zero(t, r.store.DurableZxid(), "nothing is durable before the Sync")
	r.run(diskLatency)
	require.Equal(t, []string{"ack 1", "ack 2", "ack 3"}, r.sent, "held-back messages leave in write order")
	require.Equal(t, []uint64{2}, r.persisted, "one Persisted, for the last write of the batch")
	require.Equal(t, uint64(zx(1, 3)), r.store.DurableZxid())
	require.Equal(t, []int{2}, r.synced, "one Sync made both writes durable")
}

// A crash before the Sync voids it: the member never hears of a write the disk may lose.
func TestWriterCrashVoidsTheFlush(t *testing.T) {
	r := newRig(t, WriterBugs{})
	r.writer.Write(appendOf(1, zx(1, 1)), []string{"ack 1"})
	r.w.Crash("s1")
	r.run(diskLatency)
	require.Empty(t, r.sent, "no message of an unsynced write leaves after a crash")
	require.Empty(t, r.persisted, "no Persisted after a crash")
}

// An injected I/O error is fatal: the member is crashed, never retried, and restarted.
func TestWriterIOErrorCrashesTheMember(t *testing.T) {
	r := newRig(t, WriterBugs{})
	r.writer.Write(appendOf(1, zx(1, 1)), []string{"ack 1"})
	r.disk.SetFaults(vdisk.Faults{SyncErrorProbability: 1})
	r.run(diskLatency)
	require.False(t, r.w.IsUp("s1"), "a failed Sync crashes the member")
	require.Empty(t, r.sent)
	require.Empty(t, r.refused, "an injected error is not a refusal")
	r.disk.SetFaults(vdisk.Faults{})
	r.run(20 * time.Millisecond)
	require.True(t, r.w.IsUp("s1"), "the member restarts")
	require.Equal(t, 2, r.boots)
}

// A TRUNC reports the logged txns it cuts; the IgnoreTrunc host bug keeps them on disk.
func TestWriterTruncReportsTheCut(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		r := newRig(t, WriterBugs{IgnoreTrunc: ignore})
		r.writer.Write(appendOf(1, zx(1, 1), zx(1, 2), zx(1, 3)), nil)
		r.run(diskLatency)
		r.writer.Write(zab.Persist{ID: 2, Truncate: true, TruncateAfter: zx(1, 1)}, nil)
		require.Equal(t, [][]uint64{{uint64(zx(1, 2)), uint64(zx(1, 3))}}, r.truncated, "ignore=%v", ignore)
		want := uint64(zx(1, 1))
		if ignore {
			want = uint64(zx(1, 3))
		}
		require.Equal(t, want, r.store.LastZxid(), "ignore=%v: the log after TRUNC(1.1)", ignore)
	}
}

// A SNAP persists through Store.PersistSnapshot: the logged txns above it stay, and one
// below the member's newest snapshot is already durable (nothing refused).
func TestWriterSnapshotKeepsTheTxnsAbove(t *testing.T) {
	r := newRig(t, WriterBugs{})
	r.writer.Write(appendOf(1, zx(1, 1), zx(1, 2), zx(1, 3)), nil)
	r.run(diskLatency)
	require.True(t, r.writer.SaveSnapshot(zx(1, 2), []byte("state at 1.2")))
	require.True(t, r.writer.Write(zab.Persist{ID: 2, Snapshot: &zab.Snapshot{Zxid: zx(1, 1), Data: []byte("state at 1.1")}}, nil))
	require.True(t, r.writer.Write(zab.Persist{ID: 3, Snapshot: &zab.Snapshot{Zxid: zx(1, 3), Data: []byte("state at 1.3")}}, nil))
	require.Empty(t, r.refused)
	require.Equal(t, uint64(zx(1, 3)), r.store.SnapshotZxid())
	r.run(diskLatency)
	require.Equal(t, []uint64{1, 3}, r.persisted, "the append, then the batch of both snapshots")
}

// The AckBeforeSync host bug sends and reports a write before it is durable.
func TestWriterAckBeforeSyncBug(t *testing.T) {
	r := newRig(t, WriterBugs{AckBeforeSync: true})
	r.writer.Write(appendOf(1, zx(1, 1)), []string{"ack 1"})
	require.Equal(t, []string{"ack 1"}, r.sent, "the bug sends at once")
	r.run(0)
	require.Equal(t, []uint64{1}, r.persisted, "and reports Persisted before the Sync")
	require.Zero(t, r.store.DurableZxid())
}

// What the Writer made durable is what the next boot hands the member.
func TestDurableWritesAreRecovered(t *testing.T) {
	r := newRig(t, WriterBugs{})
	p := appendOf(1, zx(2, 1), zx(2, 2))
	p.SetAcceptedEpoch, p.AcceptedEpoch = true, 2
	r.writer.Write(p, nil)
	r.run(diskLatency)
	r.writer.Write(zab.Persist{ID: 2, SetCurrentEpoch: true, CurrentEpoch: 2}, nil)
	r.writer.Write(appendOf(3, zx(2, 3)), nil) // not synced: the crash may keep or lose it
	r.w.Crash("s1")
	r.w.Restart("s1")
	got := ZabRecovered(r.recovered)
	require.Equal(t, zab.Epoch(2), got.AcceptedEpoch)
	require.Equal(t, zab.Epoch(2), got.CurrentEpoch, "an epoch write is durable when it returns")
	require.GreaterOrEqual(t, len(got.Log), 2, "the synced txns survive the crash: %v", got.Log)
	require.Equal(t, zab.Txn{Zxid: zx(2, 1), Data: []byte(fmt.Sprint(zx(2, 1)))}, got.Log[0])
	require.Equal(t, zx(2, 2), got.Log[1].Zxid)
	require.Contains(t, BootNote(r.boots, r.recovered), "boot 2: acceptedEpoch=2 currentEpoch=2")
}

// always fires the sites it lists, and counts the asks.
type always struct {
	sites []string
	asked map[string]int
}

func (a *always) Fire(site string) bool {
	if a.asked == nil {
		a.asked = map[string]int{}
	}
	a.asked[site]++
	return slices.Contains(a.sites, site)
}

const testTick = 20 * time.Millisecond

// BUGGIFY's slow fsync holds a group Sync half a tick to two ticks past the disk's latency:
// nothing leaves and nothing is durable until it is done, then the batch completes as usual.
func TestWriterSlowFsync(t *testing.T) {
	b := &always{sites: []string{BuggifySlowFsync}}
	r := newBuggifiedRig(t, WriterBugs{}, b)
	require.True(t, r.writer.Write(appendOf(1, zx(1, 1)), []string{"ack 1"}))
	r.run(diskLatency + testTick/2 - time.Microsecond)
	require.Empty(t, r.sent, "a slow fsync lets nothing leave before %v", diskLatency+testTick/2)
	require.Empty(t, r.persisted)
	r.run(testTick*3/2 + time.Microsecond)
	require.Equal(t, []string{"ack 1"}, r.sent, "the slow fsync completes within %v", diskLatency+2*testTick)
	require.Equal(t, []uint64{1}, r.persisted)
	require.Equal(t, uint64(zx(1, 1)), r.store.DurableZxid())
	require.Equal(t, 1, b.asked[BuggifySlowFsync], "the site is asked once per group Sync")

	plain := newRig(t, WriterBugs{})
	plain.writer.Write(appendOf(1, zx(1, 1)), []string{"ack 1"})
	plain.run(diskLatency)
	require.Equal(t, []string{"ack 1"}, plain.sent, "without BUGGIFY the Sync takes the disk's latency")
}

// BUGGIFY's lagging member: a lag between a tenth and half a tick for the life, zero when
// the site does not fire or there is no hook.
func TestMemberLag(t *testing.T) {
	tick := 20 * time.Millisecond
	rng := sim.Stream(1, "lag")
	for range 100 {
		lag := MemberLag(&always{sites: []string{BuggifyLaggingMember}}, rng, tick)
		require.GreaterOrEqual(t, lag, tick/10)
		require.LessOrEqual(t, lag, tick/2)
	}
	require.Zero(t, MemberLag(&always{}, rng, tick), "the site did not fire")
	require.Zero(t, MemberLag(nil, rng, tick), "no hook")
}
