// Package bugzoo proves the fault model and the checks can find real ZAB bugs: for each
// switch of zab.Bugs (a ZooKeeper bug re-introduced at the rule it broke, or a mutation of
// our own) it runs the simulated ensemble (sim/cluster: real storage on virtual disks over
// the simulated network, the ZAB checker on every event, a liveness phase after the faults)
// on seed after seed with the switch on, until the run fails, and names the check that
// failed it. The fixed core passes the same seeds (TestZooControl).
//
//	go test ./scenarios/bugzoo -v                    # the zoo table, bounded seeds per bug
//	ZABKIT_ZOO_SEEDS=2000 ZABKIT_ZOO_DETECTIONS=10 go test ./scenarios/bugzoo -v -timeout 0
//	go test ./scenarios/bugzoo -run 'TestZoo/ZOOKEEPER-4646' -v
//
// A detected run prints its seed and the failure; it replays with the same bug and seed.
package bugzoo
