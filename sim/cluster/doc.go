// Package cluster runs a ZAB ensemble inside a sim.World: every server is a sim host whose
// program drives a zab.Peer, recovers it with zab/storage from a virtual disk, carries out
// its Persist outputs with a storage.Store through sim/hostio's Writer (group commit: many
// persists, one Sync, after a disk latency drawn from the host's stream; the same glue as
// sim/zk's) and sends its messages, marshaled, over netsim.
//
// Options.ZabBugs switches re-introduced ZooKeeper bugs on in every peer (the bug zoo,
// scenarios/bugzoo); Options.ElectionChecks feeds checker.ElectionChecker from the peers'
// outputs (NoVoteCircle on by default; Stable only for fault-free runs).
//
// It is the real thing, where zab's own test harness is a model: real storage on virtual
// disks that tear and lose unsynced writes, over a virtual network that loses, duplicates,
// reorders and partitions. A bounded load proposes unique txns to whichever server leads;
// every protocol event feeds checker.ZabChecker as it happens; after the fault phase a
// liveness phase requires the healed ensemble to commit every new proposal on every server
// within a bound in ticks. One seed decides everything (Swarm draws the whole configuration
// from it), so a failing seed replays exactly.
//
// The replicated state machine is a stand-in until zab/node composes the znode tree: an
// append-only list of txn payloads with a running hash.
package cluster
