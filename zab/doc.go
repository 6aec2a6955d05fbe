// Package zab is the ZooKeeper Atomic Broadcast core of zabkit: fast leader election,
// discovery, synchronization (DIFF, TRUNC, SNAP) and broadcast, with observers.
//
// It is a pure, deterministic state machine in the shape of etcd's raft RawNode, with
// CockroachDB's refinement of Ready: a Persist output carries the messages that may leave
// only once that write is durable. One Peer is one ensemble member:
//
//	p, err := zab.NewPeer(cfg, recovered) // recovered: the durable state read back at start
//	out := p.Handle(now, zab.Tick{})      // now: the host clock in milliseconds
//	next := p.NextDeadline()              // when to tick next (lets a simulator skip idle time)
//
// The host executes the outputs in order: Send a message; Persist a write (snapshot install,
// log truncation, appended txns, acceptedEpoch/currentEpoch), send its After messages once it
// is durable and report Persisted{ID}; note Deliver (the core has just applied the txn to
// Config.StateMachine, in strict zxid order); follow StateChanged for role and phase.
//
// The package replicates opaque txn bytes and imports nothing from the module: no clock, no
// randomness but Config.Rand, no I/O. Rules that the ZooKeeper implementation once broke are
// impossible by construction here:
//   - a follower writes currentEpoch only after every txn received during synchronization is
//     durable (it waits for Persisted), and its NEWLEADER ack leaves only after that write
//     (ZOOKEEPER-4643, ZOOKEEPER-4646, ZOOKEEPER-3911);
//   - proposal ACKs are durable-gated and never overtake the NEWLEADER ack (ZOOKEEPER-4685);
//   - a peer that returns to election reports its last logged zxid, never its last applied
//     one (ZOOKEEPER-2845);
//   - DIFF is chosen by log membership, not by a numeric range (ZOOKEEPER-1154), and SNAP
//     discards the whole local log (ZOOKEEPER-2832).
//
// Config.Bugs re-introduces these and other known bugs, one switch each, for the bug zoo
// (scenarios/bugzoo) that shows the simulator finds them; a production host refuses to start
// with any switch on (Bugs.Any). Config.Buggify is FoundationDB's BUGGIFY: a simulator's
// hook asked at named sites (buggify.go) whether to take a legal but rare path; nil in
// production, where it never fires.
//
// Where this core differs from ZooKeeper's implementation, on purpose:
//   - Every message after election carries the learner's registration Session, so messages of
//     an earlier registration (a restart, a re-sync) are ignored instead of counted.
//   - ACK and COMMIT are cumulative, PROPOSAL/INFORM carry the previous zxid (a learner detects
//     any hole), and pings carry the leader's commit point one way and the learner's durable
//     and logged points the other: a lost message is repaired within a tick or two.
//   - SNAP keeps the learner's logged txns above the snapshot until the sync stream confirms
//     or cuts them (dropping them first would let one crash lose a committed txn), and a
//     SNAP older than the learner's own snapshot is confirmed, not installed.
//   - A leader steps down when a voter registers with an acceptedEpoch above its epoch: that
//     voter can never ack it, and ZooKeeper would leave it out until the leader fails.
//   - A restarted peer does not replay its log into the state machine: logged txns are applied
//     only when a leader declares them committed.
//   - Snapshots are Persist writes too (every SnapshotEveryTxns commits, and on SNAP), so they
//     are ordered with the log and epoch writes, unless the host takes them itself
//     (Config.SnapshotsByHost, as zab/node does).
//   - The in-memory log is a window, not the whole history: the peer keeps at most
//     2*DiffTxnsMax committed txns plus the uncommitted ones (Peer.Retained), as ZooKeeper's
//     committedLog keeps commitLogCount; learners further behind get SNAP from the state
//     machine. Memory stays bounded under an endless write load, whatever the snapshots do.
package zab
