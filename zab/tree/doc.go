// Package tree is ZooKeeper's replicated data tree as a pure, deterministic state machine:
// znodes with data and the 11 Stat fields, create modes, ACLs, sessions and their
// ephemerals, plus the two-step write path of ZooKeeper's leader.
//
//   - Prepare (leader only) checks a write request against the applied tree plus the
//     outstanding, prepared-but-not-applied changes (PrepRequestProcessor.outstandingChanges)
//     and turns it into a Txn, which may be an error txn (failed writes consume a zxid in
//     ZooKeeper too, zk-protocol.md §4.5).
//   - Apply (every replica) applies a committed Txn at its zxid and returns the client result
//     and the watch triggers it causes.
//
// Watches are server-local and not replicated: they live in Watches, owned by one server.
// Reads (Exists, GetData, ...) are served from the applied tree.
//
// Nothing here reads a clock, draws randomness or iterates a map into an output: the same
// txns applied in the same order give byte-identical snapshots on every replica.
package tree
