package sim

import "fmt"

// CheckDeterminism runs a world twice and compares the hashes of the two traces. run must
// build and run the world from scratch each time (record says whether its trace should
// keep events). When the hashes differ it runs both again recording, and the error names
// the first event that differs. Porcupine and other goroutine-using checkers must run
// after the world, never inside run.
func CheckDeterminism(run func(record bool) *Trace) error {
	a, b := run(false), run(false)
	if a.Hash() == b.Hash() && a.Len() == b.Len() {
		return nil
	}
	ra, rb := run(true), run(true)
	diff := FirstDifference(ra.Events(), rb.Events())
	if diff == "" {
		diff = "the recorded reruns happened to agree; the plain runs did not"
	}
	return fmt.Errorf("same seed, different traces: hashes %016x (%d events) and %016x (%d events)\n%s",
		a.Hash(), a.Len(), b.Hash(), b.Len(), diff)
}
