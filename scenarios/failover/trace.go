package failover

import (
	"github.com/zabkit/zabkit/sim"
)

// FromTrace turns the faults a run's trace recorded (KindFault events: sim's nemesis, or a
// replayed schedule) into steps, in trace order. Fault events that are no step (the end of
// the fault phase, the liveness phase's link change, scenario notes) are skipped.
func FromTrace(events []sim.Event) []Step {
	var steps []Step
	for _, e := range events {
		if e.Kind != sim.KindFault {
			continue
		}
		st, err := ParseStepText(e.Text)
		if err != nil {
			continue
		}
		st.At = e.At
		steps = append(steps, st)
	}
	return steps
}
