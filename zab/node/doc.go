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
//   - SaveSnapshot: storage.Store.SaveSnapshot(Zxid, Data), which also purges old snapshots
//     and the log behind them. It is emitted only once the log is durable up to Zxid. These
//     are the member's only periodic snapshots (zab.Config.SnapshotsByHost): a Persist
//     carries a snapshot only for a SNAP from the leader. The in-memory log is bounded by
//     zab itself (Config.DiffTxnsMax), whatever the snapshots do. The tree is serialized
//     inside the Handle step that crosses snapCount, so that step stalls every input for
//     the serialization (BenchmarkSnapshotStall, znodes of 128 bytes on the 2-core machine:
//     about 1 ms at 10k, 23-28 ms at 100k, 130 ms at 500k, since tree.Snapshot allocates
//     its exact size once; it was 3.9, 48 and 270-320 ms in the same runs before). ZooKeeper
//     serializes a fuzzy snapshot on another thread; doing so here needs a tree that can be
//     read while it changes (a copy-on-write view from zab/tree), which does not exist yet.
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
