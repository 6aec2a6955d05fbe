package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/zabkit/zabkit/clock"
	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim/vdisk"
)

// World is one seeded simulation: a virtual clock, a network, hosts and a trace.
type World struct {
	Seed  uint64
	Clock *clock.Virtual
	Net   *netsim.Network
	Trace *Trace

	settings []Setting
	hosts    []host
	byName   map[string]host
	// endpoint names, indexed by netsim.Endpoint, to render network events.
	names []string
}

// Setting is one configuration value derived from the seed (or set by hand), printed with
// every run so a reader knows what the seed meant.
type Setting struct {
	Name  string
	Value string
}

// Options configures a new world.
type Options struct {
	Seed uint64
	// Link is the default configuration of every network link.
	Link netsim.Link
	// Record keeps every trace event in memory so it can be printed; without it the trace
	// only keeps its running hash.
	Record bool
}

// NewWorld makes an empty world.
func NewWorld(o Options) *World {
	w := &World{
		Seed:   o.Seed,
		Clock:  clock.NewVirtual(),
		Trace:  NewTrace(o.Record),
		byName: map[string]host{},
	}
	w.Net = netsim.New(w.Clock, w.Stream("net"), o.Link)
	w.Net.SetObserver(w.observeNet)
	w.Set("seed", o.Seed)
	l := o.Link
	w.Set("net.latency", fmt.Sprintf("min=%v typical=%v tail=%v tailP=%.3f", l.Latency.Min, l.Latency.Typical, l.Latency.Tail, l.Latency.TailProbability))
	w.Set("net.loss", fmt.Sprintf("%.3f", l.LossProbability))
	w.Set("net.duplicate", fmt.Sprintf("%.3f", l.DuplicateProbability))
	return w
}

// Stream returns the world's random stream called name (see Stream).
func (w *World) Stream(name string) *rand.Rand { return Stream(w.Seed, name) }

// Set records a derived setting for Settings.
func (w *World) Set(name string, value any) {
	w.settings = append(w.settings, Setting{name, fmt.Sprint(value)})
}

// Settings lists every setting in the order it was made.
func (w *World) Settings() []Setting { return w.settings }

// SettingsText renders the settings one per line.
func (w *World) SettingsText() string {
	var b strings.Builder
	for _, s := range w.settings {
		fmt.Fprintf(&b, "  %-22s %s\n", s.Name, s.Value)
	}
	return b.String()
}

// Now is the global virtual time.
func (w *World) Now() time.Duration { return w.Clock.Now() }

// Note adds a free-form event to the trace.
func (w *World) Note(hostName, text string) {
	w.Trace.Add(Event{At: w.Now(), Kind: KindNote, Host: hostName, Text: text})
}

// Fault records a fault the world injected (partition, heal, ...).
func (w *World) Fault(text string) {
	w.Trace.Add(Event{At: w.Now(), Kind: KindFault, Text: text})
}

// RunUntil processes events in order until the clock passes until, the queue is empty, or
// eventsMax events have run (a bound on every loop: a livelocked world stops instead of
// spinning). It returns the number of events processed and leaves the clock at until
// unless the bound stopped it earlier.
func (w *World) RunUntil(until time.Duration, eventsMax int64) int64 {
	var n int64
	for n < eventsMax {
		at, ok := w.Clock.NextDeadline()
		if !ok || at > until {
			w.Clock.AdvanceTo(max(until, w.Clock.Now()))
			return n
		}
		w.Clock.Step()
		n++
	}
	return n
}

// Host returns the host called name.
func (w *World) Host(name string) (host, bool) {
	h, ok := w.byName[name]
	return h, ok
}

// HostNames lists the hosts in the order they were added.
func (w *World) HostNames() []string {
	names := make([]string, len(w.hosts))
	for i, h := range w.hosts {
		names[i] = h.Name()
	}
	return names
}

// Crash crashes the named host: it stops, its in-flight messages vanish, its disk loses
// what was not synced.
func (w *World) Crash(name string) {
	w.mustHost(name).crash()
}

// Restart boots a crashed host again from what its disk kept.
func (w *World) Restart(name string) {
	w.mustHost(name).restart()
}

// Corrupt flips one bit in a random synced block of a random file on the named host's
// disk (vdisk.Disk.CorruptRandomBlock), whether the host is up or down, and writes the
// flip into the trace as a fault. It flips nothing, and says why, when the host has no
// disk that can be corrupted or nothing synced on it yet.
func (w *World) Corrupt(name string) (vdisk.Corruption, error) {
	d, ok := w.mustHost(name).disk().(corruptible)
	if !ok {
		return vdisk.Corruption{}, fmt.Errorf("sim: host %s has no corruptible disk", name)
	}
	c, ok := d.CorruptRandomBlock()
	if !ok {
		return vdisk.Corruption{}, fmt.Errorf("sim: nothing synced on %s's disk", name)
	}
	w.Fault(fmt.Sprintf("bitflip %s %s offset=%d bit=%d", name, c.File, c.OffsetBytes, c.Bit))
	return c, nil
}

// corruptible is a disk that can flip its own bits: vdisk.Disk.
type corruptible interface {
	CorruptRandomBlock() (vdisk.Corruption, bool)
}

// IsUp reports whether the named host is running.
func (w *World) IsUp(name string) bool { return w.mustHost(name).up() }

func (w *World) mustHost(name string) host {
	h, ok := w.byName[name]
	if !ok {
		panic(fmt.Sprintf("sim: no host %q (hosts: %v)", name, w.HostNames()))
	}
	return h
}

// Endpoint returns the network endpoint of a host or client name.
func (w *World) Endpoint(name string) netsim.Endpoint {
	e, ok := w.Net.Lookup(name)
	if !ok {
		panic(fmt.Sprintf("sim: no endpoint %q", name))
	}
	return e
}

func (w *World) attach(name string, h netsim.Handler) netsim.Endpoint {
	e := w.Net.Attach(name, h)
	w.names = append(w.names, name)
	return e
}

func (w *World) observeNet(ev netsim.Event) {
	m := ev.Message
	e := Event{At: w.Now(), ID: m.ID, Size: int64(m.SizeBytes)}
	switch ev.Kind {
	case netsim.EventSend:
		e.Kind, e.Host, e.Peer, e.Digest = KindSend, w.names[m.From], w.names[m.To], PayloadDigest(m.Payload)
	case netsim.EventDeliver:
		e.Kind, e.Host, e.Peer, e.Digest = KindDeliver, w.names[m.To], w.names[m.From], PayloadDigest(m.Payload)
	case netsim.EventDrop:
		e.Kind, e.Host, e.Peer, e.Text = KindDrop, w.names[m.To], w.names[m.From], ev.Reason
	case netsim.EventDuplicate:
		e.Kind, e.Host, e.Peer = KindDuplicate, w.names[m.To], w.names[m.From]
	}
	w.Trace.Add(e)
}

// host is what the world needs of a host, whatever machine it runs.
type host interface {
	Name() string
	crash()
	restart()
	up() bool
	disk() Disk
}
