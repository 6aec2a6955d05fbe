// Package hostio is the I/O a simulated host carries out for one ZAB member, shared by the
// two simulated clusters: sim/cluster (bare zab peers under a list state machine) and sim/zk
// (whole zab/node servers with ZooKeeper clients). Both run the same member glue, so a fix
// to it reaches both, and both exercise what the daemon does with the same outputs:
//
//   - Writer carries out zab's Persist outputs with zab/storage on the host's virtual disk,
//     in zab's order, with group commit: one Sync per batch, then the batch's held-back
//     messages leave in order and the member hears Persisted for the last of them. An
//     injected I/O error crashes the member (storage demands: never retry).
//   - InOrder restores the sender's order on a TCP-like connection over netsim, which
//     delivers each copy after its own delay and may duplicate or lose it.
//   - Recover, ZabRecovered and BootNote boot a member from its disk; Ensemble numbers it.
//   - ZabEvents feeds the run's protocol events to the ZAB checker and quotes the last ones
//     in a failure report; RunUntil runs the world within the run's event budget; Failure
//     is the report of a failed run, with each cluster's own kinds.
package hostio
