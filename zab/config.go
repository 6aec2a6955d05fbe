package zab

import (
	"errors"
	"fmt"
	"slices"
)

// Rand is the only source of randomness the core uses (election jitter, learner session
// nonces). The simulator passes a stream derived from its seed; the daemon one seeded at start.
type Rand interface {
	Uint64() uint64
}

// StateMachine is the replicated service above zab (zabkit's znode tree). The core calls it
// synchronously, so a snapshot it takes always matches the zxid it labels it with (the mismatch
// behind ZOOKEEPER-3104 cannot happen).
type StateMachine interface {
	// Apply executes the committed txn with the given zxid. It is called in strict zxid order.
	Apply(zxid Zxid, txn []byte)
	// Snapshot serializes the state after every txn applied so far.
	Snapshot() []byte
	// Restore replaces the state with a snapshot taken by Snapshot (possibly on another peer).
	Restore(data []byte) error
}

// Config is one peer's static configuration. Times follow zoo.cfg: tickTime in milliseconds,
// initLimit and syncLimit in ticks.
type Config struct {
	ID        PeerID
	Voters    []PeerID // participants: they vote and count in quorums
	Observers []PeerID // receive committed txns, never vote, never count

	TickMillis     int64 // zoo.cfg tickTime
	InitLimitTicks int64 // discovery + synchronization must finish within this many ticks
	SyncLimitTicks int64 // a broadcast-phase peer silent this long is considered gone

	Rand         Rand
	StateMachine StateMachine

	// InFlightTxnsMax bounds the proposals a leader has logged but not committed; Propose is
	// rejected with ErrBusy beyond it. Zero means 1000.
	InFlightTxnsMax int
	// TxnBytesMax bounds one txn. Zero means 1 MiB (ZooKeeper's jute.maxbuffer).
	TxnBytesMax int
	// DiffTxnsMax is the longest DIFF a leader sends; a learner further behind gets SNAP.
	// It also bounds memory: a peer keeps between DiffTxnsMax and 2*DiffTxnsMax committed
	// txns in memory (ZooKeeper's commitLogCount), plus the uncommitted ones, so that a
	// learner a little behind still gets a DIFF. Zero means 10000.
	DiffTxnsMax int
	// DiffBytesMax bounds the same in data bytes, for large txns: a DIFF carries at most
	// this much, and a peer keeps at most about twice this much of committed txns in
	// memory. Zero means 64 MiB.
	DiffBytesMax int
	// SnapshotEveryTxns is ZooKeeper's snapCount: after this many committed txns above the
	// latest snapshot, the peer writes a new snapshot and forgets older txns. Zero means
	// 100000.
	SnapshotEveryTxns int
	// SnapshotsByHost says the host snapshots the state machine itself, when it likes; the
	// peer then issues no periodic snapshot of its own and SnapshotEveryTxns is unused.
	// zab/node does this: it rolls ZooKeeper's randomized snapCount so members do not all
	// snapshot at once, and its host writes the snapshot in the background instead of in
	// the log's write path. SNAP installs remain Persist writes either way, and the peer's
	// memory is bounded by DiffTxnsMax either way.
	SnapshotsByHost bool

	// Bugs re-introduces known bugs for the bug zoo; all off in production (bugs.go).
	Bugs Bugs
	// Buggify, when set, is asked at named sites whether to take a legal but rare path
	// (buggify.go). Only a simulator sets it; nil, as in production, never fires.
	Buggify Buggify
}

func (c *Config) validate() error {
	if len(c.Voters) == 0 {
		return errors.New("zab: config has no voters")
	}
	all := append(slices.Clone(c.Voters), c.Observers...)
	slices.Sort(all)
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			return fmt.Errorf("zab: server %d is listed twice", all[i])
		}
	}
	if !slices.Contains(all, c.ID) {
		return fmt.Errorf("zab: own id %d is neither a voter nor an observer", c.ID)
	}
	if c.TickMillis <= 0 || c.InitLimitTicks <= 0 || c.SyncLimitTicks <= 0 {
		return fmt.Errorf("zab: tickMillis %d, initLimitTicks %d, syncLimitTicks %d must be positive",
			c.TickMillis, c.InitLimitTicks, c.SyncLimitTicks)
	}
	if c.Rand == nil || c.StateMachine == nil {
		return errors.New("zab: config needs Rand and StateMachine")
	}
	if c.InFlightTxnsMax < 0 || c.TxnBytesMax < 0 || c.DiffTxnsMax < 0 || c.DiffBytesMax < 0 || c.SnapshotEveryTxns < 0 {
		return errors.New("zab: negative limit")
	}
	if c.InFlightTxnsMax == 0 {
		c.InFlightTxnsMax = 1000
	}
	if c.TxnBytesMax == 0 {
		c.TxnBytesMax = 1 << 20
	}
	if c.DiffTxnsMax == 0 {
		c.DiffTxnsMax = 10000
	}
	if c.DiffBytesMax == 0 {
		c.DiffBytesMax = 64 << 20
	}
	if c.SnapshotEveryTxns == 0 {
		c.SnapshotEveryTxns = 100000
	}
	return nil
}

// Recovered is the durable state the host read back (with zab/storage) before starting the
// peer. The host has already restored Config.StateMachine from the snapshot at SnapshotZxid.
type Recovered struct {
	AcceptedEpoch Epoch // epoch of the last LEADERINFO accepted (the paper's f.p)
	CurrentEpoch  Epoch // epoch of the last NEWLEADER accepted (the paper's f.a)
	SnapshotZxid  Zxid  // zero when there is no snapshot
	Log           []Txn // logged txns after SnapshotZxid, in zxid order
}

func (r *Recovered) validate() error {
	if r.CurrentEpoch > r.AcceptedEpoch {
		return fmt.Errorf("zab: recovered currentEpoch %d > acceptedEpoch %d", r.CurrentEpoch, r.AcceptedEpoch)
	}
	prev := r.SnapshotZxid
	for _, t := range r.Log {
		if t.Zxid <= prev {
			return fmt.Errorf("zab: recovered log not increasing: %v after %v", t.Zxid, prev)
		}
		prev = t.Zxid
	}
	return nil
}

// Role is what a peer currently is in the ensemble (ZooKeeper's ServerState).
type Role uint8

const (
	Looking Role = iota + 1
	Following
	Leading
	Observing
)

func (r Role) String() string {
	switch r {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Phase is the ZAB phase of a peer (the paper's phases 0-3).
type Phase uint8

const (
	Election Phase = iota + 1
	Discovery
	Synchronization
	Broadcast
)

func (p Phase) String() string {
	switch p {
	case Election:
		return "ELECTION"
	case Discovery:
		return "DISCOVERY"
	case Synchronization:
		return "SYNCHRONIZATION"
	case Broadcast:
		return "BROADCAST"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}
