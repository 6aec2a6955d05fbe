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

// coverageFileEnv names a file to which TestDifferential writes its
// coverage tally (which op/error pairs, create modes, events and connection outcomes the
// sequences reached), the raw material of the conformance table in README.md.
const coverageFileEnv = "ZABKIT_CONFORMANCE_COVERAGE"

// excludeEnv lists op names and step kinds to leave out of the generated sequences (see
// Without), e.g. ZABKIT_CONFORMANCE_EXCLUDE=sasl,raw against a target with known differences.
const excludeEnv = "ZABKIT_CONFORMANCE_EXCLUDE"

// zabdKnownDifferences are the step names (see Without) left out of the sequences when target
// B is zabd: deliberate differences from Apache ZooKeeper 3.8.0, each listed with its reason
// in README.md ("Known differences").
var zabdKnownDifferences = []string{
	"raw--10", // createSession (-10) sent as a request: Apache re-handshakes and re-registers the session with a timeout read from the body
	// createTTL with a non-TTL mode and a negative ttl that passes every other check: Apache
	// builds a TTL txn it cannot apply and drops the connection; zabd answers BadArguments.
	"createTTL-negative-ttl",
	// A second watch mode on a path and table where the session already has another: Apache
	// 3.8.0 keeps the last, zabd both (ZooKeeper 3.9's ZOOKEEPER-4466).
	"watch-mode-overlap",
	// A multiRead with a write sub-op: Apache 3.8.0 sends MarshallingError followed by the
	// partial MultiResponse, a body clients skip; zabd sends the header alone.
	"multiRead-write",
}

// TestDifferential is the differential property: every generated sequence gives the same
// canonical transcript on target A (Apache ZooKeeper) and target B (zabd, or what
// $ZABKIT_CONFORMANCE_TARGET names). A divergence is shrunk by rapid and printed side by
// side; reproduce it with the -rapid.seed (or -rapid.failfile) rapid prints. With
// $ZABKIT_CONFORMANCE_TARGET=apache it must always pass: a failure there is a harness bug
// (non-determinism that the canonical form does not abstract).
func TestDifferential(t *testing.T) {
	a, b := targets(t)
	exclude := map[string]bool{}
	if b.Name == "zabd" {
		for _, name := range zabdKnownDifferences {
			exclude[name] = true
		}
	}
	for _, name := range strings.Split(os.Getenv(excludeEnv), ",") {
		if name = strings.TrimSpace(name); name != "" {
			exclude[name] = true
		}
	}
	if len(exclude) > 0 {
		t.Logf("leaving out steps %v (zabd's known differences and $%s)", exclude, excludeEnv)
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
