package conformance

import (
	"os"
	"strings"
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

// excludeEnv lists op names and step kinds to leave out of the generated sequences (see
// Without), e.g. ZABKIT_CONFORMANCE_EXCLUDE=sasl,raw against a target with known differences.
const excludeEnv = "ZABKIT_CONFORMANCE_EXCLUDE"

// TestDifferentialApacheAgreesWithItself is the differential property: every generated
// sequence gives the same canonical transcript on target A (Apache ZooKeeper) and target B
// (a second Apache ZooKeeper, or $ZABKIT_CONFORMANCE_TARGET). A divergence is shrunk by rapid
// and printed side by side; reproduce it with the -rapid.seed (or -rapid.failfile) rapid
// prints. Apache against Apache must always pass: a failure there is a harness bug
// (non-determinism that the canonical form does not abstract).
func TestDifferentialApacheAgreesWithItself(t *testing.T) {
	a, b := targets(t)
	exclude := map[string]bool{}
	for _, name := range strings.Split(os.Getenv(excludeEnv), ",") {
		if name = strings.TrimSpace(name); name != "" {
			exclude[name] = true
		}
	}
	if len(exclude) > 0 {
		t.Logf("leaving out steps %v ($%s)", exclude, excludeEnv)
	}
	var cov Coverage
	rapid.Check(t, func(rt *rapid.T) {
		steps := Without(DrawSteps(rt, stepsPerSequence), exclude)
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
