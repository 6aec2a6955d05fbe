package conformance

import (
	"os"
	"testing"

	"pgregory.net/rapid"
)

// stepsPerSequence bounds one generated sequence (a run's length must stay well below
// Settings.MaxSessionTimeoutMs, see run.go).
const stepsPerSequence = 40

// coverageFileEnv names a file to which TestDifferentialApacheAgreesWithItself writes its
// coverage tally (which op/error pairs, create modes, events and connection outcomes the
// sequences reached), the raw material of the conformance table in README.md.
const coverageFileEnv = "ZABKIT_CONFORMANCE_COVERAGE"

// TestDifferentialApacheAgreesWithItself is the differential property: every generated
// sequence gives the same canonical transcript on target A (Apache ZooKeeper) and target B
// (a second Apache ZooKeeper, or $ZABKIT_CONFORMANCE_TARGET). A divergence is shrunk by rapid
// and printed side by side; reproduce it with the -rapid.seed (or -rapid.failfile) rapid
// prints. Apache against Apache must always pass: a failure there is a harness bug
// (non-determinism that the canonical form does not abstract).
func TestDifferentialApacheAgreesWithItself(t *testing.T) {
	a, b := targets(t)
	var cov Coverage
	rapid.Check(t, func(rt *rapid.T) {
		steps := DrawSteps(rt, stepsPerSequence)
		r := Differential(a, b, nextPrefix(), steps)
		if r.Divergence != nil {
			rt.Fatalf("%s", r.Divergence.Report)
		}
		cov.Add(r.A)
		cov.AddCreateModes(r.A, steps)
	})
	if f := os.Getenv(coverageFileEnv); f != "" {
		if err := os.WriteFile(f, []byte(cov.String()), 0o644); err != nil {
			t.Errorf("writing coverage to %s: %v", f, err)
		}
	}
	if testing.Verbose() {
		t.Logf("coverage of the agreeing sequences:\n%s", cov.String())
	}
}
