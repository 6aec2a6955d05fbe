package clock

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestVirtualFiresInDeadlineOrderThenCreationOrder(t *testing.T) {
	v := NewVirtual()
	var got []string
	record := func(s string) func() { return func() { got = append(got, s) } }
	v.AfterFunc(30*time.Millisecond, record("c@30"))
	v.AfterFunc(10*time.Millisecond, record("a@10"))
	v.AfterFunc(20*time.Millisecond, record("b1@20"))
	v.AfterFunc(20*time.Millisecond, record("b2@20"))
	v.AfterFunc(20*time.Millisecond, record("b3@20"))
	v.AdvanceTo(25 * time.Millisecond)
	require.Equal(t, []string{"a@10", "b1@20", "b2@20", "b3@20"}, got)
	require.Equal(t, 25*time.Millisecond, v.Now())
	v.Advance(time.Hour)
	require.Equal(t, []string{"a@10", "b1@20", "b2@20", "b3@20", "c@30"}, got)
}

func TestVirtualTimerScheduledFromATimerInTheWindowFires(t *testing.T) {
	v := NewVirtual()
	var got []time.Duration
	v.AfterFunc(time.Second, func() {
		got = append(got, v.Now())
		v.AfterFunc(0, func() { got = append(got, v.Now()) })
		v.AfterFunc(time.Second, func() { got = append(got, v.Now()) })
	})
	v.AdvanceTo(1500 * time.Millisecond)
	require.Equal(t, []time.Duration{time.Second, time.Second}, got)
}

func TestVirtualStopRemovesOnlyThatTimer(t *testing.T) {
	v := NewVirtual()
	var got []int
	timers := make([]Timer, 10)
	for i := range timers {
		timers[i] = v.AfterFunc(time.Duration(i%3)*time.Second, func() { got = append(got, i) })
	}
	require.True(t, timers[4].Stop())
	require.False(t, timers[4].Stop(), "a stopped timer cannot be stopped twice")
	require.True(t, timers[0].Stop())
	v.Advance(time.Minute)
	require.Equal(t, []int{3, 6, 9, 1, 7, 2, 5, 8}, got)
	require.False(t, timers[1].Stop(), "a fired timer cannot be stopped")
	require.Zero(t, v.Pending())
}

// TestVirtualMatchesSortedOrder compares the heap against a sort of random timers with
// random stops, the specification of the queue's order.
func TestVirtualMatchesSortedOrder(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		v := NewVirtual()
		type want struct {
			at  time.Duration
			seq int
		}
		var expected []want
		var got []int
		var timers []Timer
		for i := range 200 {
			at := time.Duration(rng.IntN(50))
			timers = append(timers, v.AfterFunc(at, func() { got = append(got, i) }))
			expected = append(expected, want{at, i})
		}
		stopped := map[int]bool{}
		for range 40 {
			i := rng.IntN(len(timers))
			if timers[i].Stop() {
				stopped[i] = true
			}
		}
		var order []int
		for at := range time.Duration(50) {
			for _, w := range expected {
				if w.at == at && !stopped[w.seq] {
					order = append(order, w.seq)
				}
			}
		}
		v.Advance(time.Second)
		require.Equal(t, order, got, "seed %d", seed)
	}
}

func TestVirtualRefusesThePast(t *testing.T) {
	v := NewVirtual()
	v.Advance(time.Second)
	require.Panics(t, func() { v.At(time.Millisecond, func() {}) })
	require.Panics(t, func() { v.AdvanceTo(0) })
}

func TestDriftLocalAndGlobalAreInverse(t *testing.T) {
	drifts := []Drift{
		{},
		{Offset: 5 * time.Second},
		{Offset: -3 * time.Second, DriftPPM: 200},
		{Offset: 7 * time.Millisecond, DriftPPM: -500},
		{DriftPPM: 100_000},
		{DriftPPM: -900_000},
	}
	for _, d := range drifts {
		require.NoError(t, d.Validate())
		for _, g := range []time.Duration{0, 1, 999, time.Millisecond, time.Second, 3*time.Hour + 17} {
			l := d.Local(g)
			back := d.Global(l)
			require.LessOrEqual(t, back, g, "drift %+v global %v: Global(Local(g)) must not be later than g", d, g)
			require.GreaterOrEqual(t, d.Local(back), l, "drift %+v global %v: deadline would fire early", d, g)
			require.Less(t, d.Local(back-1), l, "drift %+v global %v: Global must be the earliest time", d, g)
		}
	}
	require.Equal(t, time.Second+200*time.Microsecond, Drift{DriftPPM: 200}.Local(time.Second))
	require.Error(t, Drift{DriftPPM: -1_000_000}.Validate())
}

// TestVirtualTimersMaxPanics: a clock refuses a timer beyond its bound, and the panic
// prints the state a reader needs to find the leak.
func TestVirtualTimersMaxPanics(t *testing.T) {
	v := NewVirtual()
	require.Equal(t, TimersMax, v.timersMax, "a new clock has the default bound")
	v.timersMax = 3
	v.Advance(time.Second)
	for i := range 3 {
		v.AfterFunc(time.Duration(i+1)*time.Millisecond, func() {})
	}
	require.PanicsWithValue(t,
		"clock: 3 timers pending, the most a run may hold, at 1s (earliest at 1.001s, latest at 1.003s, 0 fired so far, next seq 4): a timer leak or a feedback loop",
		func() { v.AfterFunc(time.Hour, func() {}) })

	v = NewVirtual()
	v.timersMax = 3
	for range 3 {
		v.AfterFunc(time.Millisecond, func() {})
	}
	v.Step()
	require.NotPanics(t, func() { v.AfterFunc(time.Millisecond, func() {}) }, "a fired timer frees its place")
}
