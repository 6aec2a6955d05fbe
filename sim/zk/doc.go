// Package zk runs whole ZooKeeper servers in the simulated world, used by simulated
// ZooKeeper clients, and checks every run.
//
// Each server is a sim host running a zab/node.Node: at every boot it recovers its durable
// state from its virtual disk with zab/storage and hands it to node.New; it carries out the
// node's outputs — Persist and SaveSnapshot with a storage.Store through sim/hostio's
// Writer (group commit after a drawn disk latency, held-back messages sent and Persisted
// reported only once durable; the same glue as sim/cluster's), peer messages marshaled over
// netsim through hostio's TCP-like ordering layer, client frames over client connections. A client connection is a connection id with sequenced packets:
// FIFO, no duplicates, and a lost packet breaks it (both ends see it closed), as TCP.
//
// Clients (client.go) behave like the Java client and go-zk: random server, handshake,
// pings, reconnect elsewhere with session id and password, setWatches, SessionExpired then
// a new session, ConnectionLoss for requests whose connection dropped. They run a workload
// (workload.go) of every op over a small key space partitioned by top-level subtree, and
// the lock and leader-election recipes (recipe.go). Every call, reply, watch event,
// session event and recipe step is recorded in checker's History format, with the
// committed txn order from the servers' Committed outputs.
//
// A run (Cluster.Run) has three phases: faults (a nemesis of crashes, restarts, partitions,
// one-way cuts, isolation; netsim loss and duplication; torn disks; process pauses,
// pause.go), liveness (everything
// healed: every request must complete within LivenessBoundTicks and every client must be
// served again), and a quiet end. At the quiet end (ends.go) the run samples every client
// connected and drained, at its server's LastApplied (paused servers left out), keeps those
// still on the same connection after a wait longer than any message takes
// (History.Connected: an event owed then is lost, not late), and records every running
// server's final ephemerals (History.Replicas); ZABKIT_KIND_SWEEP=N go test ./sim/zk -run
// TestKindsSweep runs N seeds of every kind to show clean runs pass them. Then the checks: the ZAB invariants (fed as
// the run goes), replica agreement on txn bytes and tree digest at every zxid
// (checker.ReplicaDigests), and every
// client-level check of checker.Check (linearizable writes and sync+reads with porcupine,
// reads at their zxid, session order, watches, ephemerals, recipes). A failure carries the
// seed, the replay command, the trace file and porcupine's visualization.
//
// Configurations come from builders named by Options.Kind (Build: quiet, swarm, harsh,
// pause, lockexpiry, storm, snapsync); the replay command (Result.ReplayCommand) is scenarios'
// TestServers with -seed, -kind, -fault and -buggify, which rebuild the same Options.
package zk
