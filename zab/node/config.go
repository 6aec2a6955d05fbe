package node

import (
	"errors"
	"fmt"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// Config is one member's configuration. Zero limits take the defaults named in each comment.
type Config struct {
	ID        zab.PeerID
	Voters    []zab.PeerID
	Observers []zab.PeerID

	TickMillis     int64 // zoo.cfg tickTime
	InitLimitTicks int64
	SyncLimitTicks int64

	// Rand is the only randomness: session ids, the snapshot roll, zab's election jitter.
	Rand zab.Rand
	// Tree holds the settings every replica must share.
	Tree tree.Config

	// MinSessionTimeoutTicks and MaxSessionTimeoutTicks clamp the timeout a client asks for
	// (zoo.cfg minSessionTimeout/maxSessionTimeout, in ticks here). Defaults 2 and 20.
	MinSessionTimeoutTicks int64
	MaxSessionTimeoutTicks int64
	// SnapCount: a snapshot is saved after snapCount/2 + rand(snapCount/2) applied txns, so
	// members do not all snapshot at once (ZooKeeper's SyncRequestProcessor). Default 100000.
	SnapCount int
	// SuperDigest is zookeeper.DigestAuthenticationProvider.superDigest ("" = none).
	SuperDigest string

	// ConnectionsMax bounds open client connections; more are closed at once. Default 1000.
	ConnectionsMax int
	// RequestsPerConnectionMax bounds the requests one connection has queued (waiting for
	// earlier writes, or received during the handshake); a client beyond it is closed.
	// Default 1000.
	RequestsPerConnectionMax int
	// FrameBytesMax refuses larger frames by closing the connection without a reply, as
	// ZooKeeper does past jute.maxbuffer. Default wire.FrameBytesMaxDefault.
	FrameBytesMax int
	// ProposalsInFlightMax bounds the leader's proposed but not applied txns; requests
	// beyond it wait at the leader, in arrival order, up to 32 times as many (then they are
	// refused and their connections closed). Default 500.
	ProposalsInFlightMax int
	// ConnectTimeoutTicks closes a connection that has not completed the handshake, and
	// ForwardTimeoutTicks one whose oldest forwarded request has no answer (it was lost
	// with the leader or the network) while none of its other requests was answered either,
	// after that many ticks. Defaults 10 and 10.
	ConnectTimeoutTicks int64
	ForwardTimeoutTicks int64
	// ReapIntervalTicks is how often the leader deletes empty containers and expired TTL
	// nodes (ContainerManager). Default 60.
	ReapIntervalTicks int64
	// DiffTxnsMax is zab's longest DIFF, and half the most committed txns zab keeps in
	// memory (ZooKeeper's commitLogCount); a learner further behind gets SNAP. Default
	// zab's (10000).
	DiffTxnsMax int

	// Bugs re-introduces known bugs for the bug zoo, zab's included; all off in production
	// (bugs.go). A production host refuses to start when AnyBugs is true.
	Bugs Bugs
	// Buggify, when set, is asked at named sites, the member's and zab's, whether to take a
	// legal but rare path (buggify.go). Only a simulator sets it; a production host refuses
	// to start when Buggified is true.
	Buggify zab.Buggify
}

// Recovered is the durable state the host read back with zab/storage: the newest snapshot
// (nil when there is none) and zab's epochs and log.
type Recovered struct {
	Snapshot []byte
	Zab      zab.Recovered
}

const (
	reapBatchMax    = 100  // containers deleted per reap round
	expireBatchMax  = 1000 // sessions expired per tick
	authIDsMax      = 64   // auth ids one connection may accumulate
	touchesBatchMax = 4096 // session touches per message
	// shortSessionTicks: a learner reports a touch of a session this short (in ticks) at once
	// instead of at the next tick.
	shortSessionTicks = 4
	// forwardsWaitingPerWindowSlot and forwardsWaitingBytesMax bound the requests waiting for
	// the leader's window: 32 × ProposalsInFlightMax (16000 by default: eight members each
	// with the daemon's 2000 requests in flight) and 64 MiB of payload.
	forwardsWaitingPerWindowSlot = 32
	forwardsWaitingBytesMax      = 64 << 20
)

func (c *Config) validate() error {
	if c.Rand == nil {
		return errors.New("node: config needs Rand")
	}
	if c.TickMillis <= 0 {
		return fmt.Errorf("node: tickMillis %d must be positive", c.TickMillis)
	}
	setDefault := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	setDefault(&c.MinSessionTimeoutTicks, 2)
	setDefault(&c.MaxSessionTimeoutTicks, 20)
	setDefault(&c.ConnectTimeoutTicks, 10)
	setDefault(&c.ForwardTimeoutTicks, 10)
	setDefault(&c.ReapIntervalTicks, 60)
	setDefaultInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDefaultInt(&c.SnapCount, 100000)
	setDefaultInt(&c.ConnectionsMax, 1000)
	setDefaultInt(&c.RequestsPerConnectionMax, 1000)
	setDefaultInt(&c.FrameBytesMax, wire.FrameBytesMaxDefault)
	setDefaultInt(&c.ProposalsInFlightMax, 500)
	if c.MinSessionTimeoutTicks < 0 || c.MaxSessionTimeoutTicks < c.MinSessionTimeoutTicks {
		return fmt.Errorf("node: session timeout range [%d, %d] ticks is empty", c.MinSessionTimeoutTicks, c.MaxSessionTimeoutTicks)
	}
	if c.SnapCount < 2 || c.ConnectionsMax < 0 || c.RequestsPerConnectionMax < 0 || c.FrameBytesMax < 0 ||
		c.ProposalsInFlightMax < 0 || c.ConnectTimeoutTicks < 0 || c.ForwardTimeoutTicks < 0 || c.ReapIntervalTicks < 0 ||
		c.DiffTxnsMax < 0 {
		return errors.New("node: negative limit or snapCount below 2")
	}
	return nil
}

// zabConfig is the peer's configuration: its in-flight bound sits above the node's, so a
// proposal the node decided to make is never refused as busy, and a txn may be somewhat
// larger than the frame it came from (fixed-up ACLs, the envelope). The member takes the
// snapshots itself (snapshotter, SaveSnapshot), so zab issues none of its own; zab bounds
// its in-memory log by DiffTxnsMax on its own.
func (c *Config) zabConfig(sm zab.StateMachine) zab.Config {
	return zab.Config{
		ID: c.ID, Voters: c.Voters, Observers: c.Observers,
		TickMillis: c.TickMillis, InitLimitTicks: c.InitLimitTicks, SyncLimitTicks: c.SyncLimitTicks,
		Rand: c.Rand, StateMachine: sm,
		InFlightTxnsMax: 2*c.ProposalsInFlightMax + 16,
		TxnBytesMax:     zabTxnBytesMax(c.FrameBytesMax),
		DiffTxnsMax:     c.DiffTxnsMax,
		SnapshotsByHost: true,
		Bugs:            c.Bugs.Zab,
		Buggify:         zabBuggify(c.Buggify),
	}
}

// zabTxnBytesMax is the largest txn proposed: room for a full frame expanded by ACL fix-up.
func zabTxnBytesMax(frameBytesMax int) int { return 4*frameBytesMax + 1<<16 }
