// Package node is one ZooKeeper ensemble member as a pure, deterministic state machine: a
// zab.Peer replicating the znode tree (zab/tree), plus the client sessions, connections,
// watches and request pipeline of a ZooKeeper server. The simulator and the daemon drive it
// through one call:
//
//	n, err := node.New(cfg, recovered)     // recovered: what the host read back with zab/storage
//	out := n.Handle(now, input)            // now: the host clock in milliseconds
//	next := n.NextDeadline()               // when to send the next Tick
//
// Inputs: Tick; PeerMessage (a Message from another member: zab traffic or the node's own
// forwarding traffic); ClientConnected, ClientFrame (one frame payload without its 4-byte
// length prefix, decoded here with zab/wire so sim and daemon share the path), ClientClosed;
// Persisted (zab's durability report). Outputs, executed in order: SendPeer, Persist (zab's
// write with the messages held back until it is durable), ClientSend (an encoded frame,
// length prefix included), CloseClient, SaveSnapshot, StateChanged, Committed.
//
// How a write flows (shared/DESIGN.md): the connection's node forwards the request frame to
// the leader in a Forward message on the connection's stream; the leader prepares it against
// its tree plus outstanding changes (tree.Prepare), proposes the txn wrapped in an envelope
// that names the stream and the request's sequence number (Origin), and zab commits it;
// every member applies it, and the member whose stream it came from answers the client with
// ReplyHeader.zxid = the txn's zxid. Watches fire on the member holding the session, before
// any later reply. Reads are answered from the local applied tree when they reach the head
// of the connection's FIFO, so they never overtake the session's own writes. sync is a no-op
// txn through the same pipeline: its reply proves a quorum round trip, so sync+read is a
// linearizable read (the fix of ZOOKEEPER-1675, by construction).
//
// Sessions: the leader's tracker decides expiry (ZooKeeper's SessionTrackerImpl) and
// proposes closeSession; members batch session touches to the leader every tick
// (LearnerSessionTracker). The tracker also records which stream owns each session: a
// request from another stream is refused and its connection closed, which is ZooKeeper's
// SessionMoved behaviour (zk-protocol.md §13). A member closes every client connection when it
// stops serving (not an established leader, not a follower in broadcast), as ZooKeeper
// shuts its ZooKeeperServer down; sessions survive in the replicated tree and the next
// leader rebuilds its tracker from it with fresh timeouts.
//
// What a host does with the outputs, in order:
//   - SendPeer: Message.Marshal onto the link to Message.To; the receiver decodes with
//     UnmarshalMessage, sets From from the link, and hands it over as PeerMessage.
//   - Persist: execute Write with zab/storage exactly as for zab.Persist (snapshot install,
//     truncation, append, epochs); once durable send After, then report Persisted{Write.ID}.
//   - SaveSnapshot: storage.Store.SaveSnapshot(Zxid, View.Snapshot()), which also purges
//     old snapshots and the log behind them. It is emitted only once the log is durable up
//     to Zxid. These are the member's only periodic snapshots (zab.Config.SnapshotsByHost):
//     a Persist carries a snapshot only for a SNAP from the leader. The in-memory log is
//     bounded by zab itself (Config.DiffTxnsMax), whatever the snapshots do. The Handle
//     step that crosses snapCount only freezes the tree (tree.Freeze, copy-on-write) and
//     the host serializes the View where it stalls no input: the daemon on its log
//     writer's snapshot goroutine, while the node goes on; the simulator where it executes
//     the output. BenchmarkSnapshotStall, znodes of 128 bytes under 1000 parents on the
//     2-core machine, same runs: the step takes 0.25-0.45 us at 10k, 100k and 500k znodes,
//     the serialization it no longer waits for 0.65-1.5 ms, 25-40 ms and 131-171 ms. What
//     remains on the node goroutine is spread over the writes after a Freeze: the first
//     change of a znode copies it and its ancestors with their child-pointer lists, so the
//     step and one setData take 5-16 us where the setData alone takes 1.3-1.9 us (zab/tree's
//     BenchmarkFreeze: 1000 setData after a Freeze 4.5 ms vs 3.1 ms unfrozen, 100k znodes);
//     a parent of n children costs a copy of n pointers at its first change. The leader's
//     SNAP for a lagging follower still serializes the tree inside Handle (zab asks the
//     state machine for bytes, machine.Snapshot); only the periodic snapshot is off it.
//   - ClientSend / CloseClient: write the frame; close after the frames already written.
//   - Committed / StateChanged: for traces, checkers, logs and metrics only.
//
// At start the host recovers with zab/storage and passes the newest snapshot's bytes and
// the epochs and log to New. The host answers four-letter words itself (they precede any
// handshake). Pass Unix milliseconds as now in the daemon: the leader stamps txns with it
// (znode ctime and mtime, TTL expiry).
//
// Config.Bugs re-introduces known client-level bugs (a watch fired twice, an event after the
// reply, serving before synced, sync without a quorum, a create after closeSession) and
// carries zab's switches (Bugs.Zab) to zab.Config, for the bug zoo; a production host
// refuses to start when Config.AnyBugs is true. Config.Buggify is FoundationDB's BUGGIFY: a
// simulator's hook asked at named sites, the member's and zab's (BuggifySites), whether to
// take a legal but rare path; a production host leaves it nil and refuses to start when
// Config.Buggified is true.
//
// Nothing here reads a clock, draws randomness other than Config.Rand, iterates a map into
// an output, or touches a disk.
package node
