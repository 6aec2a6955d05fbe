package zk

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zabkit/zabkit/clock"

	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

// Options is the whole configuration of one run. Swarm draws one from a seed; Quiet is the
// fault-free base of tests and benchmarks.
type Options struct {
	Seed uint64
	// Kind names the configuration builder ("quiet", "swarm", "harsh"): the replay command
	// rebuilds the same configuration from the seed.
	Kind string
	// Record keeps every trace event, so a failure can write the trace to a file.
	Record bool

	Voters, Observers int
	// TickMillis, InitLimitTicks, SyncLimitTicks are zoo.cfg's timing.
	TickMillis, InitLimitTicks, SyncLimitTicks int64
	// SnapCount is the node's snapCount (it randomizes the real interval itself).
	SnapCount int
	// SegmentBytesMax sizes log segments (small: rolls and purges happen in short runs).
	SegmentBytesMax int64

	// Link is netsim's link between every two endpoints. For both peer links and client
	// connections its loss is a broken connection: the receiver sees a gap in the sequence
	// numbers and gives up on the connection, as TCP does after its retransmissions fail.
	Link netsim.Link
	// DiskLatencyMin/Max bound the time from a write to its Sync (uniform, group commit).
	DiskLatencyMin, DiskLatencyMax time.Duration
	DiskFaults                     vdisk.Faults
	// Drift gives each server's clock its skew and drift (nil: none).
	Drift []clock.Drift

	// Clients is the number of simulated client processes (at most 10: porcupine's limit
	// of concurrent sessions per key, anchors.md §3.3). SessionTimeoutMs is what each asks
	// for; the servers clamp it to [2, 20] ticks.
	Clients          int
	SessionTimeoutMs int32
	// Workload is the op mix and key space of the clients.
	Workload Workload

	// Nemesis is the fault phase (zero Interval: none); FaultUntil ends it in any case:
	// the network heals, links stop losing, every server restarts.
	Nemesis    sim.NemesisOptions
	FaultUntil time.Duration
	// Pauses freezes server processes during the fault phase (zero Interval: none).
	Pauses Pauses
	// LivenessBoundTicks is how long after the heal every request pending on a session
	// whose client is connected to a live server may take to complete, and how long the
	// liveness phase runs new requests for.
	LivenessBoundTicks int64

	// EventsMax bounds the events of the run (a livelocked world stops, and fails).
	EventsMax int64
	// OutDir is where a failing run writes its trace and porcupine's visualization ("":
	// the OS temp dir).
	OutDir string

	// Bugs switches known bugs on in every server (zab/node's bug zoo, zab's included):
	// runs with them must fail the checks.
	Bugs node.Bugs
	// Buggify gives every server the world's BUGGIFY hook (sim.Buggify, drawn from the
	// seed's "buggify" stream): each of node.BuggifySites active with probability 1/4, an
	// active site firing 1/4 of the times it is asked. The sites are legal, so runs with it
	// must pass every check; the active ones are recorded as the setting "buggify".
	Buggify bool
	// ForceSites are BUGGIFY sites (of node.BuggifySites) that fire every time they are
	// asked, in every server: legal rare paths a scenario needs every time.
	ForceSites []string

	// bug breaks the host on purpose, so tests can show the checks bite.
	bug hostBug
	// valueFirst is the first byte of every value the workload writes (zero: 'c'); a test
	// changes it to make a run whose messages differ from another's only in content.
	valueFirst byte
}

func (o *Options) valueTag() byte {
	if o.valueFirst == 0 {
		return 'c'
	}
	return o.valueFirst
}

// hostBug is a deliberate defect of the simulated host (never of the node).
type hostBug uint8

const (
	noBug hostBug = iota
	// bugDropWatchEvents loses every watch notification a server sends: the watch check
	// must report lost events.
	bugDropWatchEvents
	// bugStaleReads answers every getData with the data of the previous setData at its path
	// (the host rewrites the reply): the read checks must catch it.
	bugStaleReads
	// bugDigestSkew reports a wrong tree digest for every txn server s2 applies: the
	// replicas' digest agreement must fail the run.
	bugDigestSkew
	// The client-protocol defects (sim/zk's clients must fail the run with FailProtocol):
	// bugSwapReplies sends each connection's third and fourth reply in swapped order;
	// bugRepeatConnectResponse sends the ConnectResponse twice; bugCutReply cuts each
	// connection's third reply to three bytes; bugCutNotification cuts every watch
	// notification to six bytes; bugCutConnectResponse cuts the ConnectResponse to five bytes;
	// bugOtherSessionOnResume answers a resumed session with another session id.
	bugSwapReplies
	bugRepeatConnectResponse
	bugCutReply
	bugCutNotification
	bugCutConnectResponse
	bugOtherSessionOnResume
	// bugDropEventsAtEnd loses the watch notifications a server sends once the clients
	// stopped making requests (the quiet end): no later reply can reveal them, so only the
	// end-of-run record of the sessions still connected (History.Connected) catches it.
	bugDropEventsAtEnd
	// bugKeepPersistentOnRemoveAny is a client defect: its watch table keeps a persistent
	// watch that removeWatches(Any) removed on the server, so the setWatches2 of its next
	// reconnect registers it again and the server fires events no watch is owed.
	bugKeepPersistentOnRemoveAny
)

func (b hostBug) String() string {
	switch b {
	case bugDropWatchEvents:
		return "host:dropWatchEvents"
	case bugStaleReads:
		return "host:staleReads"
	case bugDigestSkew:
		return "host:digestSkew"
	case bugSwapReplies:
		return "host:swapReplies"
	case bugRepeatConnectResponse:
		return "host:repeatConnectResponse"
	case bugCutReply:
		return "host:cutReply"
	case bugCutNotification:
		return "host:cutNotification"
	case bugCutConnectResponse:
		return "host:cutConnectResponse"
	case bugOtherSessionOnResume:
		return "host:otherSessionOnResume"
	case bugDropEventsAtEnd:
		return "host:dropEventsAtEnd"
	case bugKeepPersistentOnRemoveAny:
		return "host:keepPersistentOnRemoveAny"
	}
	return fmt.Sprintf("host:%d", uint8(b))
}

// Quiet is a fault-free run of three voters and four clients.
func Quiet(seed uint64) Options {
	return Options{
		Seed: seed, Kind: "quiet",
		Voters: 3, TickMillis: 20, InitLimitTicks: 10, SyncLimitTicks: 5,
		SnapCount: 200, SegmentBytesMax: 32 << 10,
		Link: netsim.Link{Latency: netsim.Latency{
			Min: 200 * time.Microsecond, Typical: time.Millisecond, Tail: 5 * time.Millisecond, TailProbability: 0.01}},
		DiskLatencyMin: 100 * time.Microsecond, DiskLatencyMax: 2 * time.Millisecond,
		Clients: 4, SessionTimeoutMs: 300,
		Workload:           DefaultWorkload(),
		FaultUntil:         3 * time.Second,
		LivenessBoundTicks: 300,
		EventsMax:          30_000_000,
	}
}

// Swarm draws a whole configuration from the seed (swarm testing: each seed its own
// ensemble, network, disks, clients, op mix and fault mix). duration is the fault phase.
func Swarm(seed uint64, duration time.Duration) Options {
	r := sim.Stream(seed, "zk-swarm")
	o := Quiet(seed)
	o.Kind = "swarm"
	o.Voters = []int{3, 3, 5}[r.IntN(3)]
	o.Observers = []int{0, 0, 1}[r.IntN(3)]
	o.TickMillis = int64(10 + r.IntN(21))
	o.InitLimitTicks = int64(5 + r.IntN(8))
	o.SyncLimitTicks = int64(2 + r.IntN(4))
	o.SnapCount = 10 + r.IntN(300)
	o.SegmentBytesMax = int64(2+r.IntN(32)) << 10
	typical := time.Duration(200+r.IntN(2000)) * time.Microsecond
	o.Link = netsim.Link{
		Latency: netsim.Latency{Min: typical / 4, Typical: typical,
			Tail: typical + time.Duration(1+r.IntN(20))*time.Millisecond, TailProbability: float64(r.IntN(4)) / 100},
		LossProbability:      float64(r.IntN(3)) / 200,
		DuplicateProbability: float64(r.IntN(6)) / 100,
	}
	o.DiskLatencyMin = time.Duration(50+r.IntN(500)) * time.Microsecond
	o.DiskLatencyMax = o.DiskLatencyMin + time.Duration(r.IntN(5_000))*time.Microsecond
	o.DiskFaults = vdisk.Faults{
		TearProbability:         float64(r.IntN(80)) / 100,
		KeepUnsyncedProbability: float64(r.IntN(60)) / 100,
	}
	if r.IntN(5) == 0 {
		// Storage I/O errors: the node stops and restarts (never retries a failed fsync).
		o.DiskFaults.WriteErrorProbability = float64(r.IntN(3)) / 1000
		o.DiskFaults.SyncErrorProbability = float64(r.IntN(3)) / 1000
	}
	if r.IntN(4) == 0 {
		o.Drift = make([]clock.Drift, o.Voters+o.Observers)
		for i := range o.Drift {
			o.Drift[i] = clock.Drift{Offset: time.Duration(r.IntN(10_000)) * time.Millisecond, DriftPPM: int64(r.IntN(40_001)) - 20_000}
		}
	}
	o.Clients = 3 + r.IntN(6)
	// 6 to 15 ticks: pings every third of it, connection loss detected at two thirds.
	o.SessionTimeoutMs = int32(o.TickMillis) * int32(6+r.IntN(10))
	o.Workload = SwarmWorkload(r)
	o.FaultUntil = duration
	intensity := []time.Duration{80, 150, 300, 600}[r.IntN(4)] * time.Millisecond
	o.Nemesis = sim.NemesisOptions{
		Hosts: ServerNames(o.Voters + o.Observers), Interval: intensity, DownMax: 1 + r.IntN(o.Voters),
		Until:       duration,
		CrashWeight: r.IntN(5), RestartWeight: 1 + r.IntN(4), PartitionWeight: r.IntN(4),
		CutWeight: r.IntN(3), IsolateWeight: r.IntN(4), HealWeight: 1 + r.IntN(4),
	}
	return o
}

// Harsh is a swarm configuration with faults every few ticks, short sessions (2 to 6
// ticks), six to ten clients and a lossy network: sessions expire while partitions move
// leaders around, connections break constantly.
func Harsh(seed uint64) Options {
	o := Swarm(seed, 6*time.Second)
	o.Kind = "harsh"
	r := sim.Stream(seed, "zk-harsh")
	o.Clients = 6 + r.IntN(5)
	o.SessionTimeoutMs = int32(o.TickMillis) * int32(2+r.IntN(5))
	o.Link.LossProbability = float64(r.IntN(4)) / 100
	o.Nemesis.Interval = time.Duration(20+r.IntN(80)) * time.Millisecond
	o.Nemesis.CrashWeight = 1 + r.IntN(4)
	o.Nemesis.PartitionWeight = 1 + r.IntN(4)
	return o
}

// Paused is a swarm configuration whose only faults are process pauses (Options.Pauses),
// most of them of the leader, each long enough for the followers to elect another leader
// and commit writes (syncLimit plus six ticks: the silence they wait for, the election's
// finalize wait, discovery and sync) and short enough that the paused server's clients keep
// their connections (at most 12 ticks; sessions of 20 ticks, the servers' maximum, time a
// connection out after two thirds of it). When the paused leader wakes it handles what its
// clients sent in the meantime before its tick tells it that it lost its quorum: the
// ZOOKEEPER-1675 setting, two servers that believe they lead. duration is the fault phase.
func Paused(seed uint64, duration time.Duration) Options {
	o := Swarm(seed, duration)
	o.Kind = "pause"
	tick := time.Duration(o.TickMillis) * time.Millisecond
	o.SessionTimeoutMs = int32(20 * o.TickMillis)
	o.Nemesis = sim.NemesisOptions{}
	o.Pauses = Pauses{Interval: 300 * time.Millisecond, DurationMin: time.Duration(o.SyncLimitTicks+6) * tick,
		DurationMax: 12 * tick, LeaderPercent: 90}
	// Four keys: a sync+read on the paused leader's side often reads a key the new
	// leader's side has just written.
	o.Workload.Subtrees, o.Workload.Keys = 2, 2
	return o
}

// LockExpiry is a harsh configuration for issue 6's "sessions expiring while holding
// ephemeral locks": sessions of two or three ticks, locks and leaderships held up to 20
// ticks, recipes most of the work. Stats.HoldersExpired counts the holders whose client saw
// its session expire; the recipe check must still find at most one holder at a time.
func LockExpiry(seed uint64) Options {
	o := Harsh(seed)
	o.Kind = "lockexpiry"
	r := sim.Stream(seed, "zk-lockexpiry")
	o.SessionTimeoutMs = int32(o.TickMillis) * int32(2+r.IntN(2))
	o.Workload.Lock, o.Workload.Election = 12, 4
	o.Workload.HoldTicksMax = 20
	return o
}

// Storm is a swarm configuration for issue 6's "watch storms on hot znodes": ten clients
// that all watch HotPath and re-arm at once when it fires, while some of them change it
// (Workload.Hot). Stats.HotEvents / Stats.HotChanges is the fan-out per change.
func Storm(seed uint64, duration time.Duration) Options {
	o := Swarm(seed, duration)
	o.Kind = "storm"
	o.Clients = clientsMax
	o.Workload.Hot = 12
	return o
}

// SnapSync is a paused configuration of five voters whose leaders, once they wake and
// rejoin, are brought up to date with SNAP (the BUGGIFY site zab.sync-snap forced on: legal,
// it is what a learner too far behind gets), on disks of 1 to 40 ms, with ten clients that
// mostly read with watches. A server rejoining a leader of an epoch new to it writes that
// epoch to disk before it acknowledges it; a client of an old session whose handshake it
// forwards meanwhile is answered by the leader before the SNAP. It is the fault plan that
// lets ServeBeforeSynced show: such a server serving during the sync re-arms the client's
// watches on its old tree, then the snapshot replaces the tree and their events are lost.
func SnapSync(seed uint64, duration time.Duration) Options {
	o := Paused(seed, duration)
	o.Kind = "snapsync"
	o.Voters, o.Observers, o.Drift = 5, 0, nil
	o.DiskLatencyMin, o.DiskLatencyMax = time.Millisecond, 40*time.Millisecond
	// Every sync is a SNAP written to those disks: initLimit must cover it, as an operator
	// sizes it for the snapshot transfer (with 5 to 12 ticks some seeds never establish).
	o.InitLimitTicks = 20
	o.Clients = clientsMax
	o.Workload.WatchPercent = 90
	o.Pauses.LeaderPercent = 100
	o.ForceSites = []string{zab.BuggifySyncSnap}
	return o
}

// Kinds are the configuration builders a replay command can name (Options.Kind).
var Kinds = []string{"quiet", "swarm", "harsh", "pause", "lockexpiry", "storm", "snapsync"}

// Build is the configuration of a kind: Quiet(seed), Swarm(seed, faultPhase), Harsh(seed)
// (its own six-second fault phase), Paused(seed, faultPhase), LockExpiry(seed) (Harsh's
// phase), Storm(seed, faultPhase) or SnapSync(seed, faultPhase). Result.ReplayCommand names the kind and the fault
// phase, and scenarios' TestServers builds the run again with Build.
func Build(kind string, seed uint64, faultPhase time.Duration) (Options, error) {
	switch kind {
	case "quiet":
		return Quiet(seed), nil
	case "swarm":
		return Swarm(seed, faultPhase), nil
	case "harsh":
		return Harsh(seed), nil
	case "pause":
		return Paused(seed, faultPhase), nil
	case "lockexpiry":
		return LockExpiry(seed), nil
	case "storm":
		return Storm(seed, faultPhase), nil
	case "snapsync":
		return SnapSync(seed, faultPhase), nil
	}
	return Options{}, fmt.Errorf("zk: no configuration kind %q (want one of %s)", kind, strings.Join(Kinds, ", "))
}

// ServerName is the host name of server id: "s1", "s2", ...
func ServerName(id int) string { return fmt.Sprintf("s%d", id) }

// ServerNames lists the names of servers 1..n.
func ServerNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = ServerName(i + 1)
	}
	return names
}

// ClientName is the host name of client i (zero-based): "c0", "c1", ...
func ClientName(i int) string { return fmt.Sprintf("c%d", i) }

// clientsMax is porcupine's practical bound on concurrent sessions per key.
const clientsMax = 10

func (o *Options) validate() error {
	switch {
	case o.Voters < 1 || o.Observers < 0:
		return fmt.Errorf("zk: %d voters, %d observers", o.Voters, o.Observers)
	case o.Clients < 1 || o.Clients > clientsMax:
		return fmt.Errorf("zk: %d clients, want 1..%d", o.Clients, clientsMax)
	case o.TickMillis <= 0 || o.SessionTimeoutMs <= 0:
		return fmt.Errorf("zk: tick %d ms, session timeout %d ms", o.TickMillis, o.SessionTimeoutMs)
	case o.DiskLatencyMin < 0 || o.DiskLatencyMax < o.DiskLatencyMin:
		return fmt.Errorf("zk: disk latency %v..%v", o.DiskLatencyMin, o.DiskLatencyMax)
	case o.Drift != nil && len(o.Drift) != o.Voters+o.Observers:
		return fmt.Errorf("zk: %d drifts for %d servers", len(o.Drift), o.Voters+o.Observers)
	case o.SnapCount < 2 || o.LivenessBoundTicks <= 0 || o.EventsMax <= 0:
		return fmt.Errorf("zk: snapCount %d, livenessBoundTicks %d, eventsMax %d", o.SnapCount, o.LivenessBoundTicks, o.EventsMax)
	}
	if err := o.Workload.validate(); err != nil {
		return err
	}
	if err := o.Pauses.validate(); err != nil {
		return err
	}
	for _, site := range o.ForceSites {
		if !slices.Contains(node.BuggifySites(), site) {
			return fmt.Errorf("zk: forced BUGGIFY site %q is not one of %v", site, node.BuggifySites())
		}
	}
	return o.Link.Validate()
}

// record writes the settings the world did not already record.
func (o *Options) record(w *sim.World) {
	w.Set("servers", fmt.Sprintf("voters=%d observers=%d", o.Voters, o.Observers))
	w.Set("zab", fmt.Sprintf("tick=%dms initLimit=%d syncLimit=%d snapCount=%d", o.TickMillis, o.InitLimitTicks, o.SyncLimitTicks, o.SnapCount))
	w.Set("disk.latency", fmt.Sprintf("%v..%v", o.DiskLatencyMin, o.DiskLatencyMax))
	w.Set("disk.faults", fmt.Sprintf("tear=%.2f keepUnsynced=%.2f writeErr=%.3f syncErr=%.3f", o.DiskFaults.TearProbability,
		o.DiskFaults.KeepUnsyncedProbability, o.DiskFaults.WriteErrorProbability, o.DiskFaults.SyncErrorProbability))
	w.Set("storage.segmentBytesMax", o.SegmentBytesMax)
	w.Set("clients", fmt.Sprintf("n=%d sessionTimeout=%dms", o.Clients, o.SessionTimeoutMs))
	w.Set("workload", o.Workload.String())
	w.Set("faultUntil", o.FaultUntil)
	if o.Pauses.Interval > 0 {
		w.Set("pauses", o.Pauses.String())
	}
	if len(o.ForceSites) > 0 {
		w.Set("buggify.forced", strings.Join(o.ForceSites, ","))
	}
	w.Set("livenessBound", fmt.Sprintf("%d ticks", o.LivenessBoundTicks))
	if o.Bugs.Any() {
		w.Set("bugs", strings.Join(o.Bugs.Names(), ","))
	}
}

// buggify returns the world's BUGGIFY hook, which records the active sites, or nil.
func (o *Options) buggify(w *sim.World) *sim.Buggify {
	if !o.Buggify {
		return nil
	}
	return w.NewBuggify(node.BuggifySites())
}
