package tree

import (
	"flag"
	"testing"
)

// TestMain raises rapid's default of 100 checks to 400 (still about a second for the whole
// package) unless -rapid.checks is given or -short is set: the state-machine test needs a
// few hundred runs to reach rarer combinations such as a restrictive ACL plus a stale
// version. Longer runs: go test ./zab/tree -rapid.checks=5000 -rapid.steps=100.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if !explicit && !testing.Short() {
		if err := flag.Set("rapid.checks", "400"); err != nil {
			panic(err)
		}
	}
	m.Run() // the testing wrapper exits with its result; no os import in zab/ even in tests
}
