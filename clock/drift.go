package clock

import (
	"fmt"
	"time"
)

// Drift maps the simulator's global virtual time to one node's local reading of it:
// local = Offset + global * (1 + DriftPPM/1e6). Real machines' clocks start at different
// readings (skew) and run at slightly different rates (drift); ZooKeeper's timeouts are
// measured on each server's own clock, so the simulator must let them disagree.
// TigerBeetle's simulator models the same (testing/time.zig); FoundationDB's lacked it
// (apple/foundationdb#2148).
type Drift struct {
	// Offset is the local reading at global time zero. It may be negative.
	Offset time.Duration
	// DriftPPM is how many microseconds the local clock gains per second of global time
	// (negative: it loses). |DriftPPM| must stay below 1e6.
	DriftPPM int64
}

// Validate reports a drift rate that would stop or reverse the local clock.
func (d Drift) Validate() error {
	if d.DriftPPM <= -1_000_000 || d.DriftPPM >= 1_000_000 {
		return fmt.Errorf("clock: drift %d ppm must be within (-1e6, 1e6)", d.DriftPPM)
	}
	return nil
}

// Local is the local reading at global time g, rounded down to the nanosecond.
func (d Drift) Local(g time.Duration) time.Duration {
	rate := 1_000_000 + d.DriftPPM
	hi := floorDiv(int64(g), 1_000_000)
	lo := int64(g) - hi*1_000_000
	return d.Offset + time.Duration(hi*rate+floorDiv(lo*rate, 1_000_000))
}

// Global is the earliest global time whose local reading is at least l. The simulator
// uses it to turn a node's local deadline into an event time, so a deadline never fires
// early on the node's own clock.
func (d Drift) Global(l time.Duration) time.Duration {
	// Local(g) >= l  <=>  g*rate >= (l-Offset)*1e6  <=>  g >= ceil((l-Offset)*1e6/rate).
	rate := 1_000_000 + d.DriftPPM
	x := int64(l - d.Offset)
	q := floorDiv(x, rate)
	r := x - q*rate
	return time.Duration(q*1_000_000 + ceilDiv(r*1_000_000, rate))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
