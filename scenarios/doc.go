// Package scenarios runs the simulated ZAB ensemble (sim/cluster) through named fault
// scenarios and a swarm sweep, with the full checker on every event and a liveness phase
// after every fault phase. Everything is in the tests:
//
//	go test ./scenarios                       # every scenario on a CI-sized sweep
//	go test ./scenarios -seeds=500            # a longer sweep
//	go test ./scenarios -run 'TestScenarios/swarm$' -duration=5m -timeout 0   # swarm seeds for 5 minutes
//	go test ./scenarios -run 'TestScenarios/leader-crash-mid-broadcast' -seed=N
//
// ZABKIT_SEED=N works like -seed=N. A failure prints its seed, every setting of the run and
// the command that replays it.
package scenarios
