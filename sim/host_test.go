package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/clock"
	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
)

// probe is a scriptable machine for the host's own tests: it records every input with the
// local time it was handled at, answers each input with the outputs script gives, and
// asks for a tick at deadlineMs when hasDeadline.
type probe struct {
	log         *[]string
	script      func(in string) []probeOut
	deadlineMs  int64
	hasDeadline bool
}

// probeOut is an action the host carries out for the probe.
type probeOut func(h *sim.Host[string, probeOut])

func (p *probe) NextDeadline() (int64, bool) { return p.deadlineMs, p.hasDeadline }

func (p *probe) Handle(nowMs int64, in string) []probeOut {
	*p.log = append(*p.log, fmt.Sprintf("%d:%s", nowMs, in))
	if in == "tick" {
		p.hasDeadline = false
	}
	if p.script == nil {
		return nil
	}
	return p.script(in)
}

type probeHost struct {
	world *sim.World
	host  *sim.Host[string, probeOut]
	m     *probe // the machine of the current life
	log   []string
}

// newProbeHost adds one probe host "p" to a fresh recording world.
func newProbeHost(t *testing.T, o sim.HostOptions, script func(in string) []probeOut) *probeHost {
	t.Helper()
	w := sim.NewWorld(sim.Options{Seed: 1, Record: true, Link: netsim.Link{Latency: netsim.Latency{Min: time.Millisecond, Typical: time.Millisecond, Tail: time.Millisecond}}})
	ph := &probeHost{world: w}
	ph.host = sim.AddHost(w, "p", sim.Program[string, probeOut]{
		Boot: func(h *sim.Host[string, probeOut]) sim.Machine[string, probeOut] {
			ph.m = &probe{log: &ph.log, script: script}
			return ph.m
		},
		Message: func(from string, payload any) string { return payload.(string) },
		Tick:    func() string { return "tick" },
		Execute: func(h *sim.Host[string, probeOut], out probeOut) { out(h) },
	}, o)
	return ph
}

func (ph *probeHost) lines() string { return strings.Join(ph.world.Trace.Lines(), "\n") }

// TestCrashCancelsPendingAfterWork: work a host set with After dies with the process; a
// restart before its time does not revive it, and its coming due is a "timer void" line.
func TestCrashCancelsPendingAfterWork(t *testing.T) {
	ran := 0
	ph := newProbeHost(t, sim.HostOptions{}, nil)
	ph.host.After(10*time.Millisecond, func() { ran++ })
	ph.host.After(2*time.Millisecond, func() { ran += 100 })
	ph.world.RunUntil(5*time.Millisecond, 100)
	require.Equal(t, 100, ran, "the 2 ms callback runs, the 10 ms one is still pending")
	ph.world.Crash("p")
	ph.world.Restart("p")
	ph.world.RunUntil(time.Second, 100)
	require.Equal(t, 100, ran, "the 10 ms callback was set before the crash and must not run in the new life\n%s", ph.lines())
	require.Regexp(t, `(?m)^\s+2\.000000ms p\s+timer\s*$`, ph.lines())
	require.Regexp(t, `(?m)^\s+10\.000000ms p\s+timer\s+void$`, ph.lines())
}

// TestQueuedInputsKeepOrder: inputs a host gets while it carries out a machine's outputs
// wait until those outputs are done, then are handled in the order they came.
func TestQueuedInputsKeepOrder(t *testing.T) {
	var order []string
	ph := newProbeHost(t, sim.HostOptions{}, func(in string) []probeOut {
		if in != "a" {
			return []probeOut{func(*sim.Host[string, probeOut]) { order = append(order, "out of "+in) }}
		}
		return []probeOut{
			func(h *sim.Host[string, probeOut]) { order = append(order, "a.1"); h.Input("b"); h.Input("c") },
			func(h *sim.Host[string, probeOut]) { order = append(order, "a.2"); h.Input("d") },
		}
	})
	ph.host.Input("a")
	require.Equal(t, []string{"0:a", "0:b", "0:c", "0:d"}, ph.log, "inputs are handled in the order they were given")
	require.Equal(t, []string{"a.1", "a.2", "out of b", "out of c", "out of d"}, order,
		"every output of a runs before b is handled; b, c, d follow in order")
}

// TestInputsMaxPanics: a machine whose outputs feed it more inputs than InputsMax while one
// is handled is a feedback loop, and the host stops it with a panic naming the host.
func TestInputsMaxPanics(t *testing.T) {
	ph := newProbeHost(t, sim.HostOptions{InputsMax: 3}, func(in string) []probeOut {
		return []probeOut{func(h *sim.Host[string, probeOut]) { h.Input("again") }}
	})
	require.PanicsWithValue(t, "sim: host p queued 3 inputs while handling one: a feedback loop", func() {
		ph.host.Input("start")
	})

	ph = newProbeHost(t, sim.HostOptions{InputsMax: 3}, func(in string) []probeOut {
		if in != "start" {
			return nil
		}
		return []probeOut{func(h *sim.Host[string, probeOut]) { h.Input("1"); h.Input("2") }}
	})
	require.NotPanics(t, func() { ph.host.Input("start") }, "the input handled and two queued behind it fill InputsMax 3 exactly")
}

// TestIdleTimeIsJumped: a machine whose next deadline is an hour away costs the world one
// event, not an hour of ticks, and is ticked at exactly its deadline.
func TestIdleTimeIsJumped(t *testing.T) {
	ph := newProbeHost(t, sim.HostOptions{}, nil)
	ph.m.deadlineMs, ph.m.hasDeadline = time.Hour.Milliseconds(), true
	ph.host.Input("arm") // the host reads the deadline after an input
	events := ph.world.RunUntil(2*time.Hour, 1_000_000)
	require.EqualValues(t, 1, events, "one wake event for an hour of idle time\n%s", ph.lines())
	require.Equal(t, []string{"0:arm", "3600000:tick"}, ph.log)
	require.Equal(t, 2*time.Hour, ph.world.Now())
}

// TestDriftIsWiredIntoHosts: a host reads its local clock through its Drift, and its
// local deadlines fire at the earliest global time its clock reaches them.
func TestDriftIsWiredIntoHosts(t *testing.T) {
	d := clock.Drift{Offset: 5 * time.Second, DriftPPM: 1000} // 1 ms fast per second
	ph := newProbeHost(t, sim.HostOptions{Drift: d}, nil)
	require.EqualValues(t, 5000, ph.host.NowMs(), "at global 0 the local clock reads its offset")
	ph.world.RunUntil(time.Second, 100)
	require.EqualValues(t, 6001, ph.host.NowMs(), "after 1 s of global time a +1000 ppm clock gained 1 ms")

	ph.m.deadlineMs, ph.m.hasDeadline = 7002, true
	ph.host.Input("arm")
	ph.world.RunUntil(10*time.Second, 100)
	require.Equal(t, []string{"6001:arm", "7002:tick"}, ph.log)
	var wakeAt time.Duration
	for _, e := range ph.world.Trace.Events() {
		if e.Kind == sim.KindWake {
			wakeAt = e.At
		}
	}
	require.Equal(t, d.Global(7002*time.Millisecond), wakeAt, "the tick fires when the local clock reaches 7002 ms")
	require.Equal(t, 2*time.Second, wakeAt, "local 7002 ms = 5000 ms + 2 s * 1.001")
	require.Contains(t, ph.world.SettingsText(), "clock.p", "a host's drift is printed with the run's settings")
}

// TestHostStreamsAreIndependent: draws from a host's named stream do not shift its Rand or
// its other streams, and a name gives the same stream on every call.
func TestHostStreamsAreIndependent(t *testing.T) {
	draw := func(drawDisk int) (machine, retransmit []uint64) {
		ph := newProbeHost(t, sim.HostOptions{}, nil)
		for range drawDisk {
			ph.host.Stream("disk").Uint64()
		}
		for range 5 {
			machine = append(machine, ph.host.Rand().Uint64())
			retransmit = append(retransmit, ph.host.Stream("retransmit").Uint64())
		}
		return machine, retransmit
	}
	m0, r0 := draw(0)
	m1, r1 := draw(17)
	require.Equal(t, m0, m1, "disk draws must not shift the machine's stream")
	require.Equal(t, r0, r1, "disk draws must not shift another named stream")
	require.NotEqual(t, m0, r0, "named streams differ from Rand")

	ph := newProbeHost(t, sim.HostOptions{}, nil)
	require.Same(t, ph.host.Stream("disk"), ph.host.Stream("disk"), "one name, one stream")
}

// TestEveryTimerLeavesATraceLine: in a world where each timer does exactly one thing (the
// nemesis's wake-ups, of which every one here is a no-op, and a chain of After callbacks
// that only set the next), every timer that fired left exactly one trace line.
func TestEveryTimerLeavesATraceLine(t *testing.T) {
	ph := newProbeHost(t, sim.HostOptions{}, nil)
	w := ph.world
	var chain func()
	chain = func() { ph.host.After(7*time.Millisecond, chain) }
	chain()
	sim.StartNemesis(w, sim.NemesisOptions{Hosts: []string{"p"}, Interval: 10 * time.Millisecond, Until: time.Second,
		CrashWeight: 1, DownMax: 0, CutWeight: 1, PartitionWeight: 1})
	w.RunUntil(2*time.Second, 10_000)
	require.Positive(t, w.Clock.Fired())
	require.EqualValues(t, w.Clock.Fired(), w.Trace.Len(), "one line per timer fired\n%s", ph.lines())
	lines := ph.lines()
	for _, want := range []string{
		"nemesis  no crash, 0 of 1 hosts down (DownMax 0)",
		"nemesis  no cut of a single host",
		"nemesis  no partition of a single host",
		"fault phase over",
	} {
		require.Contains(t, lines, want)
	}
	require.Regexp(t, `(?m)^\s+7\.000000ms p\s+timer\s*$`, lines)
}
