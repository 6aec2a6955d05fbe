package hostio

import (
	"fmt"
	"time"

	"github.com/zabkit/zabkit/sim"
)

// RunUntil runs w towards t in slices of at most sliceMax virtual time, so that the caller
// looks for a failure or its goal between slices: it returns when w reaches t or when stop
// reports true after a slice. *events counts the world events run so far; a run that has
// used eventsMax of them stops with an error, the bound on a livelock (TigerBeetle's VOPR
// bounds its runs the same way).
func RunUntil(w *sim.World, t, sliceMax time.Duration, events *int64, eventsMax int64, stop func() bool) error {
	for w.Now() < t {
		left := eventsMax - *events
		if left <= 0 {
			return fmt.Errorf("the run used its %d events by %v: a livelock, or a run too long for its budget", eventsMax, w.Now())
		}
		*events += w.RunUntil(min(t, w.Now()+sliceMax), left)
		if stop() {
			return nil
		}
	}
	return nil
}
