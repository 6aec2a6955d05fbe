package clock

import (
	"fmt"
	"time"
)

// Virtual is a clock that moves only when the simulator advances it. Timers fire in
// deadline order and, for equal deadlines, in the order they were created, which is what
// makes a simulated run reproducible: no tie is ever broken by pointer or map order.
//
// Virtual is the simulator's event queue. It is not safe for concurrent use; the simulator
// runs on one goroutine.
type Virtual struct {
	now       time.Duration
	seq       uint64
	timers    timerHeap
	fired     uint64
	timersMax int
}

// TimersMax bounds the timers a Virtual clock holds at once. A simulated run holds a few
// per host plus one per message in flight, thousands at most; a million pending timers is
// a leak or a runaway feedback loop, and the clock stops it with a panic rather than let
// the run eat the machine's memory.
const TimersMax = 1 << 21

// NewVirtual returns a virtual clock at time zero with no timers.
func NewVirtual() *Virtual { return &Virtual{timersMax: TimersMax} }

// Now is the current virtual time.
func (v *Virtual) Now() time.Duration { return v.now }

// Fired is the number of timer calls made so far.
func (v *Virtual) Fired() uint64 { return v.fired }

// Pending is the number of timers not yet fired or stopped.
func (v *Virtual) Pending() int { return len(v.timers) }

// AfterFunc schedules f at Now()+d. A negative d counts as zero.
func (v *Virtual) AfterFunc(d time.Duration, f func()) Timer {
	return v.At(v.now+max(d, 0), f)
}

// At schedules f at the absolute virtual time at, which must not be in the past.
func (v *Virtual) At(at time.Duration, f func()) *VirtualTimer {
	if at < v.now {
		panic(fmt.Sprintf("clock: timer at %v is before now %v", at, v.now))
	}
	if len(v.timers) >= v.timersMax {
		panic(fmt.Sprintf("clock: %d timers pending, the most a run may hold, at %v (earliest at %v, latest at %v, %d fired so far, next seq %d): a timer leak or a feedback loop",
			len(v.timers), v.now, v.timers[0].at, v.timers.latest(), v.fired, v.seq+1))
	}
	v.seq++
	t := &VirtualTimer{clock: v, at: at, seq: v.seq, f: f, index: -1}
	v.timers.push(t)
	return t
}

// NextDeadline returns the time of the earliest pending timer.
func (v *Virtual) NextDeadline() (time.Duration, bool) {
	if len(v.timers) == 0 {
		return 0, false
	}
	return v.timers[0].at, true
}

// Step moves the clock to the earliest pending timer and fires it. It reports false when
// no timer is pending.
func (v *Virtual) Step() bool {
	if len(v.timers) == 0 {
		return false
	}
	t := v.timers.pop()
	v.now = t.at
	v.fired++
	t.f()
	return true
}

// AdvanceTo fires, in order, every timer due at or before at, then sets the clock to at.
// Timers that fired timers schedule within the window fire too.
func (v *Virtual) AdvanceTo(at time.Duration) {
	if at < v.now {
		panic(fmt.Sprintf("clock: cannot go back from %v to %v", v.now, at))
	}
	for len(v.timers) > 0 && v.timers[0].at <= at {
		v.Step()
	}
	v.now = at
}

// Advance is AdvanceTo(Now()+d).
func (v *Virtual) Advance(d time.Duration) { v.AdvanceTo(v.now + d) }

// VirtualTimer is a timer of a Virtual clock.
type VirtualTimer struct {
	clock *Virtual
	at    time.Duration
	seq   uint64
	f     func()
	index int // position in the heap, -1 once fired or stopped
}

// At is the virtual time the timer fires at.
func (t *VirtualTimer) At() time.Duration { return t.at }

// Stop removes the timer if it is still pending.
func (t *VirtualTimer) Stop() bool {
	if t.index < 0 {
		return false
	}
	t.clock.timers.remove(t.index)
	return true
}

// timerHeap is a binary min-heap on (at, seq). It is hand-written rather than
// container/heap so that the hot path has no interface calls.
type timerHeap []*VirtualTimer

func (h timerHeap) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}

// latest is the deadline of the last timer due, for the overflow panic (a scan, but
// only once).
func (h timerHeap) latest() time.Duration {
	var at time.Duration
	for _, t := range h {
		at = max(at, t.at)
	}
	return at
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) push(t *VirtualTimer) {
	t.index = len(*h)
	*h = append(*h, t)
	h.up(t.index)
}

func (h *timerHeap) pop() *VirtualTimer { return h.remove(0) }

func (h *timerHeap) remove(i int) *VirtualTimer {
	old := *h
	n := len(old) - 1
	t := old[i]
	if i != n {
		h.swap(i, n)
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	t.index = -1
	return t
}

func (h timerHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		left := 2*i + 1
		if left >= n {
			break
		}
		child := left
		if right := left + 1; right < n && h.less(right, left) {
			child = right
		}
		if !h.less(child, i) {
			break
		}
		h.swap(i, child)
		i = child
	}
	return i > start
}
