// Package tree is ZooKeeper's replicated data tree as a pure, deterministic state machine:
// znodes with data and the 11 Stat fields, create modes, ACLs, sessions and their
// ephemerals, plus the two-step write path of ZooKeeper's leader.
//
//   - Prepare (leader only) checks a write request against the applied tree plus the
//     outstanding, prepared-but-not-applied changes (PrepRequestProcessor.outstandingChanges)
//     and turns it into a Txn, which may be an error txn (failed writes consume a zxid in
//     ZooKeeper too, zk-protocol.md §4.5). Reset drops the outstanding changes when
//     leadership is lost.
//   - Apply (every replica) applies a committed Txn at its zxid and returns the client reply
//     and the watch triggers (Events) it causes. Digest is updated incrementally, so replicas
//     can compare it after every txn.
//
// Watches are server-local and not replicated: they live in Watches, owned by one server,
// which turns an Applied's events into notifications for that server's sessions. Reads
// (Read, or Exists, GetData, ...) are served from the applied tree; Watches.AfterRead
// registers the watch a read asked for.
//
// How a server composes it:
//
//	txn := t.Prepare(tree.Request{SessionID, Cxid, Zxid, TimeMs, Auth, Type, Body})  // leader
//	payload := txn.Marshal()                       // what zab proposes and logs
//	txn, err := tree.UnmarshalTxn(payload)         // on commit, every replica
//	applied := t.Apply(zxid, txn)
//	notes := watches.Applied(applied, authOf)      // deliver before the reply (§3.3)
//	if ownsSession(applied.SessionID) { reply(applied.Cxid, zxid, applied.Err, applied.Body) }
//
// Sessions are txns too: Request{Type: OpCreateSession, TimeoutMs} and
// Request{Type: OpCloseSession} (explicit close and expiry alike; it deletes the session's
// ephemerals in the same txn). The leader reaps containers and TTL nodes by proposing
// Request{Type: OpDeleteContainer, Body: &wire.DeleteRequest{Path: p}} for each path of
// Reapable(nowMs, ...). Snapshot and Restore give deterministic bytes of the whole
// replicated state; Freeze returns a View that gives the same bytes later, from another
// goroutine if need be, while the tree goes on changing (copy-on-write, view.go).
//
// Nothing here reads a clock, draws randomness or iterates a map into an output: the same
// txns applied in the same order give byte-identical snapshots on every replica.
package tree
