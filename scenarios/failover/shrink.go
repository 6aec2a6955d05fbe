package failover

import "slices"

// Shrink minimizes a failing schedule greedily by deleting steps while stillFails holds,
// in the manner of delta debugging (Zeller's ddmin, simplified): first in chunks of half the
// steps, then quarters, down to single steps, and again from the top until a whole pass of
// single deletions changes nothing. Every candidate keeps the order and times of the steps
// it keeps. runsMax bounds the runs of stillFails; runs is how many were made.
//
// It deletes only: a step that cannot go is needed for the failure, which is what a reader
// of the result wants to know.
func Shrink(s Schedule, stillFails func(Schedule) bool, runsMax int) (minimal Schedule, runs int) {
	try := func(steps []Step) bool {
		if runs >= runsMax {
			return false
		}
		runs++
		c := s
		c.Steps = steps
		return stillFails(c)
	}
	steps := slices.Clone(s.Steps)
	for chunk := max(len(steps)/2, 1); ; {
		removed := false
		for i := 0; i < len(steps) && runs < runsMax; {
			end := min(i+chunk, len(steps))
			candidate := slices.Concat(steps[:i], steps[end:])
			if try(candidate) {
				steps, removed = candidate, true
				continue // the same i now names the next chunk
			}
			i = end
		}
		if runs >= runsMax || (chunk == 1 && !removed) || len(steps) == 0 {
			break
		}
		if chunk > 1 {
			chunk = max(chunk/2, 1)
		}
	}
	s.Steps = steps
	return s, runs
}
