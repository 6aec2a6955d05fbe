package conformance

import (
	"testing"

	"pgregory.net/rapid"
)

// stepsPerSequence bounds one generated sequence (a run's length must stay well below
// Settings.MaxSessionTimeoutMs, see run.go).
const stepsPerSequence = 40

// TestDifferentialApacheAgreesWithItself is the differential property: every generated
// sequence gives the same canonical transcript on target A (Apache ZooKeeper) and target B
// (a second Apache ZooKeeper, or $ZABKIT_CONFORMANCE_TARGET). A divergence is shrunk by rapid
// and printed side by side; reproduce it with the -rapid.seed (or -rapid.failfile) rapid
// prints. Apache against Apache must always pass: a failure there is a harness bug
// (non-determinism that the canonical form does not abstract).
func TestDifferentialApacheAgreesWithItself(t *testing.T) {
	a, b := targets(t)
	rapid.Check(t, func(rt *rapid.T) {
		steps := StepsGen(stepsPerSequence).Draw(rt, "sequence")
		if d := Differential(a, b, nextPrefix(), steps); d != nil {
			rt.Fatalf("%s", d.Report)
		}
	})
}
