package cluster

import (
	"fmt"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/clock"
	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
)

// Options is the whole configuration of one run. Swarm draws one from a seed; scenarios
// start from Swarm or Quiet and pin what they test.
type Options struct {
	Seed uint64
	// Record keeps every trace event so the run can be printed (zabsim -v).
	Record bool

	Voters, Observers int

	// zab's zoo.cfg timing.
	TickMillis, InitLimitTicks, SyncLimitTicks int64
	// DiffTxnsMax is zab's longest DIFF; small values force SNAP for laggards.
	DiffTxnsMax int

	// Link is netsim's link. Its loss models a broken connection (the FIFO layer sees a gap
	// and skips it, as a new TCP connection would), so keep it small; ordinary packet loss,
	// which TCP hides by retransmitting, is Retransmit: that fraction of messages arrives
	// RetransmitDelayMax/2..RetransmitDelayMax late, holding back the ones behind it.
	Link                  netsim.Link
	RetransmitProbability float64
	RetransmitDelayMax    time.Duration
	// DiskLatencyMin/Max bound the time from a write to its Sync (uniform).
	DiskLatencyMin, DiskLatencyMax time.Duration
	DiskFaults                     vdisk.Faults
	// SegmentBytesMax sizes log segments (small: rolls and purges happen in short runs).
	SegmentBytesMax int64
	// SnapCount is the mean number of txns a server commits between its snapshots (zab's
	// SnapshotEveryTxns); each server draws its own in [SnapCount/2, SnapCount*3/2), as
	// ZooKeeper randomizes snapCount so servers do not snapshot together.
	SnapCount int
	// Drift gives each server's clock its skew and drift (nil: none).
	Drift []clock.Drift

	// Nemesis is the fault phase; Nemesis.Until is when it ends (heal all, restart all).
	// Zero Interval: no nemesis (then FaultUntil still ends the first phase).
	Nemesis    sim.NemesisOptions
	FaultUntil time.Duration

	// Load: one proposal attempt every LoadIntervalMin..Max while the fault phase lasts,
	// at most LoadTxnsMax txns in all; LivenessTxns more after the heal.
	LoadIntervalMin, LoadIntervalMax time.Duration
	LoadTxnsMax                      int
	LivenessTxns                     int
	// LivenessBoundTicks is how long after the heal, in ticks, a leader may take to be
	// established, and how long each liveness txn may take to commit on every server.
	LivenessBoundTicks int64

	// EventsMax bounds the events of the run (a livelocked world stops, and fails).
	EventsMax int64

	// ZabBugs switches re-introduced ZooKeeper bugs on in every server's zab.Config (the
	// bug zoo, scenarios/bugzoo).
	ZabBugs zab.Bugs
	// Buggify gives every server's zab.Config and host (hostio's slow fsyncs and lagging
	// members) the world's BUGGIFY hook (sim.Buggify, drawn from the seed's "buggify"
	// stream): each of zab.BuggifySites and hostio.BuggifySites active with probability
	// 1/4, an active site firing 1/4 of the times it is asked. The sites are legal, so runs
	// with it must pass every check; the active ones are recorded as the setting "buggify".
	Buggify bool
	// ElectionChecks selects the election invariants checked on the servers' outputs
	// (checker.ElectionChecker) beside the ZAB checker's. Stable is only sound on runs
	// without faults.
	ElectionChecks checker.ElectionChecks

	// Hooks let scenarios act at chosen moments; nil hooks do nothing.
	Hooks Hooks

	// bug breaks the host on purpose, so tests can show the checks catch it.
	bug hostBug
}

// hostBug is a deliberate defect of the host, for the tests that prove the checks bite.
type hostBug uint8

const (
	noBug hostBug = iota
	// bugAckBeforeSync reports a persist durable (and sends its ACKs) as soon as it is
	// written, before the Sync: ZOOKEEPER-3911's shape.
	bugAckBeforeSync
	// bugIgnoreTrunc never cuts the disk's log on TRUNC, so a restart resurrects txns the
	// leader's history does not hold (ZOOKEEPER-2832's shape).
	bugIgnoreTrunc
)

// Hooks are the scenario's handles on a run.
type Hooks struct {
	// Start runs once the servers are booted, before the first event: schedule targeted
	// faults here with c.World().Clock.
	Start func(c *Cluster)
	// Message runs when a server is about to take a peer message; it may crash servers.
	Message func(c *Cluster, to string, m zab.Message)
	// Proposed runs when a server that believes it leads has accepted a proposal of the
	// load as zxid z (it may never commit: the leader may be cut off).
	Proposed func(c *Cluster, name string, z zab.Zxid)
}

// Quiet is a fault-free 3-voter configuration: the base of the benchmark and of targeted
// scenarios.
func Quiet(seed uint64) Options {
	return Options{
		Seed:   seed,
		Voters: 3, TickMillis: 20, InitLimitTicks: 10, SyncLimitTicks: 5,
		Link: netsim.Link{Latency: netsim.Latency{
			Min: 200 * time.Microsecond, Typical: time.Millisecond, Tail: 5 * time.Millisecond, TailProbability: 0.01}},
		DiskLatencyMin: 100 * time.Microsecond, DiskLatencyMax: 2 * time.Millisecond,
		SegmentBytesMax: 16 << 10, SnapCount: 100,
		FaultUntil:      2 * time.Second,
		LoadIntervalMin: time.Millisecond, LoadIntervalMax: 4 * time.Millisecond,
		LoadTxnsMax: 400, LivenessTxns: 20, LivenessBoundTicks: 200,
		EventsMax:      20_000_000,
		ElectionChecks: checker.ElectionChecks{NoVoteCircle: true},
	}
}

// Swarm draws a whole configuration from the seed (swarm testing: every seed its own
// cluster size, network, disk, fault mix and intensity). duration is the fault phase.
func Swarm(seed uint64, duration time.Duration) Options {
	r := sim.Stream(seed, "swarm")
	o := Quiet(seed)
	o.Voters = []int{3, 3, 5, 5, 7}[r.IntN(5)]
	o.Observers = r.IntN(3)
	o.TickMillis = int64(10 + r.IntN(21))
	o.InitLimitTicks = int64(5 + r.IntN(8))
	o.SyncLimitTicks = int64(2 + r.IntN(4))
	if r.IntN(3) == 0 {
		o.DiffTxnsMax = 1 + r.IntN(30)
	}
	typical := time.Duration(200+r.IntN(3000)) * time.Microsecond
	o.Link = netsim.Link{
		Latency: netsim.Latency{Min: typical / 4, Typical: typical,
			Tail: typical + time.Duration(r.IntN(40))*time.Millisecond, TailProbability: float64(r.IntN(5)) / 100},
		LossProbability:      float64(r.IntN(3)) / 100,
		DuplicateProbability: float64(r.IntN(10)) / 100,
	}
	o.RetransmitProbability = float64(r.IntN(15)) / 100
	o.RetransmitDelayMax = 3*typical + time.Duration(r.IntN(20))*time.Millisecond
	o.DiskLatencyMin = time.Duration(50+r.IntN(500)) * time.Microsecond
	o.DiskLatencyMax = o.DiskLatencyMin + time.Duration(r.IntN(10_000))*time.Microsecond
	o.DiskFaults = vdisk.Faults{
		TearProbability:         float64(r.IntN(80)) / 100,
		KeepUnsyncedProbability: float64(r.IntN(60)) / 100,
	}
	o.SegmentBytesMax = int64(1+r.IntN(32)) << 10
	o.SnapCount = 5 + r.IntN(150)
	if r.IntN(4) == 0 {
		n := o.Voters + o.Observers
		o.Drift = make([]clock.Drift, n)
		for i := range o.Drift {
			o.Drift[i] = clock.Drift{Offset: time.Duration(r.IntN(10_000)) * time.Millisecond, DriftPPM: int64(r.IntN(40_001)) - 20_000}
		}
	}
	o.FaultUntil = duration
	hosts := make([]string, o.Voters+o.Observers)
	for i := range hosts {
		hosts[i] = ServerName(i + 1)
	}
	intensity := []time.Duration{20, 60, 150, 400}[r.IntN(4)] * time.Millisecond
	o.Nemesis = sim.NemesisOptions{
		Hosts: hosts, Interval: intensity, DownMax: 1 + r.IntN(o.Voters), Until: duration,
		CrashWeight: r.IntN(5), RestartWeight: 1 + r.IntN(4), PartitionWeight: r.IntN(4),
		CutWeight: r.IntN(4), IsolateWeight: r.IntN(4), HealWeight: 1 + r.IntN(4),
	}
	o.LoadIntervalMin = time.Duration(1+r.IntN(5)) * time.Millisecond
	o.LoadIntervalMax = o.LoadIntervalMin + time.Duration(r.IntN(20))*time.Millisecond
	o.LoadTxnsMax = 100 + r.IntN(400)
	return o
}

// ServerName is the host name of server id: "s1", "s2", ...
func ServerName(id int) string { return fmt.Sprintf("s%d", id) }

func (o *Options) validate() error {
	switch {
	case o.Voters < 1 || o.Observers < 0:
		return fmt.Errorf("cluster: %d voters, %d observers", o.Voters, o.Observers)
	case o.DiskLatencyMin < 0 || o.DiskLatencyMax < o.DiskLatencyMin:
		return fmt.Errorf("cluster: disk latency %v..%v", o.DiskLatencyMin, o.DiskLatencyMax)
	case o.LoadIntervalMin <= 0 || o.LoadIntervalMax < o.LoadIntervalMin:
		return fmt.Errorf("cluster: load interval %v..%v", o.LoadIntervalMin, o.LoadIntervalMax)
	case o.Drift != nil && len(o.Drift) != o.Voters+o.Observers:
		return fmt.Errorf("cluster: %d drifts for %d servers", len(o.Drift), o.Voters+o.Observers)
	case o.RetransmitProbability < 0 || o.RetransmitProbability > 1 || (o.RetransmitProbability > 0 && o.RetransmitDelayMax <= 0):
		return fmt.Errorf("cluster: retransmit probability %v, delay %v", o.RetransmitProbability, o.RetransmitDelayMax)
	case o.SnapCount < 2 || o.LivenessBoundTicks <= 0 || o.EventsMax <= 0:
		return fmt.Errorf("cluster: snapCount %d, livenessBoundTicks %d, eventsMax %d", o.SnapCount, o.LivenessBoundTicks, o.EventsMax)
	}
	return o.Link.Validate()
}

// record writes the settings the world did not already record.
func (o *Options) record(w *sim.World) {
	w.Set("net.retransmit", fmt.Sprintf("p=%.2f delayMax=%v", o.RetransmitProbability, o.RetransmitDelayMax))
	w.Set("servers", fmt.Sprintf("voters=%d observers=%d", o.Voters, o.Observers))
	w.Set("zab", fmt.Sprintf("tick=%dms initLimit=%d syncLimit=%d diffTxnsMax=%d", o.TickMillis, o.InitLimitTicks, o.SyncLimitTicks, o.DiffTxnsMax))
	w.Set("disk.latency", fmt.Sprintf("%v..%v", o.DiskLatencyMin, o.DiskLatencyMax))
	w.Set("disk.faults", fmt.Sprintf("tear=%.2f keepUnsynced=%.2f writeErr=%.3f syncErr=%.3f",
		o.DiskFaults.TearProbability, o.DiskFaults.KeepUnsyncedProbability, o.DiskFaults.WriteErrorProbability, o.DiskFaults.SyncErrorProbability))
	w.Set("storage.segmentBytesMax", o.SegmentBytesMax)
	w.Set("snapCount", o.SnapCount)
	w.Set("faultUntil", o.FaultUntil)
	w.Set("load", fmt.Sprintf("interval=%v..%v txnsMax=%d livenessTxns=%d", o.LoadIntervalMin, o.LoadIntervalMax, o.LoadTxnsMax, o.LivenessTxns))
	w.Set("livenessBound", fmt.Sprintf("%d ticks", o.LivenessBoundTicks))
	if o.ZabBugs.Any() {
		w.Set("zab.bugs", fmt.Sprint(o.ZabBugs.Names()))
	}
}

// buggify returns the world's BUGGIFY hook, which records the active sites, or nil (the
// setting then says "off", so every run's settings say whether it was buggified).
func (o *Options) buggify(w *sim.World) *sim.Buggify {
	if !o.Buggify {
		w.Set("buggify", "off")
		return nil
	}
	return w.NewBuggify(append(zab.BuggifySites(), hostio.BuggifySites()...))
}

// SwarmBuggify draws, from its own stream of the seed, whether a swarm seed runs with
// BUGGIFY: one seed in four, so a sweep tests the rare paths on a quarter of its seeds and
// the common paths, undisturbed, on the rest (FoundationDB buggifies a share of its
// simulation runs the same way).
func SwarmBuggify(seed uint64) bool { return sim.Stream(seed, "swarm/buggify").IntN(4) == 0 }
